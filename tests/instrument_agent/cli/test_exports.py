"""``amadeus personalities export DEU --format onnx``: the decoder written as an ONNX file that
onnxruntime runs to the agent's numbers; unknown formats and deus are refused with one error."""

from __future__ import annotations

import numpy as np
import onnxruntime
from _bad_input import run_cli, squash
from _perform_support import make_personality

from instrument_agent.decoder import NumpyDecoder, OnnxDecoder


def test_onnx_export_runs_in_onnxruntime_to_the_numpy_decoders_numbers(tmp_path, monkeypatch):
    bundle = make_personality(tmp_path)
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    out = tmp_path / "out" / "cello.onnx"
    code, printed = run_cli(["personalities", "export", "cello", "--format", "onnx", "-o", str(out)])
    assert code == 0, printed
    assert squash(f"wrote {out}") in squash(printed) and squash("state [V, 32]") in squash(printed)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    f0, ld = np.array([[220.0], [660.0]], np.float32), np.array([[-30.0], [-12.0]], np.float32)
    agent, numpy_decoder = OnnxDecoder(bundle.file("decoder.npz"), 20), NumpyDecoder(bundle.file("decoder.npz"), 20)
    state, agent_state, ref_state = np.zeros((2, 32), np.float32), agent.initial_state(2), agent.initial_state(2)
    for _ in range(3):
        controls, state = session.run(None, {"f0_hz": f0, "loudness_db": ld, "state": state})
        mine, agent_state = agent.step(f0[:, 0], ld[:, 0], agent_state)
        ref, ref_state = numpy_decoder.step(f0[:, 0], ld[:, 0], ref_state)
        assert np.array_equal(controls, mine) and np.array_equal(state, agent_state)  # the agent's own model
        # (this personality's least-squares amplitude head magnifies float32 rounding: rtol, not 1e-5)
        np.testing.assert_allclose(controls, ref, rtol=1e-3, atol=1e-6)
        assert np.abs(state - ref_state).max() < 1e-5
    assert sorted(p.name for p in out.parent.iterdir()) == ["cello.onnx"]  # no temporary left


def test_the_default_files_are_in_the_current_directory(tmp_path, monkeypatch):
    make_personality(tmp_path)
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    code, printed = run_cli(["personalities", "export", "cello", "--format", "onnx"])
    assert code == 0, printed
    assert (tmp_path / "cello-v1.onnx").stat().st_size > 1000
    code, printed = run_cli(["personalities", "export", "cello"])  # the default format: the portable personality
    assert code == 0, printed
    assert (tmp_path / "cello-v1.amadeus").stat().st_size > 1000


def test_unknown_format_and_unknown_deu_are_one_line_errors(tmp_path, monkeypatch):
    make_personality(tmp_path)
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    code, printed = run_cli(["personalities", "export", "cello", "--format", "vst3"])
    assert code == 2 and squash(printed) == squash("error: unknown --format 'vst3' (choose amadeus, ddsp-vst, onnx)")
    code, printed = run_cli(["personalities", "export", "viola", "--format", "onnx"])
    assert code == 2 and squash(printed).startswith(squash("error: no personality of deu 'viola'"))
