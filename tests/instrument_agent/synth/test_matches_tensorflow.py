"""The agent's numpy synth renders what pipelines' TensorFlow synth renders
(docs/contracts.md, "Synthesis"): the same controls in, the same audio out.

Alignment conventions (not differences of sound):

* Both place control frame ``t`` at sample ``t * hop`` and move linearly to
  frame ``t + 1`` during that frame (the last frame held). The agent's
  low-level :func:`~instrument_agent.synth.harmonic_pieces` takes each
  piece's start and end values explicitly, so fed ``x[t] -> x[t+1]`` per frame
  it has no shift at all and must match ``Harmonic`` sample for sample.
* The streaming :class:`~instrument_agent.engine.Engine` cannot read a frame
  ahead: it steps the decoder at frame ``t``'s boundary and moves from frame
  ``t - 1``'s controls to frame ``t``'s during frame ``t`` (frame 0 held), i.e.
  its harmonic controls arrive one hop later than TensorFlow's. Its noise
  filter for frame ``t`` is frame ``t``'s own, like ``FilteredNoise``'s. The
  full-path test feeds TensorFlow's harmonic synth the one-frame-delayed
  controls to compare sample for sample, and compares the engine's complete
  output with the SavedModel's audio spectrally (its noise comes from the
  engine's own generator).
* Both noise filters are causal (no group-delay compensation), so with the
  same white noise (``tf.random.stateless_uniform`` drawn here and handed to
  the agent's filter bank) they agree sample for sample.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from instrument_agent.synth import (  # noqa: E402
    FilteredNoise,
    NoiseFilterDesign,
    Reverb,
    harmonic_amplitudes,
    harmonic_pieces,
)
from pipelines.ddsp import FilteredNoise as TFFilteredNoise  # noqa: E402
from pipelines.ddsp import Harmonic as TFHarmonic  # noqa: E402
from pipelines.ddsp import Reverb as TFReverb  # noqa: E402

SR, FR = 16000, 250
HOP = SR // FR
T = 60  # control frames (0.24 s)
H, N = 24, 17


def _smooth(rng: np.random.Generator, shape: tuple[int, ...], width: int = 9) -> np.ndarray:
    """Random values smoothed along axis 1 (time) with a Hann kernel; same shape."""
    x = rng.standard_normal(shape)
    kernel = np.hanning(width + 2)[1:-1]
    kernel /= kernel.sum()
    pad = width // 2
    padded = np.pad(x, [(0, 0), (pad, pad)] + [(0, 0)] * (x.ndim - 2), mode="edge")
    return np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), 1, padded)


def _controls(seed: int = 0):
    """Two voices of smooth random controls: amplitude [2,T,1], distribution [2,T,H],
    f0 [2,T,1] (voice 0 glides 250 -> 1000 Hz so harmonics 9..24 cross 8 kHz;
    voice 1 has vibrato around 440 Hz), noise magnitudes [2,T,N]. float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / FR
    amplitude = 0.3 / (1.0 + np.exp(-_smooth(rng, (2, T, 1))))
    distribution = np.exp(1.5 * _smooth(rng, (2, T, H))) * (np.arange(1, H + 1) ** -1.0)
    f0 = np.stack([250.0 * 4.0 ** (t / t[-1]), 440.0 * (1.0 + 0.03 * np.sin(2 * np.pi * 6.0 * t))])[..., None]
    noise = 0.02 * np.exp(_smooth(rng, (2, T, N)))
    return tuple(np.asarray(x, np.float32) for x in (amplitude, distribution, f0, noise))


def _pieces(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame start and end values [T, V, ...] from frame values [V, T, ...]: frame t
    runs from x[t] to x[t+1], the last frame is held (TensorFlow's upsample_linear)."""
    start = np.moveaxis(x, 1, 0)
    end = np.concatenate([start[1:], start[-1:]])
    return start, end


def agent_harmonic(amplitude, distribution, f0) -> np.ndarray:
    """The agent's harmonic synth on [V,T,...] frame controls, TensorFlow's alignment: [V, T*hop]."""
    voices, frames, h = distribution.shape
    amps = harmonic_amplitudes(
        amplitude.reshape(-1), distribution.reshape(-1, h), f0.reshape(-1), SR / 2.0
    ).reshape(voices, frames, h)
    a0, a1 = _pieces(amps)
    f_start, f_end = _pieces(f0[..., 0].astype(np.float64))
    audio, _ = harmonic_pieces(np.zeros(voices), f_start, f_end, a0, a1, np.full(frames, HOP), SR)
    return audio


def test_harmonic_matches_tensorflow_sample_for_sample():
    amplitude, distribution, f0, _ = _controls()
    expected = TFHarmonic(SR, FR)(amplitude, distribution, f0).numpy()
    got = agent_harmonic(amplitude, distribution, f0)
    assert got.shape == expected.shape == (2, T * HOP)
    peak = np.abs(expected).max()
    assert peak > 0.05
    # Harmonics that cross Nyquist during the glide are silenced at the same sample.
    err = np.abs(got - expected).max() / peak
    assert err < 1e-4, f"max |agent - tf| = {err:.2e} of peak"


def test_noise_matches_tensorflow_with_the_same_white_noise():
    *_, magnitudes = _controls(1)
    seed = tf.constant([7, 0x5EED], tf.int32)
    expected = TFFilteredNoise(SR, FR)(magnitudes, seed=seed).numpy()
    # The very noise FilteredNoise.call draws (same shape and seed), fed to the agent's filter bank.
    white = tf.random.stateless_uniform([2, T, HOP], seed=seed, minval=-1.0, maxval=1.0).numpy().reshape(2, T * HOP)

    design = NoiseFilterDesign(N, SR, SR)
    assert design.ir_size == 2 * (N - 1)
    irs = design.impulse_responses(magnitudes.reshape(-1, N)).reshape(2, T, -1)
    n_fft = FilteredNoise.fft_size(HOP, design.ir_size)
    spectra = FilteredNoise.spectrum(np.moveaxis(irs, 1, 0).reshape(T * 2, -1), n_fft).reshape(T, 2, -1)
    bank = FilteredNoise(2, design.ir_size)
    got = bank.process_pieces(np.arange(2), white, spectra, np.full(T, HOP), n_fft)

    peak = np.abs(expected).max()
    assert peak > 1e-3
    err = np.abs(got - expected).max() / peak
    assert err < 1e-4, f"max |agent - tf| = {err:.2e} of peak"


@pytest.mark.parametrize("block", [64, 1000, T * HOP])
def test_reverb_matches_tensorflow(block):
    rng = np.random.default_rng(4)
    layer = TFReverb(SR, reverb_seconds=0.15)
    taps = layer.n_taps
    ir = (rng.standard_normal(taps) * np.exp(-np.arange(taps) / (0.03 * SR)) * 0.1).astype(np.float32)
    layer.ir.assign(ir)
    dry = rng.uniform(-0.5, 0.5, (1, T * HOP)).astype(np.float32)
    expected = layer(dry).numpy()[0]

    # The agent gets the impulse response the bundle carries (first tap 0: the dry path is separate).
    reverb = Reverb(np.asarray(layer.impulse_response()))
    wet = np.concatenate([reverb.process(dry[0, i : i + block]) for i in range(0, dry.shape[1], block)])
    got = dry[0] + wet
    err = np.abs(got - expected).max() / np.abs(expected).max()
    assert err < 1e-5, f"max |agent - tf| = {err:.2e} of peak"
