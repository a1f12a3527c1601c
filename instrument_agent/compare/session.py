"""Render one phrase with two versions of a deu and measure how they differ.

The phrase is the bundled demo phrase (``phrase.mid`` beside this module, the only copy: eight
bars in D major, D3-G5, written by ``pipelines/demo/make_phrase.py``; the demo renders it too),
a MIDI file, or a recording (timbre transfer: both versions follow the recording's own pitch and
loudness). Writes ``<deu>-vA.wav``, ``<deu>-vB.wav`` and ``<deu>-vA-vB.png`` (the two
spectrograms side by side, A left).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.compare.metrics import Comparison, compare_audio
from instrument_agent.compare.spectrogram import side_by_side
from instrument_agent.images import write_png
from instrument_agent.personality import Bundle
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.render import RenderResult

__all__ = ["DEMO_PHRASE", "CompareResult", "compare_versions", "parse_version"]

DEMO_PHRASE = Path(__file__).with_name("phrase.mid")


@dataclass(frozen=True)
class CompareResult:
    """Both bundles, the files written and the measurements."""

    a: Bundle
    b: Bundle
    wav_a: Path
    wav_b: Path
    png: Path
    sample_rate: int
    comparison: Comparison


def parse_version(store: PersonalityStore, deu: str, text: str) -> int:
    """``"3"`` → 3; ``"champion"`` → the champion (an error when none); ``"latest"`` → the newest."""
    word = text.strip().lower().lstrip("v")
    if word.isdigit():
        return store.info(deu, int(word)).version
    if word == "latest":
        return store.latest_version(deu)
    if word == "champion":
        champion = store.champion(deu)
        if champion is None:
            raise ValueError(f"deu {deu!r} has no champion yet: promote one, or name a version number")
        return champion.version
    raise ValueError(f"version {text!r}: give a number, 'champion' or 'latest'")


def _render(
    bundle: Bundle, midi: Path | None, audio: Path | None, out: Path, sample_rate: int, progress: bool
) -> RenderResult:
    if audio is not None:
        from instrument_agent.render import transfer_timbre_file

        return transfer_timbre_file(bundle, audio, out, sample_rate=sample_rate, show_progress=progress)
    from instrument_agent.render import render_midi_file

    return render_midi_file(bundle, midi or DEMO_PHRASE, out, sample_rate=sample_rate, show_progress=progress)


def compare_versions(
    store: PersonalityStore,
    deu: str,
    a: int,
    b: int,
    out_dir: str | Path,
    *,
    midi: str | Path | None = None,
    audio: str | Path | None = None,
    sample_rate: int = 48000,
    show_progress: bool = True,
) -> CompareResult:
    """Render the phrase with ``deu`` v``a`` and v``b`` (both verified) into ``out_dir`` and compare.

    Raises what rendering raises (MidiFileError, NoteRangeError, AudioInputError …) before any
    file is replaced: each file is written atomically.
    """
    import soundfile

    if midi is not None and audio is not None:
        raise ValueError("give a MIDI file or a recording to compare on, not both")
    out_dir = Path(out_dir)
    bundles = store.get(deu, a), store.get(deu, b)
    wavs = out_dir / f"{deu}-v{a}.wav", out_dir / f"{deu}-v{b}.wav"
    if a == b:
        wavs = wavs[0], out_dir / f"{deu}-v{b}-again.wav"
    midi_path = Path(midi) if midi is not None else None
    audio_path = Path(audio) if audio is not None else None
    renders = [
        _render(bundle, midi_path, audio_path, wav, sample_rate, show_progress)
        for bundle, wav in zip(bundles, wavs, strict=True)
    ]
    signals = [soundfile.read(str(r.path), dtype="float32") for r in renders]
    rate = signals[0][1]
    audio_a, audio_b = (np.asarray(s[0], np.float32) for s in signals)
    png = write_png(out_dir / f"{deu}-v{a}-v{b}.png", side_by_side(audio_a, audio_b, rate))
    return CompareResult(bundles[0], bundles[1], wavs[0], wavs[1], png, rate, compare_audio(audio_a, audio_b, rate))
