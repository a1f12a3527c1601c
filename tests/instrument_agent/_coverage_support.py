"""A practised personality for the coverage tests: its map comes from real audio (harmonic tones
on known notes at two dynamics) through the agent's own f0 and loudness features, as the
features stage computes it from a recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instrument_agent import features
from instrument_agent.coverage_map import CoverageMap
from instrument_agent.dsp import midi_to_hz

SR, FRAME_RATE = 16000, 50
PRACTISED_NOTES = (60, 62, 64, 65, 67, 72, 74)  # C4 D4 E4 F4 G4, then C5 D5: F#4..B4 (4 semitones) is a gap
LEVELS = (0.05, 0.3)  # two dynamics, about -30 and -15 dB


def practice_audio(notes=PRACTISED_NOTES, levels=LEVELS, seconds: float = 1.0) -> np.ndarray:
    """[n] float32 at 16 kHz: each note at each level for ``seconds``, a quarter second of silence between."""
    t = np.arange(int(seconds * SR)) / SR
    parts = []
    for note in notes:
        f0 = float(midi_to_hz(note))
        tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8) if k * f0 < SR / 2)
        for level in levels:
            parts += [level * tone * np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02), np.zeros(SR // 4)]
    return np.concatenate(parts).astype(np.float32)


def practised_map(audio: np.ndarray | None = None) -> tuple[CoverageMap, float]:
    """(the map of ``audio`` — default :func:`practice_audio` —, its loudest frame in dB)."""
    audio = practice_audio() if audio is None else audio
    f0, confidence = features.compute_f0(audio, SR, FRAME_RATE, method="yin")
    loudness = features.compute_loudness(audio, SR, FRAME_RATE)
    return CoverageMap.from_frames(f0, confidence, loudness, FRAME_RATE), float(np.max(loudness))


def practised_personality(tmp_path: Path, **kwargs):
    """A personality (random decoder) whose manifest holds :func:`practised_map`."""
    from _perform_support import make_personality

    coverage, loudest = practised_map()
    return make_personality(tmp_path, coverage=coverage, loudness_db_max=loudest, **kwargs)


def practised_personality_with_preview(tmp_path: Path, *, seed: int = 0, deu: str = "cello"):
    """:func:`practised_personality` whose bundle also holds a preview (``preview/``: the evaluate
    stage's files): two seconds of the practice audio beside this decoder's timbre transfer of them."""
    from _perform_support import make_personality

    from instrument_agent.engine import Engine
    from instrument_agent.images import write_preview
    from instrument_agent.render import transfer_timbre

    coverage, loudest = practised_map()
    draft = tmp_path / "draft"
    draft.mkdir(parents=True, exist_ok=True)
    first = make_personality(draft, seed=seed, deu=deu, coverage=coverage, loudness_db_max=loudest)
    recording = practice_audio()[: 2 * SR]
    f0, _ = features.compute_f0(recording, SR, FRAME_RATE, method="yin")
    loudness = features.compute_loudness(recording, SR, FRAME_RATE)
    engine = Engine.from_bundle(first, sample_rate=SR, backend="numpy")
    resynthesis = transfer_timbre(engine, f0, loudness)[: recording.size]
    preview = write_preview(tmp_path / "preview", recording, resynthesis, SR)
    return make_personality(
        tmp_path, seed=seed, deu=deu, coverage=coverage, loudness_db_max=loudest, extra_files={"preview": preview}
    )
