import numpy as np
import pytest
from _perform_support import SMALL, build_tflite

from instrument_agent.decoder import DecoderError, NumpyDecoder, TFLiteDecoder, random_decoder_weights


@pytest.fixture
def npz(tmp_path):
    path = tmp_path / "decoder.npz"
    np.savez(path, **random_decoder_weights(SMALL, seed=3))
    return path


def test_numpy_decoder_shapes_ranges_and_state(npz):
    decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    assert decoder.shape == SMALL
    state = decoder.initial_state(4)
    controls, state2 = decoder.step(np.array([55.0, 220.0, 880.0, 3000.0]), np.array([-80.0, -40.0, -20.0, 0.0]), state)
    assert controls.shape == (4, SMALL.n_controls) and state2.shape == (4, SMALL.gru_units)
    assert np.all(controls > 0) and np.all(controls <= 2.0 + 1e-6)
    again, _ = decoder.step(np.array([55.0, 220.0, 880.0, 3000.0]), np.array([-80.0, -40.0, -20.0, 0.0]), state2)
    assert not np.allclose(again, controls)  # the GRU carries state


def test_voices_are_independent_in_a_batch(npz):
    decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    both, _ = decoder.step(np.array([220.0, 440.0]), np.array([-30.0, -10.0]), decoder.initial_state(2))
    one, _ = decoder.step(np.array([440.0]), np.array([-10.0]), decoder.initial_state(1))
    assert np.allclose(both[1], one[0], atol=1e-6)


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda w: w.pop("gru/kernel"), "missing decoder weight 'gru/kernel'"),
        (lambda w: w.update({"gru/bias": np.zeros((2, 5), np.float32)}), "do not fit"),
    ],
)
def test_bad_weights_raise_a_decoder_error_naming_the_file(tmp_path, damage, problem):
    weights = random_decoder_weights(SMALL)
    damage(weights)
    path = tmp_path / "decoder.npz"
    np.savez(path, **weights)
    with pytest.raises(DecoderError, match=problem) as info:
        NumpyDecoder(path, SMALL.n_harmonics)
    assert info.value.path == str(path)


def test_truncated_npz(tmp_path, npz):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(npz.read_bytes()[:200])
    with pytest.raises(DecoderError, match="not a readable decoder.npz"):
        NumpyDecoder(bad, SMALL.n_harmonics)


@pytest.mark.slow
def test_tflite_runtime_matches_numpy(tmp_path, npz):
    tflite = build_tflite(npz, SMALL, tmp_path / "decoder.tflite")
    numpy_decoder, tflite_decoder = NumpyDecoder(npz, SMALL.n_harmonics), TFLiteDecoder(tflite, SMALL.n_harmonics)
    assert tflite_decoder.shape.n_noise_bands == SMALL.n_noise_bands
    rng = np.random.default_rng(0)
    s_np = numpy_decoder.initial_state(5)
    s_tf = tflite_decoder.initial_state(5)
    for voices in (5, 5, 2, 5):  # the batch size changes between frames
        f0, ld = rng.uniform(30, 4000, voices), rng.uniform(-90, 0, voices)
        c_np, s_np2 = numpy_decoder.step(f0, ld, s_np[:voices])
        c_tf, s_tf2 = tflite_decoder.step(f0, ld, s_tf[:voices])
        assert np.abs(c_np - c_tf).max() < 1e-5 and np.abs(s_np2 - s_tf2).max() < 1e-5
        s_np, s_tf = np.resize(s_np2, (5, SMALL.gru_units)), np.resize(s_tf2, (5, SMALL.gru_units))


def test_tflite_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "decoder.tflite"
    bad.write_bytes(b"not a flatbuffer" * 10)
    with pytest.raises(DecoderError, match="decoder.tflite"):
        TFLiteDecoder(bad, SMALL.n_harmonics)


def test_auto_backend_falls_back_to_numpy_without_a_tflite_file(tmp_path):
    from _perform_support import make_personality

    from instrument_agent.decoder import load_decoder

    bundle = make_personality(tmp_path)
    assert load_decoder(bundle).backend == "numpy"
    with pytest.raises(DecoderError, match="unknown decoder backend 'coreml'"):
        load_decoder(bundle, "coreml")


@pytest.mark.slow
def test_auto_backend_prefers_numpy_and_tflite_is_selectable(tmp_path):
    from _perform_support import make_personality

    from instrument_agent.decoder import load_decoder

    bundle = make_personality(tmp_path, tflite=True)
    assert load_decoder(bundle).backend == "numpy"
    assert load_decoder(bundle, "tflite").backend == "tflite"


def test_run_over_frames_equals_frame_by_frame_steps(npz):
    decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    rng = np.random.default_rng(1)
    f0, ld = rng.uniform(40, 2000, (6, 3)), rng.uniform(-80, 0, (6, 3))
    inputs = np.stack([decoder.encode(f0[i], ld[i]) for i in range(6)])
    assert inputs.shape == (6, 3, decoder.encoded_size)
    controls, state = decoder.run(inputs, decoder.initial_state(3))
    step_state = decoder.initial_state(3)
    for i in range(6):
        c, step_state = decoder.step(f0[i], ld[i], step_state)
        assert np.abs(controls[i] - c).max() < 1e-6
    assert np.abs(state - step_state).max() < 1e-6


def test_a_frames_numbers_do_not_depend_on_how_many_frames_one_run_covers(npz):
    """The engine steps one frame at a boundary, or a whole span of frames offline: BLAS rounds
    a row differently with the shape of a matmul, so run keeps the shapes of a one-frame step."""
    decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    rng = np.random.default_rng(5)
    inputs = np.stack([decoder.encode(rng.uniform(40, 2000, 3), rng.uniform(-80, 0, 3)) for _ in range(7)])
    controls, state = decoder.run(inputs, decoder.initial_state(3))
    one_state = decoder.initial_state(3)
    for f in range(7):
        one, one_state = decoder.run(inputs[f : f + 1], one_state)
        assert np.array_equal(one[0], controls[f])
    assert np.array_equal(one_state, state)


@pytest.mark.slow
def test_tflite_run_over_frames_matches_numpy(tmp_path, npz):
    tflite = TFLiteDecoder(build_tflite(npz, SMALL, tmp_path / "decoder.tflite"), SMALL.n_harmonics)
    numpy_decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    rng = np.random.default_rng(2)
    f0, ld = rng.uniform(40, 2000, (4, 3)), rng.uniform(-80, 0, (4, 3))
    results = []
    for decoder in (numpy_decoder, tflite):
        inputs = np.stack([decoder.encode(f0[i], ld[i]) for i in range(4)])
        results.append(decoder.run(inputs, decoder.initial_state(3)))
    assert np.abs(results[0][0] - results[1][0]).max() < 1e-5 and np.abs(results[0][1] - results[1][1]).max() < 1e-5


def test_stages_give_exactly_the_numbers_of_run(npz):
    decoder = NumpyDecoder(npz, SMALL.n_harmonics)
    rng = np.random.default_rng(3)
    inputs = decoder.encode(rng.uniform(40, 2000, 5), rng.uniform(-80, 0, 5))[None]
    state = rng.normal(0, 0.3, (5, SMALL.gru_units)).astype(np.float32)
    expected = decoder.run(inputs, state)
    steps = decoder.stages(inputs, state)
    paused = 0
    try:
        while True:
            next(steps)
            paused += 1
    except StopIteration as done:
        controls, new_state = done.value
    assert paused == 3
    assert np.array_equal(controls, expected[0]) and np.array_equal(new_state, expected[1])


@pytest.mark.slow
def test_tflite_numbers_for_a_voice_do_not_depend_on_its_batch(tmp_path, npz):
    """The engine steps TFLite voices in groups ahead of a frame boundary and relies on this."""
    tflite = TFLiteDecoder(build_tflite(npz, SMALL, tmp_path / "decoder.tflite"), SMALL.n_harmonics)
    rng = np.random.default_rng(4)
    f0, ld = rng.uniform(40, 2000, 7), rng.uniform(-80, 0, 7)
    state = rng.normal(0, 0.3, (7, SMALL.gru_units)).astype(np.float32)
    whole = tflite.step(f0, ld, state)
    for size in (1, 3):
        parts = [tflite.step(f0[i : i + size], ld[i : i + size], state[i : i + size]) for i in range(0, 7, size)]
        assert np.array_equal(np.concatenate([c for c, _ in parts]), whole[0])
        assert np.array_equal(np.concatenate([s for _, s in parts]), whole[1])
