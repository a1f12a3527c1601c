"""A family's training audio: seeded monophonic phrases per GM program, rendered by fluidsynth
(:func:`pipelines.demo.soundfont.render_with_soundfont`) from FluidR3_GM."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np

from pipelines.demo.soundfont import render_with_soundfont

from .families import SOUNDFONT, Family, Instrument

__all__ = ["phrase_notes", "render_family", "write_phrase"]


def phrase_notes(instrument: Instrument, seconds: float, seed: int) -> list[tuple[int, int, float]]:
    """Seeded (note, velocity, duration s) triples filling ``seconds``: a random walk in the range."""
    rng = np.random.default_rng([seed, instrument.program])
    notes, total = [], 0.0
    note = (instrument.low + instrument.high) // 2
    while total < seconds:
        note = int(np.clip(note + rng.integers(-5, 6), instrument.low, instrument.high))
        duration = float(rng.choice([0.25, 0.5, 0.75, 1.0, 1.5]))
        notes.append((note, int(rng.integers(55, 115)), duration))
        total += duration + 0.1
    return notes


def write_phrase(path: Path, instrument: Instrument, notes: list[tuple[int, int, float]]) -> Path:
    """A one-track MIDI file playing ``notes`` on ``instrument.program`` (120 bpm, 0.1 s gaps)."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack([mido.Message("program_change", program=instrument.program, time=0)])
    ticks = 960  # per second at 120 bpm
    for note, velocity, duration in notes:
        track.append(mido.Message("note_on", note=note, velocity=velocity, time=int(0.1 * ticks)))
        track.append(mido.Message("note_off", note=note, velocity=0, time=int(duration * ticks)))
    midi.tracks.append(track)
    midi.save(str(path))
    return path


def render_family(
    family: Family, out_dir: str | Path, *, seconds_per_instrument: float, sample_rate: int = 16000
) -> list[dict]:
    """Render every instrument's phrase into ``out_dir`` (a rerun reuses what is there).

    Returns one dict per instrument: program, name, notes (MIDI numbers used), seed, seconds, wav path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered = []
    for instrument in family.instruments:
        notes = phrase_notes(instrument, seconds_per_instrument, family.seed)
        stem = f"{instrument.program:03d}-{instrument.name.lower().replace(' ', '-')}"
        wav = out_dir / f"{stem}.wav"
        if not wav.is_file():
            render_with_soundfont(write_phrase(out_dir / f"{stem}.mid", instrument, notes), SOUNDFONT["path"], wav,
                                  sample_rate=sample_rate)  # fmt: skip
        rendered.append({
            "program": instrument.program, "name": instrument.name, "seed": family.seed,
            "notes": sorted({n for n, _, _ in notes}), "seconds": seconds_per_instrument, "wav": str(wav),
        })  # fmt: skip
    return rendered
