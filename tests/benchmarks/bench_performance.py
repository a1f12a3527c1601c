"""Performance benchmark of the instrument agent: prints figures, asserts nothing.

    python -m tests.benchmarks.bench_performance [--quick] [--repeats 3] [--old /path/to/old/checkout]

A personality of the default size (hidden 256, 1 MLP layer, GRU 256, 60 harmonics, 65 noise
bands, 50 frames/s, 16 kHz, a 0.5 s reverb) plays a scripted expressive MPE performance
(tests/instrument_agent/_mpe_performance.py: recorded-style vibrato, pressure swells, slides;
every note's bend, pressure and CC74 sent once a block, each at its own sample offset).

Each codebase (this one, and with ``--old`` another checkout, e.g. the code before a change)
runs in its own process on one core (BLAS threads pinned to 1), the two alternating
``--repeats`` times so both see the same load; the load average is printed.

* Streaming at 48 kHz, blocks of 128 and 64 samples, 1/4/8/16 voices, numpy and TFLite
  decoders: per-block compute (thread CPU time) as a fraction of the block period,
  p50/p99/max, the median over the runs with [min–max]; "cost p99" is the p99 of each
  block's minimum over the runs (every run does the same work block for block, and other
  processes or the hypervisor only add time), the figure least disturbed by a shared machine.
* Offline (engine calls of 8192 samples, as ``amadeus play``): × real time by CPU time,
  held notes and the MPE performance, 1 and 16 voices; and the TensorFlow baseline: the
  exported SavedModel (``serving_default``, decoder and synthesizer) called once with all
  voices' whole f0/loudness curves as one batch, at the model's 16 kHz.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
    os.environ[_var] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "instrument_agent"))
from _perform_support import make_personality  # noqa: E402

from instrument_agent.decoder import DecoderShape  # noqa: E402

SHAPE, FRAME_RATE = DecoderShape(256, 1, 256, 60, 65), 50
CHILD = Path(__file__).with_name("_performance_child.py")


def _cases() -> tuple[list[str], list[str]]:
    stream = [
        f"stream:{backend}:{voices}:{block}"
        for backend in ("numpy", "tflite")
        for block in (128, 64)
        for voices in (1, 4, 8, 16)
    ]
    offline = [
        f"offline:{kind}:{voices}:{rate}" for rate in (48000, 16000) for kind in ("held", "mpe") for voices in (1, 16)
    ]
    return stream, offline


def _child(code: Path, bundle: Path, seconds: float, cases: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    out = subprocess.run(
        [sys.executable, str(CHILD), str(bundle), str(seconds), *cases], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(f"{code}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _median_range(values: list[float], scale: float = 100.0, fmt: str | None = None) -> str:
    v = np.asarray(values) * scale
    fmt = fmt or ("{:.0f}" if v.min() >= 10 else "{:.2g}")
    return f"{fmt.format(np.median(v))} [{fmt.format(v.min())}–{fmt.format(v.max())}]"


def _stream_stats(runs: list[dict]) -> dict[str, object]:
    cpu = [np.asarray(r["cpu"]) for r in runs]
    n = min(c.size for c in cpu)
    per_block_min = np.min(np.stack([c[:n] for c in cpu]), axis=0)
    return {
        "p50": [float(np.percentile(c, 50)) for c in cpu],
        "p99": [float(np.percentile(c, 99)) for c in cpu],
        "max": [float(c.max()) for c in cpu],
        "cost p99": float(np.percentile(per_block_min, 99)),
        "wall p99": [float(np.percentile(r["wall"], 99)) for r in runs],
    }


def tensorflow_baseline(work: Path, voices: int, seconds: float, repeats: int) -> list[float]:
    """× real time (process CPU) of the exported SavedModel rendering ``voices`` whole curves in one call."""
    import tensorflow as tf

    from instrument_agent.profiles import default_learner_profile
    from pipelines.ddsp import build_model
    from pipelines.export import export

    saved = work / "tf-export"
    if not saved.exists():
        profile = default_learner_profile()
        profile.n_harmonics, profile.n_noise_bands = SHAPE.n_harmonics, SHAPE.n_noise_bands
        profile.hidden_size, profile.mlp_layers, profile.gru_units = (
            SHAPE.hidden_size,
            SHAPE.mlp_layers,
            SHAPE.gru_units,
        )
        profile.frame_rate = FRAME_RATE
        export(build_model(profile), profile, saved)
    serve = tf.saved_model.load(str(saved / "saved_model")).signatures["serving_default"]
    frames = int(seconds * FRAME_RATE)
    t = np.arange(frames) / FRAME_RATE
    f0 = np.stack([110.0 * 2 ** (v / 12) * (1 + 0.01 * np.sin(2 * np.pi * 5.5 * t)) for v in range(voices)])
    ld = np.stack([-30.0 + 6 * np.sin(2 * np.pi * 0.4 * t + v) for v in range(voices)])
    args = {"f0_hz": tf.constant(f0, tf.float32), "loudness_db": tf.constant(ld, tf.float32)}
    serve(**args)  # traced and warm
    rates = []
    for _ in range(repeats):
        c = time.process_time()
        serve(**args)["audio"].numpy()
        rates.append(seconds / (time.process_time() - c))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1.5 s of streaming per case (default 4 s)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure, alternating the codebases")
    parser.add_argument("--old", type=Path, help="a checkout of older code to measure side by side")
    parser.add_argument("--no-tensorflow", action="store_true", help="skip the TensorFlow baseline")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else 4.0
    work = Path(tempfile.mkdtemp(prefix="amadeus-bench-"))
    bundle = make_personality(work, shape=SHAPE, frame_rate=FRAME_RATE, reverb_seconds=0.5, tflite=True)
    codes = {"new": ROOT} | ({"old": args.old.resolve()} if args.old else {})
    stream_cases, offline_cases = _cases()
    loads = [os.getloadavg()[0]]
    runs: dict[str, list[dict]] = {name: [] for name in codes}
    for _ in range(max(1, args.repeats)):
        for name, code in codes.items():
            runs[name].append(_child(code, bundle.path, seconds, stream_cases + offline_cases))
            loads.append(os.getloadavg()[0])
    print(
        f"Amadeus agent performance: {_cpu_name()}, {os.cpu_count()} cores, "
        f"one core used; load average {min(loads):.1f}..{max(loads):.1f} during the runs; "
        f"{args.repeats} runs per figure, median [min–max]; CPU time of the engine's thread\n"
    )
    print("Streaming, 48 kHz, scripted MPE performance (bend + pressure + CC74 of every note every block):")
    print(
        "  % of the block period: p50 | p99 | max | cost p99 (per-block minimum over runs)"
        + (" | old" * ("old" in codes))
    )
    for case in stream_cases:
        _, backend, voices, block = case.split(":")
        new = _stream_stats([r[case] for r in runs["new"]])
        line = (
            f"  {backend:6s} {block:>3s} samples, {voices:>2s} voices: p50 {_median_range(new['p50'])}, "
            f"p99 {_median_range(new['p99'])}, max {_median_range(new['max'])}, cost p99 {100 * new['cost p99']:.0f}"
        )
        if "old" in codes:
            old = _stream_stats([r[case] for r in runs["old"]])
            ratio = np.median(old["p99"]) / np.median(new["p99"])
            line += f" | old p99 {_median_range(old['p99'])}, cost p99 {100 * old['cost p99']:.0f} ({ratio:.1f}× less)"
        print(line)
    print("\nOffline (8192-sample engine calls), × real time by CPU time:")
    for case in offline_cases:
        _, kind, voices, rate = case.split(":")
        new = [r[case]["x"] for r in runs["new"]]
        line = f"  {kind:4s} {int(rate) // 1000} kHz, {voices:>2s} voices: {_median_range(new, 1.0)}×"
        if "old" in codes:
            old = [r[case]["x"] for r in runs["old"]]
            line += f" | old {_median_range(old, 1.0)}× ({np.median(new) / np.median(old):.1f}× faster)"
        print(line)
    if not args.no_tensorflow:
        for voices in (1, 16):
            rates = tensorflow_baseline(work, voices, 2 * seconds, max(1, args.repeats))
            print(
                f"  TensorFlow SavedModel (one batched call), 16 kHz, {voices:2d} voices: {_median_range(rates, 1.0)}×"
            )


if __name__ == "__main__":
    main()
