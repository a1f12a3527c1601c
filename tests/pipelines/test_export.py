"""Export: the TFLite step, decoder.npz (checked by a numpy reference here) and the SavedModel
all reproduce the Keras model; a failed export replaces nothing."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from instrument_agent.proto import personality_pb2
from pipelines.ddsp import PersonalityModel, build_model
from pipelines.export import ExportError, export

G, H, N = 12, 7, 6


def _profile(**overrides):
    fields = dict(
        sample_rate=16000,
        frame_rate=100,
        n_harmonics=H,
        n_noise_bands=N,
        hidden_size=20,
        mlp_layers=2,
        gru_units=G,
        reverb=True,
        reverb_seconds=0.03,
        seed=11,
    )
    fields.update(overrides)
    return personality_pb2.LearnerProfile(**fields)


def _curves(voices: int = 2, frames: int = 25) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(frames)
    f0 = np.stack([220 * 2 ** (t / 40), 523.25 * (1 + 0.02 * np.sin(t))])[:voices].astype(np.float32)
    ld = np.stack([-60 + 2 * t, -20 - 0.5 * t])[:voices].astype(np.float32)
    return f0, ld


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    profile = _profile()
    model = build_model(profile)
    # Move the weights away from their initial values (LayerNorm's gamma=1, beta=0, zero biases).
    rng = np.random.default_rng(3)
    for variable in model.decoder.trainable_variables:
        variable.assign(variable.numpy() + rng.normal(0, 0.1, variable.shape).astype(np.float32))
    out = tmp_path_factory.mktemp("export") / "personality"
    written = export(model, profile, out)
    return model, out, written


def test_writes_the_contract_files(exported):
    _, out, written = exported
    for name in ("decoder.npz", "decoder.tflite", "reverb_ir.npy", "saved_model/saved_model.pb"):
        assert name in written
    assert written == sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_tflite_step_matches_the_keras_sequence_frame_by_frame(exported):
    from ai_edge_litert.interpreter import Interpreter

    model, out, _ = exported
    interpreter = Interpreter(model_path=str(out / "decoder.tflite"), num_threads=1)
    assert interpreter.num_subgraphs() == 1
    assert set(interpreter.get_signature_list()) == {"step"}
    runner = interpreter.get_signature_runner("step")
    f0, ld = _curves()
    expected = model.decoder(f0, ld)["controls"].numpy()
    state = np.zeros((2, G), np.float32)
    for t in range(f0.shape[1]):
        result = runner(f0_hz=f0[:, t : t + 1], loudness_db=ld[:, t : t + 1], state=state)
        state = result["state"]
        np.testing.assert_allclose(result["controls"], expected[:, t], atol=1e-4, rtol=1e-4)


def _numpy_decoder(weights: dict, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
    """docs/contracts.md's decoder in plain numpy: [V, T] curves -> [V, T, 1+H+N] controls."""

    def mlp(x, name):
        i = 0
        while f"{name}/{i}/kernel" in weights:
            x = x @ weights[f"{name}/{i}/kernel"] + weights[f"{name}/{i}/bias"]
            x = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
            x = x * weights[f"{name}/{i}/gamma"] + weights[f"{name}/{i}/beta"]
            x = np.where(x > 0, x, 0.2 * x)
            i += 1
        return x

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def exp_sigmoid(x):
        return 2 * sigmoid(x) ** np.log(10) + 1e-7

    midi = np.maximum(12 * np.log2(np.maximum(f0_hz, 1e-3) / 440) + 69, 0)
    kernel, recurrent, bias = weights["gru/kernel"], weights["gru/recurrent_kernel"], weights["gru/bias"]
    units = recurrent.shape[0]
    h = np.zeros((f0_hz.shape[0], units))
    out = []
    for t in range(f0_hz.shape[1]):
        x_f = mlp(midi[:, t : t + 1] / 127, "f0_mlp")
        x_l = mlp(loudness_db[:, t : t + 1] / 80 + 1, "ld_mlp")
        x = np.concatenate([x_f, x_l], -1) @ kernel + bias[0]
        r_h = h @ recurrent + bias[1]
        z = sigmoid(x[:, :units] + r_h[:, :units])
        r = sigmoid(x[:, units : 2 * units] + r_h[:, units : 2 * units])
        candidate = np.tanh(x[:, 2 * units :] + r * r_h[:, 2 * units :])
        h = z * h + (1 - z) * candidate
        raw = mlp(np.concatenate([h, x_f, x_l], -1), "out_mlp") @ weights["dense/kernel"] + weights["dense/bias"]
        raw[:, 1 + H :] -= 5.0
        out.append(exp_sigmoid(raw))
    return np.stack(out, axis=1)


def test_npz_weights_reproduce_the_keras_controls(exported):
    model, out, _ = exported
    with np.load(out / "decoder.npz") as data:
        weights = {key: data[key].astype(np.float64) for key in data.files}
    f0, ld = _curves()
    expected = model.decoder(f0, ld)["controls"].numpy()
    np.testing.assert_allclose(_numpy_decoder(weights, f0, ld), expected, rtol=1e-4, atol=1e-5)


def test_saved_model_reloads_and_renders_the_same_audio(exported):
    model, out, _ = exported
    signature = tf.saved_model.load(str(out / "saved_model")).signatures["serving_default"]
    for frames in (25, 9):  # the time axis is dynamic
        f0, ld = _curves(frames=frames)
        served = signature(f0_hz=tf.constant(f0), loudness_db=tf.constant(ld))
        keras_out = model({"f0_hz": f0, "loudness_db": ld})
        assert served["audio"].shape == (2, frames * 160)
        for name in ("audio", "amplitude", "harmonic_distribution", "noise_magnitudes"):
            np.testing.assert_allclose(served[name].numpy(), keras_out[name].numpy(), rtol=1e-5, atol=1e-6)


def test_reverb_ir_is_the_learned_response(exported):
    model, out, _ = exported
    ir = np.load(out / "reverb_ir.npy")
    assert ir.dtype == np.float32 and ir.shape == (480,) and ir[0] == 0.0
    np.testing.assert_array_equal(ir, model.reverb_impulse_response())


def test_without_reverb_there_is_no_impulse_response(tmp_path):
    # proto3 cannot tell reverb=False from "unset" (the default is True), so build the model directly.
    profile = _profile(hidden_size=8, mlp_layers=1, gru_units=8)
    model = PersonalityModel(16000, 100, H, N, hidden_size=8, mlp_layers=1, gru_units=8, reverb=False)
    written = export(model, profile, tmp_path / "out")
    assert "reverb_ir.npy" not in written and "decoder.tflite" in written


def test_a_profile_that_does_not_fit_the_model_is_refused(tmp_path):
    model = build_model(_profile(hidden_size=8, mlp_layers=1, gru_units=8))
    with pytest.raises(ExportError, match="gru_units=8 but learnerProfile.gru_units=9"):
        export(model, _profile(hidden_size=8, mlp_layers=1, gru_units=9), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_full_disk_leaves_the_previous_export_in_place(tmp_path, monkeypatch):
    profile = _profile(hidden_size=8, mlp_layers=1, gru_units=8)
    model = build_model(profile)
    out = tmp_path / "out"
    first = export(model, profile, out)
    before = {name: (out / name).read_bytes() for name in first}

    def disk_full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(ExportError, match=r"out: export failed \(No space left on device\); nothing was replaced"):
        export(model, profile, out)
    assert {name: (out / name).read_bytes() for name in first} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
