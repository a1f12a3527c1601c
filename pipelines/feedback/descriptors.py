"""Spectral descriptors of audio, in TensorFlow (differentiable) with a numpy front.

For audio ``[n]`` at ``sample_rate`` with an f0 curve ``[F]`` at ``frame_rate``
(``n = F * hop``), from the power spectrogram (periodic Hann, 1024-point
FFT, hop = one control frame):

* ``brightness`` — spectral centroid relative to the fundamental, in octaves:
  energy-weighted mean over frames of ``log2(centroid_t / f0_t)``
  (pitch-independent, so regions of different notes compare);
* ``hnr_db`` — harmonic-to-noise ratio: power within ±1.5 bins of the
  harmonics ``k·f0_t`` over the power elsewhere, dB;
* ``level_db`` — mean power, dB re full scale.

:func:`descriptor_vector` scales them to comparable units
(octaves, HNR/10, level/10) for the feedback objective.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DESCRIPTOR_NAMES", "descriptor_vector", "measure", "measure_tf"]

DESCRIPTOR_NAMES = ("brightness", "hnr_db", "level_db")
_N_FFT = 1024
_SCALE = np.array([1.0, 0.1, 0.1], np.float32)


def measure_tf(audio, f0_hz, sample_rate: int, frame_rate: int):
    """Descriptors as a TF tensor ``[3]`` (brightness oct, HNR dB, level dB); differentiable in ``audio``.

    Args:
        audio: [n] float32 tensor. f0_hz: [F] Hz (numpy or tensor; no gradient).
    """
    import tensorflow as tf

    hop = sample_rate // frame_rate
    audio = tf.convert_to_tensor(audio, tf.float32)
    padded = tf.pad(audio, [[_N_FFT // 2, _N_FFT // 2]])
    spec = tf.signal.stft(
        padded, _N_FFT, hop, _N_FFT, window_fn=lambda n, dtype: tf.signal.hann_window(n, periodic=True, dtype=dtype)
    )
    power = tf.math.real(spec) ** 2 + tf.math.imag(spec) ** 2  # [F', 513]
    f0 = np.asarray(f0_hz, np.float32)
    frames = min(int(power.shape[0]), len(f0))
    power, f0 = power[:frames], np.maximum(f0[:frames], 20.0)
    freqs = np.fft.rfftfreq(_N_FFT, 1.0 / sample_rate).astype(np.float32)
    energy = tf.reduce_sum(power, axis=1) + 1e-12  # [F]
    centroid = tf.reduce_sum(power * freqs[None, :], axis=1) / energy
    weight = energy / tf.reduce_sum(energy)
    brightness = tf.reduce_sum(weight * tf.math.log(tf.maximum(centroid, 1.0) / f0) / np.log(2.0))
    bin_hz = sample_rate / _N_FFT
    nearest = np.round(freqs[None, :] / f0[:, None])
    harmonic = ((nearest >= 1) & (np.abs(freqs[None, :] - nearest * f0[:, None]) <= 1.5 * bin_hz)).astype(np.float32)
    h = tf.reduce_sum(power * harmonic) + 1e-12
    n = tf.reduce_sum(power * (1.0 - harmonic)) + 1e-12
    hnr_db = 10.0 * tf.math.log(h / n) / np.log(10.0)
    level_db = 10.0 * tf.math.log(tf.reduce_mean(audio**2) + 1e-12) / np.log(10.0)
    return tf.stack([brightness, hnr_db, level_db])


def measure(audio: np.ndarray, f0_hz: np.ndarray, sample_rate: int, frame_rate: int) -> dict[str, float]:
    """:func:`measure_tf` on numpy audio, as ``{name: value}`` (also ``centroid_hz``, the plain centroid)."""
    values = np.asarray(measure_tf(np.asarray(audio, np.float32), f0_hz, sample_rate, frame_rate), np.float64)
    out = dict(zip(DESCRIPTOR_NAMES, map(float, values), strict=True))
    out["centroid_hz"] = spectral_centroid_hz(audio, sample_rate)
    return out


def spectral_centroid_hz(audio: np.ndarray, sample_rate: int) -> float:
    """Energy-weighted spectral centroid of the whole clip, Hz (the benchmark's plain descriptor)."""
    spectrum = np.abs(np.fft.rfft(np.asarray(audio, np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1.0 / sample_rate)
    return float(np.sum(freqs * spectrum) / max(np.sum(spectrum), 1e-20))


def descriptor_vector(values):
    """Scale a ``[..., 3]`` descriptor tensor/array to the objective's units (octaves, HNR/10, level/10)."""
    return values * _SCALE
