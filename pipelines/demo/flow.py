"""``amadeus demo``: from nothing to a playing personality in a few minutes.

1. Training audio: about 2.5 minutes of the project's bowed-string voice
   (:mod:`.voice`), or the same score rendered with a soundfont when
   ``soundfont`` is given (needs Debian's fluidsynth).
2. Imitation practice of the deu ``demo`` (:func:`pipelines.practice.run_practice`)
   with a small, CPU-friendly learnerProfile.
3. The bundled phrase (``instrument_agent/compare/phrase.mid``) rendered with the new personality by
   the agent's offline renderer to ``demo.wav``.
4. A summary: held-out multi-scale spectral loss of the personality and of the
   sine and 1/k baselines, training time and steps, version, output path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEMO_DEU", "DEMO_PROFILE", "DemoResult", "run_demo", "training_audio"]

DEMO_DEU = "demo"
DEMO_PROFILE = {
    "sample_rate": 16000,
    "frame_rate": 50,
    "example_seconds": 2.0,
    "batch_size": 8,
    "steps": 400,
    "checkpoint_every": 50,
    "holdout_fraction": 0.1,
    "max_train_seconds": 200.0,
}
"""The demo's learnerProfile overrides (the rest are the defaults): sized to
finish in about 5 minutes on 2 CPU cores."""


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced."""

    deu: str
    version: int
    metrics: dict[str, float]
    train_seconds: float
    steps: int
    training_audio: Path
    out: Path
    total_seconds: float


def training_audio(folder: Path, minutes: float, soundfont: str | Path | None = None) -> Path:
    """Write (once) and return the demo's training recording in ``folder``."""
    import soundfile

    from .score import practice_score, write_midi
    from .voice import bowed_string

    folder.mkdir(parents=True, exist_ok=True)
    if soundfont is not None:
        from .soundfont import find_soundfont, render_with_soundfont

        sf2 = find_soundfont(soundfont)
        path = folder / f"training-{sf2.stem}-{minutes:g}min.wav"
        if not path.is_file():
            midi = write_midi(
                practice_score(minutes * 60.0, low=55, high=79, seed=0),
                folder / "training.mid",
                program=40,
                expression=True,
            )
            render_with_soundfont(midi, sf2, path, sample_rate=16000)
        return path
    path = folder / f"training-bowed-string-{minutes:g}min.flac"
    if not path.is_file():
        audio = bowed_string(practice_score(minutes * 60.0, low=50, high=79, seed=0), 16000, seed=0)
        tmp = path.with_name(f".{path.name}.tmp.flac")
        soundfile.write(str(tmp), audio, 16000, subtype="PCM_24")
        tmp.replace(path)
    return path


def run_demo(
    out: str | Path = "demo.wav",
    *,
    minutes: float = 2.5,
    steps: int | None = None,
    soundfont: str | Path | None = None,
    home: str | Path | None = None,
    progress: bool = True,
) -> DemoResult:
    """Generate audio, practise the ``demo`` deu, render the phrase; see the module docstring."""
    from instrument_agent.personality.home import amadeus_home
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.render import render_midi_file
    from pipelines.practice import PracticeRequest, run_practice

    from .make_phrase import PHRASE_PATH

    begin = time.perf_counter()
    home = Path(home) if home is not None else amadeus_home()
    audio = training_audio(home / "demo", minutes, soundfont)
    profile = dict(DEMO_PROFILE)
    if steps:
        profile["steps"] = int(steps)
    started = time.perf_counter()
    request = PracticeRequest(DEMO_DEU, audio=[audio], learner_profile=profile, new=True, progress=progress)
    practised = run_practice("imitation", request, home)
    train_seconds = time.perf_counter() - started
    bundle = PersonalityStore(home).get(DEMO_DEU, practised.version)
    manifest = bundle.manifest
    result = render_midi_file(bundle, PHRASE_PATH, out, sample_rate=48000, show_progress=progress)
    return DemoResult(
        deu=DEMO_DEU,
        version=manifest.version,
        metrics=dict(manifest.metrics),
        train_seconds=train_seconds,
        steps=int(profile["steps"]),
        training_audio=audio,
        out=Path(result.path).resolve(),
        total_seconds=time.perf_counter() - begin,
    )
