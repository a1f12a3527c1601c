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
    amps = harmonic_amplitudes(amplitude.reshape(-1), distribution.reshape(-1, h), f0.reshape(-1), SR / 2.0).reshape(
        voices, frames, h
    )
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


# -- the full path: a personality exported by pipelines, played by the agent's engine --------

FULL_T = 250  # control frames (1 s)
_ATTACK = int(0.002 * SR)  # the engine's shortest attack ramp (samples), excluded from sample comparisons


@pytest.fixture(scope="module")
def personality(tmp_path_factory):
    """A tiny PersonalityModel (random decoder with audible noise, a short reverb), exported
    with pipelines.export.export and committed to a store as the push stage does.
    Returns (bundle, saved_model signature, f0 [T], loudness [T])."""
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import default_learner_profile, default_player_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.ddsp import build_model
    from pipelines.export import export

    tmp = tmp_path_factory.mktemp("personality")
    profile = default_learner_profile()
    for key, value in dict(
        sample_rate=SR,
        frame_rate=FR,
        n_harmonics=H,
        n_noise_bands=N,
        hidden_size=16,
        mlp_layers=1,
        gru_units=16,
        reverb=True,
        reverb_seconds=0.05,
        seed=5,
    ).items():
        setattr(profile, key, value)
    model = build_model(profile)
    rng = np.random.default_rng(3)
    for variable in model.decoder.trainable_variables:  # away from the initial LayerNorm/bias values
        variable.assign(variable.numpy() + rng.normal(0, 0.3, variable.shape).astype(np.float32))
    bias = model.decoder.trainable_variables[-1]  # dense/bias [1+H+N]: make the noise as loud as the harmonics
    assert bias.shape == (1 + H + N,)
    bias.assign(bias.numpy() + np.r_[np.zeros(1 + H), np.full(N, 3.5)].astype(np.float32))
    taps = model.reverb.n_taps
    model.reverb.ir.assign(
        (rng.standard_normal(taps) * np.exp(-np.arange(taps) / (0.01 * SR)) * 0.03).astype(np.float32)
    )
    export(model, profile, tmp / "export")

    manifest = personality_pb2.PersonalityManifest(sample_rate=SR, frame_rate=FR)
    manifest.learner_profile.CopyFrom(profile)
    manifest.player_profile.CopyFrom(default_player_profile())
    files = {entry.name: entry for entry in sorted((tmp / "export").iterdir())}
    bundle = PersonalityStore(tmp / "home").commit("cello", manifest, files)
    serve = tf.saved_model.load(str(bundle.path / "saved_model")).signatures["serving_default"]
    t = np.arange(FULL_T) / FR
    f0 = (220.0 * 2.0 ** (t / t[-1]) * (1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t))).astype(np.float32)
    loudness = (-45.0 + 25.0 * np.sin(np.pi * t / t[-1])).astype(np.float32)
    return bundle, serve, f0, loudness


def _engine_render(bundle, f0, loudness, backend="numpy", seed=0, **player) -> np.ndarray:
    """The engine's audio for the curves (as render.transfer_timbre plays them): [T * hop]."""
    from instrument_agent.engine import Engine
    from instrument_agent.profiles import default_player_profile

    profile = default_player_profile()
    profile.envelope.attack_s = 0.0  # the engine's 2 ms minimum ramp remains
    for key, value in player.items():
        setattr(profile, key, value)
    engine = Engine.from_bundle(bundle, sample_rate=SR, backend=backend, player_profile=profile, seed=seed)
    engine.play_curves(f0.astype(np.float64), loudness.astype(np.float64), at=0)
    return engine.render(f0.size * HOP)


def _backends():
    import importlib.util

    return (
        ["numpy"]
        + (["tflite"] if importlib.util.find_spec("ai_edge_litert") else [])
        + (["onnx"] if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx") else [])
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", _backends())
def test_engine_harmonics_match_the_savedmodel_controls(personality, backend):
    """Noise and reverb off in the playerProfile: the engine's audio is TensorFlow's
    Harmonic on the SavedModel's controls, delayed by the engine's one control frame
    (frame 0 held for the first hop), sample for sample."""
    bundle, serve, f0, loudness = personality
    out = serve(f0_hz=tf.constant(f0[None]), loudness_db=tf.constant(loudness[None]))
    got = _engine_render(bundle, f0, loudness, backend, noise_gain_db=-200.0, reverb_mix=0.0)

    def delayed(x):  # [1, T, C] -> [1, T+1, C]: x0, x0, x1, ..., x_{T-1}
        x = np.asarray(x)
        return np.concatenate([x[:, :1], x], axis=1)

    expected = TFHarmonic(SR, FR)(
        delayed(out["amplitude"]), delayed(out["harmonic_distribution"]), delayed(f0[None, :, None])
    ).numpy()[0, : FULL_T * HOP]
    peak = np.abs(expected).max()
    assert peak > 0.05
    err = np.abs(got[_ATTACK:] - expected[_ATTACK:]).max() / peak
    assert err < 1e-4, f"max |engine - tf| = {err:.2e} of peak ({backend} decoder)"


def _band_spectrum_db(x: np.ndarray, n_fft: int = 512, width: int = 8) -> np.ndarray:
    """Time-averaged power spectrum (Hann frames, 50 % overlap) in bands of ``width``
    bins (250 Hz at 16 kHz), dB: [n_fft / 2 / width]."""
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[:: n_fft // 2] * np.hanning(n_fft)
    power = (np.abs(np.fft.rfft(frames, axis=-1)) ** 2).mean(axis=0)[1:]
    return 10.0 * np.log10(power.reshape(-1, width).mean(axis=1))


@pytest.mark.slow
def test_engine_render_matches_the_savedmodel_audio_spectrally(personality):
    """Everything on (harmonics, noise as loud as them, reverb): the engine's noise comes
    from its own generator, so compare 250 Hz band spectra over the second.

    Tolerances: mean |difference| < 0.75 dB, every band < 1.5 dB (measured: about
    0.3 / 0.8 dB; the estimate's own spread for 1 s of noise is a few tenths of a dB).
    The same render with the noise 3 dB louder must fail them (it differs by ~1.7 dB
    on average): the comparison does see the noise level.
    """
    bundle, serve, f0, loudness = personality
    reference = serve(f0_hz=tf.constant(f0[None]), loudness_db=tf.constant(loudness[None]))["audio"].numpy()[0]
    ref = _band_spectrum_db(reference)
    for seed in (0, 1):
        diff = _band_spectrum_db(_engine_render(bundle, f0, loudness, seed=seed)) - ref
        assert np.abs(diff).mean() < 0.75 and np.abs(diff).max() < 1.5, np.round(diff, 2)
    louder = _band_spectrum_db(_engine_render(bundle, f0, loudness, noise_gain_db=3.0)) - ref
    assert np.abs(louder).mean() > 1.0
