"""DSP building blocks in TensorFlow (float32 unless stated).

Conventions shared with the agent's numpy synth (docs/contracts.md):

* control frame ``t`` is centred on audio sample ``t * hop`` with
  ``hop = sample_rate / frame_rate`` (the feature extractor's convention);
* frame-rate controls become audio-rate signals by linear interpolation from
  frame ``t`` (at sample ``t * hop``) to frame ``t + 1``; the last frame is
  held for its hop, so ``T`` frames give exactly ``T * hop`` samples;
* the oscillator phase is the running sum of ``2π f / sample_rate`` including
  the current sample (DDSP's ``angular_cumsum``), accumulated in float64 and
  wrapped to ``[0, 2π)``.
"""

from __future__ import annotations

import math

import tensorflow as tf

from instrument_agent.dsp import DB_RANGE  # the one definition; re-exported (``ld / DB_RANGE + 1``)

__all__ = [
    "DB_RANGE",
    "angular_cumsum",
    "exp_sigmoid",
    "hz_to_midi",
    "midi_to_hz",
    "normalize_distribution",
    "remove_above_nyquist",
    "safe_log",
    "upsample_linear",
]


_LOG_10 = math.log(10.0)


def exp_sigmoid(x: tf.Tensor, exponent: float = 10.0, max_value: float = 2.0, threshold: float = 1e-7) -> tf.Tensor:
    """DDSP's scaled sigmoid: ``max_value * sigmoid(x) ** log(exponent) + threshold``.

    Positive, smooth, with a large dynamic range (about -140..+6 dB).
    Any shape in, same shape out.
    """
    x = tf.convert_to_tensor(x, tf.float32)
    return max_value * tf.math.pow(tf.math.sigmoid(x), math.log(exponent)) + threshold


def hz_to_midi(f_hz: tf.Tensor) -> tf.Tensor:
    """Frequency (Hz) to MIDI note number: ``12 log2(f / 440) + 69``.

    ``f`` is clipped to at least 1e-3 Hz and the result to at least 0
    (MIDI 0 for f <= 8.18 Hz, so unvoiced frames with f0 = 0 stay finite).
    Any shape in, same shape out.
    """
    f_hz = tf.convert_to_tensor(f_hz, tf.float32)
    midi = 12.0 * (tf.math.log(tf.maximum(f_hz, 1e-3) / 440.0) / math.log(2.0)) + 69.0
    return tf.maximum(midi, 0.0)


def midi_to_hz(midi: tf.Tensor) -> tf.Tensor:
    """MIDI note number to Hz: ``440 * 2 ** ((midi - 69) / 12)``. Any shape."""
    midi = tf.convert_to_tensor(midi, tf.float32)
    return 440.0 * tf.math.pow(2.0, (midi - 69.0) / 12.0)


def safe_log(x: tf.Tensor, eps: float = 1e-5) -> tf.Tensor:
    """``log(max(x, eps))``: finite for x = 0. Any shape."""
    return tf.math.log(tf.maximum(tf.convert_to_tensor(x, tf.float32), eps))


def upsample_linear(x: tf.Tensor, hop: int) -> tf.Tensor:
    """Frame-rate controls to audio rate by linear interpolation.

    Args:
        x: [B, T, C] values per control frame.
        hop: samples per frame (``sample_rate // frame_rate``), a Python int.

    Returns:
        [B, T * hop, C]: sample ``t * hop + j`` is
        ``x[t] + (x[t+1] - x[t]) * j / hop`` (``x[T] = x[T-1]``: the last frame is held).
    """
    x = tf.convert_to_tensor(x)
    nxt = tf.concat([x[:, 1:], x[:, -1:]], axis=1)  # [B, T, C]
    w = tf.cast(tf.range(hop), x.dtype) / tf.cast(hop, x.dtype)  # [hop]
    w = w[None, None, :, None]
    out = x[:, :, None, :] + (nxt - x)[:, :, None, :] * w  # [B, T, hop, C]
    shape = tf.shape(x)
    return tf.reshape(out, [shape[0], shape[1] * hop, shape[2]])


def angular_cumsum(frequency_hz: tf.Tensor, sample_rate: float) -> tf.Tensor:
    """Oscillator phase from an instantaneous frequency, precise over long signals.

    Args:
        frequency_hz: [B, n] Hz per sample.
        sample_rate: Hz.

    Returns:
        [B, n] float32 phase in radians, wrapped to ``[0, 2π)``: sample ``i``
        holds ``sum_{j<=i} 2π f[j] / sample_rate`` (summed in float64).
    """
    step = tf.cast(frequency_hz, tf.float64) * (2.0 * math.pi / float(sample_rate))
    phase = tf.math.floormod(tf.math.cumsum(step, axis=-1), 2.0 * math.pi)
    return tf.cast(phase, tf.float32)


def remove_above_nyquist(harmonic_amplitudes: tf.Tensor, f0_hz: tf.Tensor, sample_rate: float) -> tf.Tensor:
    """Zero the harmonics whose frequency ``k * f0`` (k = 1..H) is at or above Nyquist.

    Args:
        harmonic_amplitudes: [..., H].
        f0_hz: [..., 1] Hz (broadcasts against the harmonics).
        sample_rate: Hz.

    Returns:
        [..., H] with the inaudible harmonics set to 0.
    """
    n_harmonics = harmonic_amplitudes.shape[-1]
    k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
    audible = k * tf.cast(f0_hz, tf.float32) < sample_rate / 2.0
    return tf.where(audible, harmonic_amplitudes, tf.zeros_like(harmonic_amplitudes))


def normalize_distribution(distribution: tf.Tensor) -> tf.Tensor:
    """Scale the last axis to sum to 1 (an all-zero row stays zero). Any shape [..., H]."""
    total = tf.reduce_sum(distribution, axis=-1, keepdims=True)
    return distribution / tf.where(total > 0.0, total, tf.ones_like(total))
