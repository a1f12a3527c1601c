"""A case no playerProfile knob expresses, for the fine-tune's test and benchmark
(``tests/benchmarks/bench_feedback_finetune.py``): a clarinet and a violin (FluidR3 General MIDI
renders through Debian's fluidsynth, the same notes), a performance whose first half is the
clarinet's notes and second half the violin's, and held-out notes of both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from instrument_agent import features as agent_features
from instrument_agent.audio import read_mono
from pipelines.demo import practice_score, render_with_soundfont, write_midi
from pipelines.feedback import parse_region

SR, FR = 16000, 50
CLARINET, VIOLIN = 71, 40  # General MIDI programs: the liked and the disliked instrument
REGIONS = (parse_region("0.5-5.5", "good"), parse_region("6.5-11.5", "bad"))  # clarinet, violin


@dataclass(frozen=True)
class Duo:
    """train: the two instruments' practice audio (FLAC paths, the same notes); performance: the
    judged WAV (12 s: clarinet, then violin from 6 s); held_out: instrument → (f0 [F] Hz,
    loudness [F] dB, audio [F·hop]) of notes neither the practice nor the performance played."""

    train: tuple[str, ...]
    performance: Path
    held_out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]


def _render(folder: Path, seed: int, seconds: float, program: int, name: str) -> np.ndarray:
    notes = practice_score(seconds, low=57, high=74, seed=seed)
    midi = write_midi(notes, folder / f"{name}.mid", program=program)
    return read_mono(render_with_soundfont(midi, "FluidR3", folder / f"{name}.wav", sample_rate=SR), SR).audio


def curves(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0 Hz, loudness dB, audio trimmed to whole frames) as a practice extracts them (yin)."""
    f0 = agent_features.compute_f0(audio, SR, FR, method="yin")
    f0 = np.asarray(f0[0] if isinstance(f0, tuple) else f0)
    loudness = np.asarray(agent_features.compute_loudness(audio, SR, FR))
    frames = min(len(f0), len(loudness), len(audio) // (SR // FR))
    return f0[:frames], loudness[:frames], audio[: frames * (SR // FR)]


def render_duo(folder: Path, train_seconds: float = 20.0, held_out_seconds: float = 8.0) -> Duo:
    """Render the case into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    train = []
    for program, name in ((CLARINET, "clarinet"), (VIOLIN, "violin")):
        path = folder / f"train-{name}.flac"
        soundfile.write(path, _render(folder, 3, train_seconds, program, f"train-{name}"), SR)
        train.append(str(path))
    liked, disliked = _render(folder, 5, 12.0, CLARINET, "perf-x"), _render(folder, 5, 12.0, VIOLIN, "perf-y")
    n = min(len(liked), len(disliked))
    performance = folder / "performance.wav"
    soundfile.write(performance, np.concatenate([liked[: 6 * SR], disliked[6 * SR : n]]), SR)
    held_out = {
        "clarinet": curves(_render(folder, 9, held_out_seconds, CLARINET, "held-x")),
        "violin": curves(_render(folder, 9, held_out_seconds, VIOLIN, "held-y")),
    }
    return Duo(tuple(train), performance, held_out)


def held_out_distances(bundle, duo: Duo) -> dict[str, float]:
    """Multi-scale spectral distance of ``bundle``'s resynthesis of each instrument's held-out notes
    (driven by that recording's own f0 and loudness, rendered by the agent's engine with the
    version's playerProfile) to the recording."""
    from instrument_agent.engine import Engine
    from instrument_agent.render import transfer_timbre
    from pipelines.stages.evaluate import spectral_loss

    out = {}
    for name, (f0, loudness, audio) in duo.held_out.items():
        engine = Engine.from_bundle(
            bundle, sample_rate=SR, backend="numpy", player_profile=bundle.manifest.player_profile
        )
        out[name] = spectral_loss(audio, transfer_timbre(engine, f0, loudness)[: len(audio)])
    return out
