"""A practice's preview: one held-out recording beside the learned personality's resynthesis of it.

Written by the evaluate stage into ``<workdir>/evaluate/preview/`` and carried in the bundle
under ``preview/`` (so an agent that synced the version can show it)::

    recording.wav      the held-out audio (16-bit PCM at the model's rate)
    resynthesis.wav    the personality playing that audio's own f0 and loudness
    recording.png      spectrograms (log magnitude, 0..8 kHz, one dB scale for both)
    resynthesis.png
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .png import write_png
from .spectrogram import spectrogram_images

__all__ = ["PREVIEW_DIR", "PREVIEW_FILES", "write_preview"]

PREVIEW_DIR = "preview"
PREVIEW_FILES = ("recording.wav", "resynthesis.wav", "recording.png", "resynthesis.png")


def write_preview(directory: str | Path, recording: np.ndarray, resynthesis: np.ndarray, sample_rate: int) -> Path:
    """Write the four preview files of ``recording`` and ``resynthesis`` ([n] float audio at ``sample_rate``).

    Returns ``directory``.
    """
    import soundfile

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n = min(len(recording), len(resynthesis))
    pair = {"recording": np.asarray(recording[:n], np.float64), "resynthesis": np.asarray(resynthesis[:n], np.float64)}
    pictures = spectrogram_images(list(pair.values()), sample_rate, width=400)
    for (name, audio), picture in zip(pair.items(), pictures, strict=True):
        soundfile.write(str(directory / f"{name}.wav"), np.clip(audio, -1.0, 1.0), int(sample_rate), subtype="PCM_16")
        write_png(directory / f"{name}.png", picture)
    return directory
