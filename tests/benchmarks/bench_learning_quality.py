"""Learning quality: held-out multi-scale spectral loss after a fixed CPU-time budget.

For each General MIDI instrument: a practice score (generated with mido) is
rendered with FluidR3 (the instrument to learn) and with TimGM6mb (another
sample library playing the same notes). The personality practises on the
FluidR3 render for at most ``--minutes`` of training; on the held-out end of
that render we compare the multi-scale spectral loss of

* the learned personality (resynthesis driven by the recording's own f0 and loudness),
* the same notes from the other soundfont (the bar, DESIGN.md "Targets"),
* the sine and the 1/k harmonic-stack baselines (the floor),

and print each as a ratio to the sine baseline measured in the same run.

Run: ``python tests/benchmarks/bench_learning_quality.py --minutes 3 --audio-minutes 3``
(needs ``apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from pipelines.data import Examples, resample  # noqa: E402
from pipelines.demo import practice_score, render_with_soundfont, write_midi  # noqa: E402
from pipelines.stages import features, ingest, spectral_loss  # noqa: E402

INSTRUMENTS = {  # name: (GM program, lowest, highest MIDI note)
    "violin": (40, 55, 88),
    "clarinet": (71, 50, 84),
    "trumpet": (56, 55, 80),
    "cello": (42, 36, 69),
    "flute": (73, 60, 93),
}


def _held_out_other(
    other_wav: Path, ingest_dir: Path, n_train_frames: int, holdout: Examples, sr: int, hop: int
) -> np.ndarray:
    """The other soundfont's audio at exactly the held-out examples' times."""
    import soundfile

    row = json.loads((ingest_dir / "recordings.json").read_text())["recordings"][0]
    audio, file_rate = soundfile.read(str(other_wav), dtype="float32", always_2d=True)
    audio = resample(audio.mean(axis=1), file_rate, sr)
    start = int(round(row["start_s"] * sr)) + n_train_frames * hop
    n = holdout.audio.shape[1]
    other = np.zeros_like(holdout.audio)
    for i in range(len(holdout)):
        piece = audio[start + i * n : start + (i + 1) * n]
        other[i, : piece.size] = piece
    return other


def run(instrument: str, minutes: float, audio_minutes: float, folder: Path, console: Console) -> dict:
    program, low, high = INSTRUMENTS[instrument]
    midi = write_midi(
        practice_score(audio_minutes * 60.0, low=low, high=high, seed=7),
        folder / f"{instrument}.mid",
        program=program,
        expression=True,
    )
    learn = render_with_soundfont(midi, "FluidR3", folder / f"{instrument}-FluidR3.wav")
    other = render_with_soundfont(midi, "TimGM6mb", folder / f"{instrument}-TimGM6mb.wav")
    profile = {"max_train_seconds": minutes * 60.0, "steps": 100_000, "checkpoint_every": 200}
    from pipelines.stages._artifacts import learner_profile

    resolved = learner_profile(profile)
    sr, hop = resolved.sample_rate, resolved.sample_rate // resolved.frame_rate
    work = folder / instrument
    ingest_dir = Path(ingest([learn], resolved, work))
    features_dir = Path(features(ingest_dir, resolved, work, cache_dir=folder / "cache"))
    holdout = Examples.load(features_dir / "holdout.npz")
    stats = json.loads((features_dir / "stats.json").read_text())
    total_frames = np.load(ingest_dir / "rec_000.npy", mmap_mode="r").size // hop
    n_train_frames = total_frames - stats["frames_per_example"] * len(holdout)
    other_audio = _held_out_other(other, ingest_dir, n_train_frames, holdout, sr, hop)
    loss_args = {"fft_sizes": list(resolved.fft_sizes)}
    figures = {"other soundfont": spectral_loss(holdout.audio, other_audio, **loss_args)}
    has_core = all(importlib.util.find_spec(m) is not None for m in ("pipelines.training", "pipelines.export"))
    if has_core:
        from instrument_agent.personality.store import PersonalityStore
        from pipelines.practice import PracticeRequest, run_practice

        started = time.process_time()
        request = PracticeRequest(instrument, audio=[learn], learner_profile=resolved, new=True, progress=True)
        practised = run_practice("imitation", request, folder / "home")
        manifest = PersonalityStore(folder / "home").get(instrument, practised.version).manifest
        figures["cpu seconds"] = time.process_time() - started
        figures.update(
            learned=manifest.metrics["eval/spectral_loss"],
            sine=manifest.metrics["baseline/sine"],
            stack=manifest.metrics["baseline/harmonic_1_over_k"],
        )
    else:
        from pipelines.baselines import harmonic_stack_baseline, sine_baseline

        console.print("[yellow]DDSP core not installed: baselines and the other soundfont only[/yellow]")
        fr = resolved.frame_rate
        figures["sine"] = spectral_loss(
            holdout.audio,
            np.stack([sine_baseline(f, ld, sr, fr) for f, ld in zip(holdout.f0_hz, holdout.loudness_db, strict=True)]),
            **loss_args,
        )
        figures["stack"] = spectral_loss(
            holdout.audio,
            np.stack(
                [
                    harmonic_stack_baseline(f, ld, sr, fr, resolved.n_harmonics)
                    for f, ld in zip(holdout.f0_hz, holdout.loudness_db, strict=True)
                ]
            ),
            **loss_args,
        )
    figures["held-out s"] = holdout.audio.size / sr
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per instrument (minutes)")
    parser.add_argument("--audio-minutes", type=float, default=3.0, help="minutes of rendered audio per instrument")
    parser.add_argument(
        "--instruments", nargs="+", default=["violin", "clarinet", "trumpet"], choices=sorted(INSTRUMENTS)
    )
    args = parser.parse_args(argv)
    console = Console()
    results = {}
    with tempfile.TemporaryDirectory(prefix="amadeus-bench-") as tmp:
        for name in args.instruments:
            console.print(f"[bold]{name}[/bold]")
            results[name] = run(name, args.minutes, args.audio_minutes, Path(tmp), console)
    table = Table(title=f"held-out multi-scale spectral loss (budget {args.minutes:g} min, ratio to the sine baseline)")
    for column in ("instrument", "learned", "other soundfont", "1/k stack", "sine", "held-out s"):
        table.add_column(column, justify="right")
    for name, f in results.items():

        def ratio(key: str, f: dict = f) -> str:
            return f"{f[key]:.3f} ({f[key] / f['sine']:.2f}×)" if key in f else "n/a"

        table.add_row(
            name, ratio("learned"), ratio("other soundfont"), ratio("stack"), ratio("sine"), f"{f['held-out s']:.0f}"
        )
    console.print(table)


if __name__ == "__main__":
    main()
