"""The onnxruntime decoder (``backend="onnx"``): the ONNX model built from ``decoder.npz`` computes
the numpy decoder's controls and states, splits into stages exactly, and plays in the engine."""

import numpy as np
import onnx
import pytest
from _perform_support import SMALL, make_personality

from instrument_agent.decoder import (
    STEP_STAGES,
    DecoderError,
    NumpyDecoder,
    OnnxDecoder,
    decoder_onnx,
    load_decoder,
    random_decoder_weights,
)
from instrument_agent.engine import Engine


@pytest.fixture
def npz(tmp_path):
    path = tmp_path / "decoder.npz"
    weights = random_decoder_weights(SMALL, seed=4)
    for key in weights:  # away from LayerNorm's identity (gamma 1, beta 0), as a trained decoder is
        if key.endswith(("gamma", "beta")):
            weights[key] = weights[key] + np.random.default_rng(5).normal(0, 0.2, weights[key].shape).astype(np.float32)
    np.savez(path, **weights)
    return path


def test_the_model_is_valid_onnx_with_the_step_signature(npz):
    model = onnx.load_from_string(decoder_onnx(npz, SMALL.n_harmonics))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["f0_hz", "loudness_db", "state"]
    assert [o.name for o in model.graph.output] == ["controls", "state_next"]
    assert "GRU" in {n.op_type for n in model.graph.node}


def test_onnxruntime_matches_numpy_as_the_batch_changes(npz):
    numpy_decoder, onnx_decoder = NumpyDecoder(npz, SMALL.n_harmonics), OnnxDecoder(npz, SMALL.n_harmonics)
    assert onnx_decoder.shape.n_noise_bands == SMALL.n_noise_bands and onnx_decoder.backend == "onnx"
    rng = np.random.default_rng(0)
    s_np, s_ox = numpy_decoder.initial_state(5), onnx_decoder.initial_state(5)
    for voices in (5, 5, 2, 5, 1, 5):
        f0, ld = rng.uniform(30, 4000, voices), rng.uniform(-90, 0, voices)
        c_np, s_np2 = numpy_decoder.step(f0, ld, s_np[:voices])
        c_ox, s_ox2 = onnx_decoder.step(f0, ld, s_ox[:voices])
        assert np.abs(c_np - c_ox).max() < 1e-5 and np.abs(s_np2 - s_ox2).max() < 1e-5
        s_np, s_ox = np.resize(s_np2, (5, SMALL.gru_units)), np.resize(s_ox2, (5, SMALL.gru_units))


def test_stages_and_runs_give_exactly_the_frame_by_frame_numbers(npz):
    decoder = OnnxDecoder(npz, SMALL.n_harmonics)
    rng = np.random.default_rng(2)
    voices = 7
    inputs = np.stack([decoder.encode(rng.uniform(60, 900, voices), rng.uniform(-70, 0, voices)) for _ in range(4)])
    controls, state = decoder.run(inputs, decoder.initial_state(voices))
    staged, pauses, s = [], 0, decoder.initial_state(voices)
    for f in range(4):
        gen = decoder.stages(inputs[f : f + 1], s)
        while True:
            try:
                next(gen)
                pauses += 1
            except StopIteration as stop:
                c, s = stop.value
                break
        staged.append(c[0])
    assert pauses == 4 * (STEP_STAGES - 1)
    assert np.array_equal(np.stack(staged), controls) and np.array_equal(s, state)


def test_the_engine_plays_the_same_notes_through_onnx(tmp_path):
    bundle = make_personality(tmp_path)
    assert load_decoder(bundle, "onnx").backend == "onnx"
    f0, ld = np.linspace(220.0, 330.0, 40), np.linspace(-40.0, -15.0, 40)
    out = {}
    for backend in ("numpy", "onnx"):
        engine = Engine.from_bundle(bundle, sample_rate=16000, backend=backend)
        engine.play_curves(f0, ld, at=0)
        out[backend] = engine.render(40 * 320)
    assert np.sqrt(np.mean(out["numpy"] ** 2)) > 1e-3
    assert np.abs(out["numpy"] - out["onnx"]).max() < 1e-4


def test_a_bad_decoder_file_is_named(tmp_path):
    bad = tmp_path / "decoder.npz"
    bad.write_bytes(b"not an npz")
    with pytest.raises(DecoderError, match="decoder.npz: not a readable decoder.npz") as info:
        OnnxDecoder(bad, SMALL.n_harmonics)
    assert info.value.path == str(bad)
