"""The DDSP synthesizers as Keras layers: harmonic oscillators, filtered noise, reverb.

They follow docs/contracts.md ("Synthesis") so the agent's numpy synth
(:mod:`instrument_agent.synth`) renders the same sound. Sample rate and
frame rate are constructor arguments (from the learnerProfile), never constants.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from .core import angular_cumsum, normalize_distribution, remove_above_nyquist, upsample_linear

__all__ = ["FilteredNoise", "Harmonic", "Reverb", "SynthConfigError", "noise_impulse_responses"]


class SynthConfigError(ValueError):
    """A synthesizer was asked for an impossible configuration (names the argument)."""


def _hop(sample_rate: int, frame_rate: int) -> int:
    if sample_rate <= 0 or frame_rate <= 0 or sample_rate % frame_rate:
        raise SynthConfigError(
            f"frame_rate={frame_rate} must be positive and divide sample_rate={sample_rate} "
            "(whole samples per control frame)"
        )
    return sample_rate // frame_rate


class Harmonic(keras.layers.Layer):
    """Additive synthesizer: H harmonics of f0 with a shared amplitude and a distribution.

    Harmonic ``k`` (1..H) runs at ``k * f0``; harmonics with ``k * f0 >= sample_rate / 2``
    (per frame, and per sample as f0 moves) get 0; the distribution is renormalised
    to sum 1 per frame and scaled by the amplitude; amplitudes and f0 are
    interpolated linearly to audio rate (:func:`~pipelines.ddsp.core.upsample_linear`).

    Args:
        sample_rate: Hz.
        frame_rate: control frames per second (must divide ``sample_rate``).

    Call:
        ``amplitude [B, T, 1]`` (linear), ``harmonic_distribution [B, T, H]``
        (non-negative, un-normalised), ``f0_hz [B, T, 1]`` (Hz) →
        ``audio [B, T * hop]`` float32.
    """

    def __init__(self, sample_rate: int, frame_rate: int, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.frame_rate = int(frame_rate)
        self.hop = _hop(self.sample_rate, self.frame_rate)

    def harmonic_amplitudes(self, amplitude, harmonic_distribution, f0_hz):
        """Per-harmonic linear amplitudes per frame: [B, T, H] (masked, normalised, scaled)."""
        dist = remove_above_nyquist(harmonic_distribution, f0_hz, self.sample_rate)
        return amplitude * normalize_distribution(dist)

    def call(self, amplitude, harmonic_distribution, f0_hz):
        amps = self.harmonic_amplitudes(amplitude, harmonic_distribution, f0_hz)  # [B, T, H]
        hop = self.hop
        n_harmonics = amps.shape[-1]
        shape = tf.shape(amps)
        batch, frames = shape[0], shape[1]
        # The sine table depends only on f0 (an input): no gradient flows through it.
        f0_audio = upsample_linear(tf.cast(f0_hz, tf.float32), hop)[..., 0]  # [B, n]
        phase = angular_cumsum(f0_audio, self.sample_rate)  # [B, n]
        k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
        sines = tf.sin(phase[..., None] * k)  # [B, n, H]
        sines *= tf.cast(f0_audio[..., None] * k < self.sample_rate / 2.0, tf.float32)
        sines = tf.stop_gradient(tf.reshape(sines, [batch, frames, hop, n_harmonics]))
        # Linear interpolation of the amplitudes inside a frame, as one batched matmul:
        # audio[t, j] = (1 - j/hop) * sines[t, j] . a[t] + (j/hop) * sines[t, j] . a[t+1].
        nxt = tf.concat([amps[:, 1:], amps[:, -1:]], axis=1)
        pair = tf.stack([amps, nxt], axis=-1)  # [B, T, H, 2]
        both = tf.matmul(sines, pair)  # [B, T, hop, 2]
        w = tf.range(hop, dtype=tf.float32) / float(hop)
        audio = both[..., 0] * (1.0 - w) + both[..., 1] * w  # [B, T, hop]
        return tf.reshape(audio, [batch, frames * hop])

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "frame_rate": self.frame_rate}


def noise_impulse_responses(noise_magnitudes: tf.Tensor) -> tf.Tensor:
    """Linear-phase FIRs by frequency sampling (DDSP's ``frequency_impulse_response``).

    Args:
        noise_magnitudes: [B, T, N] linear magnitudes of N bands spaced evenly
            from 0 Hz to Nyquist.

    Returns:
        [B, T, L] impulse responses, ``L = 2 * (N - 1)``: zero-phase inverse
        real FFT, shifted to causal (centre at L/2) and multiplied by a periodic Hann window.
    """
    mags = tf.cast(noise_magnitudes, tf.float32)
    ir = tf.signal.irfft(tf.complex(mags, tf.zeros_like(mags)))  # [B, T, L]
    size = ir.shape[-1]
    ir = tf.roll(ir, shift=size // 2, axis=-1)
    return ir * tf.signal.hann_window(size, periodic=True)


class FilteredNoise(keras.layers.Layer):
    """Uniform noise in [-1, 1] shaped per control frame by a linear-phase FIR.

    Each frame's ``hop`` samples of noise are convolved with that frame's
    impulse response (:func:`noise_impulse_responses`) and overlap-added; the
    filter is causal (no group-delay compensation), like the agent's
    streaming filter.

    Args:
        sample_rate: Hz.
        frame_rate: control frames per second.
        seed: noise seed for inference (``call`` without ``seed`` is deterministic).

    Call:
        ``noise_magnitudes [B, T, N]`` (linear), optional ``seed`` (int32 [2]
        for ``tf.random.stateless_uniform``) → ``audio [B, T * hop]`` float32.
    """

    def __init__(self, sample_rate: int, frame_rate: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.frame_rate = int(frame_rate)
        self.hop = _hop(self.sample_rate, self.frame_rate)
        self.seed = int(seed)

    def call(self, noise_magnitudes, seed=None):
        n_bands = noise_magnitudes.shape[-1]
        if n_bands is not None and n_bands < 2:
            raise SynthConfigError(f"FilteredNoise needs at least 2 noise bands, got {n_bands}")
        ir = noise_impulse_responses(noise_magnitudes)  # [B, T, L]
        ir_size = ir.shape[-1]
        hop = self.hop
        shape = tf.shape(noise_magnitudes)
        batch, frames = shape[0], shape[1]
        if seed is None:
            seed = tf.constant([self.seed, 0x5EED], tf.int32)
        noise = tf.random.stateless_uniform([batch, frames, hop], seed=seed, minval=-1.0, maxval=1.0)
        n_fft = 1 << int(math.ceil(math.log2(hop + ir_size - 1)))
        spectrum = tf.signal.rfft(noise, [n_fft]) * tf.signal.rfft(ir, [n_fft])
        pieces = tf.signal.irfft(spectrum, [n_fft])[..., : hop + ir_size - 1]  # [B, T, hop+L-1]
        audio = tf.signal.overlap_and_add(pieces, frame_step=hop)  # [B, (T-1)*hop + hop+L-1]
        return audio[:, : frames * hop]

    def get_config(self):
        return {
            **super().get_config(),
            "sample_rate": self.sample_rate,
            "frame_rate": self.frame_rate,
            "seed": self.seed,
        }


class Reverb(keras.layers.Layer):
    """Convolution reverb with a trainable impulse response: ``out = dry + dry * ir``.

    The first tap of the impulse response is held at 0 (the dry path is added
    separately, as in DDSP's ``Reverb(add_dry=True)``).

    Args:
        sample_rate: Hz.
        reverb_seconds: impulse response length, s (``n_taps = round(s * sample_rate)``).
        seed: initialisation seed.

    Call:
        ``audio [B, n]`` → ``[B, n]`` (the convolution tail past ``n`` is cut).
    """

    def __init__(self, sample_rate: int, reverb_seconds: float, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.reverb_seconds = float(reverb_seconds)
        self.n_taps = int(round(self.reverb_seconds * self.sample_rate))
        if self.n_taps < 2:
            raise SynthConfigError(
                f"reverb_seconds={reverb_seconds} gives {self.n_taps} taps at {sample_rate} Hz; need >= 2"
            )
        # Start as a quiet exponentially decaying noise tail (about -50 dB, 60 dB decay in ~0.3 s).
        rng = np.random.default_rng(seed)
        t = np.arange(self.n_taps) / self.sample_rate
        init = rng.normal(0.0, 3e-3, self.n_taps) * np.exp(-t / 0.045)
        self.ir = self.add_weight(
            name="ir",
            shape=(self.n_taps,),
            initializer=keras.initializers.Constant(init.astype(np.float32)),
            trainable=True,
        )

    def impulse_response(self) -> tf.Tensor:
        """The effective impulse response [n_taps] (first tap 0)."""
        ir = tf.convert_to_tensor(self.ir)
        return tf.concat([tf.zeros([1], ir.dtype), ir[1:]], axis=0)

    def call(self, audio):
        audio = tf.cast(audio, tf.float32)
        ir = self.impulse_response()
        n = audio.shape[-1]
        if n is not None:
            n_fft = 1 << int(math.ceil(math.log2(n + self.n_taps - 1)))
        else:  # dynamic length (serving signature)
            n = tf.shape(audio)[-1]
            needed = tf.cast(n + self.n_taps - 1, tf.float32)
            n_fft = tf.cast(2.0 ** tf.math.ceil(tf.math.log(needed) / math.log(2.0)), tf.int32)
        fft_len = tf.reshape(n_fft, [1])
        wet = tf.signal.irfft(tf.signal.rfft(audio, fft_len) * tf.signal.rfft(ir, fft_len), fft_len)[:, :n]
        return audio + wet

    def get_config(self):
        return {**super().get_config(), "sample_rate": self.sample_rate, "reverb_seconds": self.reverb_seconds}
