"""The RNN-FC decoder: shapes across learnerProfiles, the single-step path, decoder.npz weights."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_agent.proto import personality_pb2
from pipelines.ddsp import DecoderWeightsError, PersonalityModel, RnnFcDecoder, build_model


def _curves(batch: int, frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f0 = (220.0 * 2 ** (rng.uniform(-1, 1.5, (batch, 1)) + np.linspace(0, 0.3, frames)[None])).astype(np.float32)
    ld = np.clip(-40 + 10 * rng.standard_normal((batch, frames)), -80, 0).astype(np.float32)
    return f0, ld


@pytest.mark.parametrize(
    "sample_rate,frame_rate,harmonics,bands",
    [(16000, 50, 20, 17), (22050, 50, 12, 9), (32000, 100, 30, 33), (44100, 150, 8, 5), (48000, 250, 40, 65)],
)
def test_model_output_shapes_follow_the_learner_profile(sample_rate, frame_rate, harmonics, bands):
    profile = personality_pb2.LearnerProfile(
        sample_rate=sample_rate,
        frame_rate=frame_rate,
        n_harmonics=harmonics,
        n_noise_bands=bands,
        hidden_size=16,
        gru_units=12,
        mlp_layers=2,
        reverb=True,
        reverb_seconds=0.02,
    )
    model = build_model(profile)
    frames = 7
    f0, ld = _curves(2, frames)
    out = model({"f0_hz": f0, "loudness_db": ld})
    hop = sample_rate // frame_rate
    assert out["audio"].shape == (2, frames * hop)
    assert out["amplitude"].shape == (2, frames, 1)
    assert out["harmonic_distribution"].shape == (2, frames, harmonics)
    assert out["noise_magnitudes"].shape == (2, frames, bands)
    assert np.all(np.isfinite(out["audio"].numpy()))
    for name in ("amplitude", "harmonic_distribution", "noise_magnitudes"):
        assert np.all(out[name].numpy() > 0)


def test_single_step_matches_the_sequence_frame_by_frame():
    decoder = RnnFcDecoder(hidden_size=24, mlp_layers=2, gru_units=16, n_harmonics=6, n_noise_bands=5)
    decoder.build()
    f0, ld = _curves(3, 12, seed=1)
    sequence = decoder(f0, ld)["controls"].numpy()
    state = np.zeros((3, 16), np.float32)
    for t in range(12):
        controls, state = decoder.step(f0[:, t : t + 1], ld[:, t : t + 1], state)
        np.testing.assert_allclose(controls.numpy(), sequence[:, t], rtol=1e-5, atol=1e-6)


def test_weights_dict_has_exactly_the_contract_keys_and_round_trips():
    decoder = RnnFcDecoder(hidden_size=8, mlp_layers=2, gru_units=4, n_harmonics=3, n_noise_bands=2)
    decoder.build()
    weights = decoder.weights_dict()
    expected = {"gru/kernel", "gru/recurrent_kernel", "gru/bias", "dense/kernel", "dense/bias"}
    for name in ("f0_mlp", "ld_mlp", "out_mlp"):
        for i in range(2):
            expected |= {f"{name}/{i}/{p}" for p in ("kernel", "bias", "gamma", "beta")}
    assert set(weights) == expected
    assert weights["gru/kernel"].shape == (16, 12)
    assert weights["gru/recurrent_kernel"].shape == (4, 12)
    assert weights["gru/bias"].shape == (2, 12)
    assert weights["out_mlp/0/kernel"].shape == (4 + 16, 8)
    assert weights["dense/kernel"].shape == (8, 6)
    assert all(w.dtype == np.float32 for w in weights.values())

    other = RnnFcDecoder(hidden_size=8, mlp_layers=2, gru_units=4, n_harmonics=3, n_noise_bands=2)
    other.build()
    other.set_weights_dict(weights)
    f0, ld = _curves(1, 5)
    np.testing.assert_array_equal(other(f0, ld)["controls"].numpy(), decoder(f0, ld)["controls"].numpy())


def test_mismatched_weights_are_refused_without_changing_anything():
    decoder = RnnFcDecoder(hidden_size=8, mlp_layers=1, gru_units=4, n_harmonics=3, n_noise_bands=2)
    decoder.build()
    before = decoder.weights_dict()
    bigger = RnnFcDecoder(hidden_size=8, mlp_layers=1, gru_units=6, n_harmonics=3, n_noise_bands=2)
    bigger.build()
    with pytest.raises(
        DecoderWeightsError, match=r"old.npz: 'out_mlp/0/kernel' has shape \(22, 8\), the decoder needs \(20, 8\)"
    ):
        decoder.set_weights_dict(bigger.weights_dict(), source="old.npz")
    partial = dict(before)
    del partial["dense/bias"]
    with pytest.raises(DecoderWeightsError, match="missing decoder weight 'dense/bias'"):
        decoder.set_weights_dict(partial)
    after = decoder.weights_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_build_model_is_deterministic_in_the_seed():
    profile = personality_pb2.LearnerProfile(hidden_size=8, gru_units=8, n_harmonics=4, n_noise_bands=3, seed=7)
    a, b = build_model(profile), build_model(profile)
    assert isinstance(a, PersonalityModel)
    wa, wb = a.decoder.weights_dict(), b.decoder.weights_dict()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    np.testing.assert_array_equal(a.reverb_impulse_response(), b.reverb_impulse_response())
