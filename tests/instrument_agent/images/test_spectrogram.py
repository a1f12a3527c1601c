"""Spectrograms of generated signals: tones land on their rows, harmonics between rows are not
lost, a narrow picture of a long signal is the wide one's columns, one scale for several."""

from __future__ import annotations

import numpy as np

from instrument_agent.images import log_spectrogram, spectrogram_db, spectrogram_image, spectrogram_images


def tone(hz: float, sr: int = 16000, seconds: float = 1.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return level * np.sin(2 * np.pi * hz * t)


def test_a_tone_is_a_bright_row_at_its_frequency():
    image = spectrogram_image(tone(2000), 16000, height=161, max_hz=8000)
    row = int(np.argmax(image.sum(axis=(1, 2))))
    assert abs(row - (160 - 2000 / 8000 * 160)) <= 1  # row 0 is 8 kHz, the last row 0 Hz


def test_a_full_scale_sine_reads_near_zero_db():
    spec = log_spectrogram(tone(1000, level=1.0))
    assert spec.shape == (1 + (16000 - 1024) // 256, 513)
    assert -1.5 < spec.max() < 0.5 and spec.min() >= -120.0


def test_rows_fewer_than_bins_keep_every_harmonic_at_full_level():
    # 16 kHz: 512 bins up to 8 kHz drawn on 80 rows; each harmonic's row shows its peak bin
    sr = 16000
    harmonics = [310.0 * k for k in range(1, 12)]
    audio = sum(tone(hz, sr, level=0.05) for hz in harmonics)
    spec = log_spectrogram(audio)
    grid = spectrogram_db(audio, sr, height=80)
    assert grid.shape == (80, spec.shape[0]) and np.isfinite(grid).all()
    for hz in harmonics:
        bin_peak = spec[:, int(round(hz / (sr / 1024)))].max()
        row = int(round((8000 - hz) / 8000 * 79))
        assert grid[row - 1 : row + 2].max() > bin_peak - 0.5, hz


def test_rows_more_than_bins_interpolate():
    grid = spectrogram_db(tone(440, sr=8000), 8000, height=600, width=20, max_hz=None)
    assert grid.shape == (600, 20) and np.isfinite(grid).all()
    assert abs(int(np.argmax(grid[:, 10])) - (599 - 440 / 4000 * 599)) <= 2


def test_a_narrow_picture_is_the_wide_ones_columns():
    audio = np.random.default_rng(3).normal(0, 0.1, 60 * 16000)  # a minute of noise
    full = log_spectrogram(audio)
    narrow = log_spectrogram(audio, columns=50)
    picked = np.round(np.linspace(0, full.shape[0] - 1, 50)).astype(int)
    assert narrow.shape == (50, 513) and np.allclose(narrow, full[picked])


def test_several_pictures_share_one_scale():
    loud, quiet = spectrogram_images([tone(440), tone(440, level=0.005)], 16000, width=64)
    assert loud.shape == quiet.shape == (160, 64, 3)
    assert loud.sum(axis=2).max() > quiet.sum(axis=2).max() + 0.3  # 40 dB quieter: a darker tone
    alone = spectrogram_image(tone(440, level=0.005), 16000, width=64)
    assert np.allclose(alone, spectrogram_images([tone(440, level=0.005)], 16000, width=64)[0])
