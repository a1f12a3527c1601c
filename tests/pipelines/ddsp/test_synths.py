"""Synthesizers against analytic facts: peak frequency and amplitude, Nyquist, filter response, reverb."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from pipelines.ddsp import FilteredNoise, Harmonic, Reverb, SynthConfigError, noise_impulse_responses


def _spectrum(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude spectrum (a sine of amplitude A on a bin reads A) and bin frequencies."""
    mag = np.abs(np.fft.rfft(audio)) * 2.0 / audio.size
    return np.fft.rfftfreq(audio.size, 1.0 / sample_rate), mag


@pytest.mark.parametrize("sample_rate,frame_rate", [(16000, 50), (48000, 250)])
def test_one_harmonic_at_440_hz_peaks_at_440_with_the_asked_amplitude(sample_rate, frame_rate):
    frames = frame_rate  # one second: 1 Hz bins, 440 Hz on a bin
    amplitude = np.full((1, frames, 1), 0.37, np.float32)
    dist = np.ones((1, frames, 1), np.float32)
    f0 = np.full((1, frames, 1), 440.0, np.float32)
    audio = Harmonic(sample_rate, frame_rate)(amplitude, dist, f0).numpy()[0]
    assert audio.shape == (sample_rate,)
    freqs, mag = _spectrum(audio, sample_rate)
    peak = int(np.argmax(mag))
    assert freqs[peak] == pytest.approx(440.0)
    assert mag[peak] == pytest.approx(0.37, rel=1e-3)
    # Nothing else: every other bin is at least 80 dB down.
    others = np.delete(mag, peak)
    assert others.max() < 0.37 * 1e-4


def test_harmonics_above_nyquist_are_silent_and_the_rest_renormalised():
    sample_rate, frame_rate, frames = 16000, 50, 50
    amplitude = np.full((1, frames, 1), 0.8, np.float32)
    dist = np.ones((1, frames, 10), np.float32)  # 3, 6, 9, ... 30 kHz
    f0 = np.full((1, frames, 1), 3000.0, np.float32)
    audio = Harmonic(sample_rate, frame_rate)(amplitude, dist, f0).numpy()[0]
    freqs, mag = _spectrum(audio, sample_rate)
    for hz in (3000.0, 6000.0):
        assert mag[np.argmin(np.abs(freqs - hz))] == pytest.approx(0.4, rel=1e-3)
    rest = mag.copy()
    rest[[np.argmin(np.abs(freqs - 3000.0)), np.argmin(np.abs(freqs - 6000.0))]] = 0
    # Aliases of 9 kHz (7 kHz), 12 kHz (4 kHz), 15 kHz (1 kHz)... would show here.
    assert rest.max() < 1e-5


def test_a_glide_across_nyquist_silences_the_harmonic_sample_by_sample():
    sample_rate, frame_rate = 16000, 50
    frames = 100
    f0 = np.linspace(2000.0, 4500.0, frames, dtype=np.float32)[None, :, None]
    dist = np.array([0.0, 1.0], np.float32)[None, None, :] * np.ones((1, frames, 1), np.float32)
    audio = Harmonic(sample_rate, frame_rate)(np.ones((1, frames, 1), np.float32), dist, f0).numpy()[0]
    # The 2nd harmonic reaches 8 kHz at f0 = 4 kHz (frame 79.2): silent after it.
    silent_from = 80 * (sample_rate // frame_rate) + sample_rate // frame_rate
    assert np.max(np.abs(audio[silent_from:])) == 0.0
    assert np.max(np.abs(audio[: 70 * (sample_rate // frame_rate)])) > 0.9


def test_filtered_noise_magnitude_response_matches_the_requested_bands():
    sample_rate, frame_rate, n_bands = 16000, 50, 65
    band_hz = np.linspace(0.0, sample_rate / 2, n_bands)
    # A smooth request: a 4 kHz-wide bump over a -20 dB floor.
    requested = (0.1 + 0.9 * np.exp(-0.5 * ((band_hz - 3000.0) / 1200.0) ** 2)).astype(np.float32)
    frames, batch = 500, 8
    mags = np.broadcast_to(requested, (batch, frames, n_bands)).astype(np.float32)
    audio = FilteredNoise(sample_rate, frame_rate, seed=3)(mags).numpy()
    assert audio.shape == (batch, frames * sample_rate // frame_rate)
    # Average power spectrum (Welch, Hann, 512-sample segments) of 40 s of noise.
    seg = 512
    segments = audio[:, : (audio.shape[1] // seg) * seg].reshape(-1, seg)
    window = np.hanning(seg)
    power = np.mean(np.abs(np.fft.rfft(segments * window, axis=-1)) ** 2, axis=0) / np.sum(window**2)
    # Uniform noise in [-1, 1] has variance 1/3; the filter's gain is |H| = requested magnitude.
    measured = np.sqrt(power * 3.0)
    freqs = np.fft.rfftfreq(seg, 1.0 / sample_rate)
    expected = np.interp(freqs, band_hz, requested)
    inner = (freqs > 200) & (freqs < sample_rate / 2 - 200)
    error_db = 20 * np.log10(measured[inner] / expected[inner])
    # Stated tolerance: within 1.5 dB everywhere (Hann-windowed 128-tap FIR, 40 s estimate).
    assert np.max(np.abs(error_db)) < 1.5, np.max(np.abs(error_db))


def test_noise_impulse_responses_are_linear_phase_hann_windowed():
    mags = np.random.default_rng(0).random((1, 1, 33)).astype(np.float32)
    ir = noise_impulse_responses(mags).numpy()[0, 0]
    assert ir.shape == (64,)
    # Symmetric about the centre (linear phase), zero at the window's edge.
    np.testing.assert_allclose(ir[1:], ir[1:][::-1], atol=1e-6)
    assert ir[0] == 0.0


def test_filtered_noise_is_deterministic_without_a_seed_and_fresh_with_one():
    noise = FilteredNoise(16000, 100, seed=1)
    mags = np.ones((1, 10, 9), np.float32)
    a, b = noise(mags).numpy(), noise(mags).numpy()
    np.testing.assert_array_equal(a, b)
    c = noise(mags, seed=tf.constant([5, 6], tf.int32)).numpy()
    assert not np.allclose(a, c)


def test_reverb_adds_the_impulse_response_to_the_dry_signal():
    reverb = Reverb(16000, 0.01, seed=0)
    taps = reverb.n_taps
    assert taps == 160
    impulse = np.zeros((1, 1000), np.float32)
    impulse[0, 10] = 1.0
    out = reverb(impulse).numpy()[0]
    ir = reverb.impulse_response().numpy()
    assert ir[0] == 0.0
    expected = impulse[0].copy()
    expected[10 : 10 + taps] += ir
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_reverb_impulse_response_is_trainable():
    reverb = Reverb(16000, 0.01, seed=0)
    x = tf.constant(np.random.default_rng(1).standard_normal((2, 800)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(reverb(x) ** 2)
    (grad,) = tape.gradient(loss, reverb.trainable_variables)
    assert grad.shape == (160,)
    assert np.all(np.isfinite(grad.numpy())) and np.abs(grad.numpy()[1:]).max() > 0


def test_frame_rate_must_divide_sample_rate():
    with pytest.raises(SynthConfigError, match="frame_rate=300 must .* divide sample_rate=16000"):
        Harmonic(16000, 300)
    with pytest.raises(SynthConfigError, match="reverb_seconds"):
        Reverb(16000, 0.0)
