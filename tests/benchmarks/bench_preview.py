"""How often can a practice take a preview without slowing training by more than 5 %?

The default learnerProfile (MLPs 1×256, GRU 256, 60 harmonics, 65 bands, reverb 0.5 s; batch 8 of
4 s at 16 kHz) trains on synthesised harmonic examples with :class:`pipelines.training.PreviewWriter`
taking a preview (``decoder.npz`` + ``reverb_ir.npy`` as a verified bundle, atomically, into
``<work>/preview``) every N steps, N in ``--intervals``, and without previews, on one Trainer
(compiled once). Runs are interleaved (off, N1, N2, ... per repeat) so a shared machine's load
drifts over all of them alike; steps/s is timed between a run's first and last step (no setup, no
checkpoint), and the table prints the median over ``--repeats``. A second column derives the
slowdown from the median cost of one preview and the median step time measured in the same run
(the direct figure is noisy on a shared machine: a 5 % effect is near its noise).

    python -m tests.benchmarks.bench_preview [--steps 16] [--repeats 3] [--intervals 1,2,5,10,25,100]

Never asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def _examples(profile, count: int = 16) -> dict[str, np.ndarray]:
    """Harmonic tones (1/k² partials, vibrato, a swell) with their f0 and loudness."""
    from instrument_agent.features import compute_loudness

    sr, fr = profile.sample_rate, profile.frame_rate
    frames = int(profile.example_seconds * fr)
    n = frames * (sr // fr)
    rng = np.random.default_rng(0)
    audio, f0s, louds = [], [], []
    for _ in range(count):
        f0_frames = 196.0 * 2 ** rng.uniform(0, 1.5) * (1 + 0.01 * np.sin(2 * np.pi * 5 * np.arange(frames) / fr))
        f0 = np.interp(np.arange(n) / (sr // fr), np.arange(frames), f0_frames)
        phase = 2 * np.pi * np.cumsum(f0) / sr
        x = 0.3 * np.sin(np.pi * np.arange(n) / n) ** 0.5 * sum(np.sin(k * phase) / k**2 for k in range(1, 12))
        audio.append(x.astype(np.float32))
        f0s.append(f0_frames.astype(np.float32))
        louds.append(compute_loudness(x, sr, fr)[:frames])
    return {"audio": np.stack(audio), "f0_hz": np.stack(f0s), "loudness_db": np.stack(louds)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=16, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--intervals", default="1,2,5,10,25,100", help="preview_every values to time")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    intervals = [int(v) for v in args.intervals.split(",")]

    from instrument_agent.profiles import resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.training import PreviewWriter, Trainer

    profile = resolve_learner_profile(personality_pb2.LearnerProfile(checkpoint_every=10_000_000, device=args.device))
    examples = _examples(profile)
    manifest = personality_pb2.PersonalityManifest(
        deu="bench", sample_rate=profile.sample_rate, frame_rate=profile.frame_rate
    )
    manifest.learner_profile.CopyFrom(profile)
    with tempfile.TemporaryDirectory(prefix="amadeus-bench-preview-") as tmp:
        trainer = Trainer(profile, Path(tmp) / "ckpt", progress=False)
        writer = PreviewWriter(Path(tmp) / "work" / "preview", manifest)
        trainer.fit(examples, steps=3)  # compile
        rates: dict[str, list[float]] = {"off": [], **{str(n): [] for n in intervals}}
        step_seconds: list[float] = []
        preview_seconds: list[float] = []

        def timed_preview(step, loss, model):
            began = time.perf_counter()
            writer(step, loss, model)
            preview_seconds.append(time.perf_counter() - began)

        for repeat in range(args.repeats):
            for key in rates:
                trainer.profile.preview_every = -1 if key == "off" else int(key)
                stamps: list[float] = []
                trainer.fit(
                    examples,
                    steps=trainer.step + args.steps + 1,
                    on_step=lambda step, loss, stamps=stamps: stamps.append(time.perf_counter()),
                    on_preview=timed_preview,
                )
                rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
                rates[key].append(rate)
                if key == "off":
                    step_seconds.extend(np.diff(stamps))
                print(f"  repeat {repeat + 1}/{args.repeats}: preview every {key:>4}: {rate:.3f} steps/s", flush=True)
        size = sum(p.stat().st_size for p in writer.last.path.iterdir())

    step_s = statistics.median(step_seconds)
    one = statistics.median(preview_seconds)
    base = statistics.median(rates["off"])
    print(f"\npreview: {size / 1e6:.2f} MB, median {one * 1000:.1f} ms to take ({len(preview_seconds)} taken); ")
    print(f"step: median {step_s * 1000:.0f} ms ({base:.3f} steps/s without previews, median of {args.repeats})")
    print(
        f"\n{'preview every':>13} | {'steps/s (median)':>16} | {'slowdown, direct':>16} | {'slowdown, from cost':>19}"
    )
    print(f"{'-' * 13}-+-{'-' * 16}-+-{'-' * 16}-+-{'-' * 19}")
    print(f"{'off':>13} | {base:>16.3f} | {'-':>16} | {'-':>19}")
    for n in intervals:
        rate = statistics.median(rates[str(n)])
        derived = one / (n * step_s)
        print(f"{n:>13} | {rate:>16.3f} | {100 * (base / rate - 1):>15.1f}% | {100 * derived:>18.1f}%")
    fits = [n for n in intervals if one / (n * step_s) < 0.05]
    print(
        f"\nsmallest interval under 5 % (from the cost): every {fits[0] if fits else '> ' + str(intervals[-1])} steps"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
