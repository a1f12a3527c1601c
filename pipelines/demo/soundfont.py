"""Rendering MIDI with a General MIDI soundfont through Debian's ``fluidsynth`` CLI.

Optional: ``apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont``.
Used by ``amadeus demo --soundfont`` and the learning-quality benchmark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

__all__ = ["KNOWN_SOUNDFONTS", "SoundfontError", "find_soundfont", "fluidsynth_available", "render_with_soundfont"]

KNOWN_SOUNDFONTS = {
    "FluidR3": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    "TimGM6mb": Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
}
"""Where Debian's soundfont packages install their General MIDI banks."""


class SoundfontError(RuntimeError):
    """fluidsynth is missing, the soundfont is missing, or the render failed."""


def fluidsynth_available() -> bool:
    """True when the ``fluidsynth`` program is on PATH."""
    return shutil.which("fluidsynth") is not None


def find_soundfont(name_or_path: str | Path) -> Path:
    """A soundfont by path, or by a :data:`KNOWN_SOUNDFONTS` name; raises :class:`SoundfontError`."""
    path = KNOWN_SOUNDFONTS.get(str(name_or_path), Path(name_or_path))
    if not path.is_file():
        raise SoundfontError(
            f"{path}: no such soundfont (install Debian's fluid-soundfont-gm / timgm6mb-soundfont, or give a .sf2 path)"
        )
    return path


def render_with_soundfont(
    midi_path: str | Path,
    soundfont: str | Path,
    out_path: str | Path,
    *,
    sample_rate: int = 16000,
    gain: float = 0.5,
    timeout_s: float = 600.0,
) -> Path:
    """Render ``midi_path`` to a 16-bit WAV at ``sample_rate`` (reverb and chorus off), atomically.

    Raises:
        SoundfontError: fluidsynth or the soundfont is missing, or fluidsynth failed.
    """
    if not fluidsynth_available():
        raise SoundfontError("fluidsynth is not installed (apt-get install fluidsynth)")
    soundfont = find_soundfont(soundfont)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.parent / f".{out_path.stem}.{uuid.uuid4().hex[:8]}.wav"
    command = [
        "fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain), "-r", str(int(sample_rate)),
        "-F", str(tmp), "-T", "wav", "-O", "s16", str(soundfont), str(midi_path),
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
        if result.returncode != 0 or not tmp.is_file() or tmp.stat().st_size <= 44:
            raise SoundfontError(
                f"{midi_path}: fluidsynth failed ({result.returncode}): {result.stderr.strip()[-500:]}"
            )
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path
