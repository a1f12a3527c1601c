"""A practice's preview files: both sounds and both pictures, on one dB scale."""

from __future__ import annotations

import numpy as np
import soundfile

from instrument_agent.images import PREVIEW_FILES, decode_png, write_preview


def test_preview_writes_both_sounds_and_pictures_on_one_scale(tmp_path):
    sr = 16000
    t = np.arange(sr) / sr
    loud, quiet = 0.5 * np.sin(2 * np.pi * 440 * t), 0.005 * np.sin(2 * np.pi * 440 * t)
    write_preview(tmp_path / "preview", loud, quiet, sr)
    assert sorted(p.name for p in (tmp_path / "preview").iterdir()) == sorted(PREVIEW_FILES)
    audio, rate = soundfile.read(str(tmp_path / "preview" / "recording.wav"))
    assert rate == sr and np.allclose(audio, loud, atol=1e-4)
    pictures = [decode_png((tmp_path / "preview" / f"{n}.png").read_bytes()) for n in ("recording", "resynthesis")]
    assert pictures[0].shape == pictures[1].shape == (160, 400, 3)
    tone_row = [int(p.astype(int).sum(axis=2).max()) for p in pictures]
    assert tone_row[0] > tone_row[1] + 100  # one dB scale: the quieter sound draws the darker tone
