"""The decoder as an ONNX model, built from ``decoder.npz`` with ``onnx.helper`` (no TensorFlow).

One control frame for V voices (V dynamic), opset 17::

    f0_hz [V, 1] Hz, loudness_db [V, 1] dB, state [V, G]  ->  controls [V, 1+H+N], state_next [V, G]

the same maths as :class:`~instrument_agent.decoder.NumpyDecoder` (docs/contracts.md): the input
MLPs (``LayerNormalization`` eps 1e-3, ``LeakyRelu`` 0.2), the ONNX ``GRU`` operator with
``linear_before_reset=1`` (Keras' ``reset_after=True``; both order the gates z|r|h), the output MLP
and the dense head, exp-sigmoid inside (noise with its -5 bias). Needs ``amadeus[onnx]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .protocol import DecoderError

__all__ = ["ONNX_OPSET", "decoder_onnx"]

ONNX_OPSET = 17  # LayerNormalization


def _onnx(path: Path) -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise DecoderError(path, f"building the ONNX decoder needs onnx ({exc}); pip install 'amadeus[onnx]'") from None
    return onnx


def decoder_onnx(npz_path: str | Path, n_harmonics: int) -> bytes:
    """The serialised ONNX ``ModelProto`` of the decoder in ``npz_path`` (H = ``n_harmonics``).

    Raises :class:`DecoderError` for a bad ``decoder.npz`` or without the ``onnx`` package.
    """
    from .numpy_decoder import NumpyDecoder

    path = Path(npz_path)
    onnx = _onnx(path)
    from onnx import TensorProto, helper, numpy_helper

    reference = NumpyDecoder(path, n_harmonics)  # validates keys and shapes, naming the file
    shape = reference.shape
    w = reference._w
    g = shape.gru_units
    inits, nodes = [], []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def mlp(x: str, name: str) -> str:
        for i in range(shape.mlp_layers):
            p = f"{name}/{i}"
            x = node("MatMul", [x, const(f"{p}/kernel", w[f"{p}/kernel"])], f"{p}/matmul")
            x = node("Add", [x, const(f"{p}/bias", w[f"{p}/bias"])], f"{p}/dense")
            x = node(
                "LayerNormalization",
                [x, const(f"{p}/gamma", w[f"{p}/gamma"]), const(f"{p}/beta", w[f"{p}/beta"])],
                f"{p}/norm",
                axis=-1,
                epsilon=1e-3,
            )
            x = node("LeakyRelu", [x], f"{p}/act", alpha=0.2)
        return x

    # f0 -> max(MIDI, 0) / 127;  loudness -> dB / 80 + 1
    log_f0 = node("Log", [node("Max", ["f0_hz", const("min_hz", 1e-3)], "f0_floor")], "log_f0")
    midi = node(
        "Add",
        [
            node("Mul", [log_f0, const("semitones_per_neper", 12.0 / np.log(2.0))], "midi_part"),
            const("midi_offset", 69.0 - 12.0 * np.log2(440.0)),
        ],
        "midi",
    )
    f0_in = node(
        "Mul", [node("Max", [midi, const("zero", 0.0)], "midi_pos"), const("inv_127", 1.0 / 127.0)], "f0_scaled"
    )
    ld_in = node(
        "Add", [node("Mul", ["loudness_db", const("inv_80", 1.0 / 80.0)], "ld_part"), const("one", 1.0)], "ld_scaled"
    )
    x = node("Concat", [mlp(f0_in, "f0_mlp"), mlp(ld_in, "ld_mlp")], "features", axis=-1)  # [V, 2h]

    inits.append(numpy_helper.from_array(np.array([0], np.int64), "axes0"))
    axes0 = "axes0"
    bias = w["gru/bias"]
    node(
        "GRU",
        [
            node("Unsqueeze", [x, axes0], "gru_x"),  # [1, V, 2h]
            const("gru/W", w["gru/kernel"].T[None]),  # [1, 3G, 2h]
            const("gru/R", w["gru/recurrent_kernel"].T[None]),  # [1, 3G, G]
            const("gru/B", np.concatenate([bias[0], bias[1]])[None]),  # [1, 6G]
            "",
            node("Unsqueeze", ["state", axes0], "gru_h0"),
        ],
        "gru_y",
        hidden_size=g,
        linear_before_reset=1,
    )
    nodes[-1].output.append("gru_yh")  # outputs Y [1, 1, V, G], Y_h [1, V, G]
    new_state = node("Squeeze", ["gru_yh", axes0], "state_out")
    y = mlp(node("Concat", [new_state, x], "out_in", axis=-1), "out_mlp")
    head_bias = w["dense/bias"].copy()
    head_bias[1 + n_harmonics :] -= 5.0  # the noise bias
    raw = node(
        "Add",
        [node("MatMul", [y, const("dense/kernel", w["dense/kernel"])], "raw_mm"), const("dense/bias", head_bias)],
        "raw",
    )
    powered = node("Pow", [node("Sigmoid", [raw], "sig"), const("ln10", np.log(10.0))], "pow")
    node("Add", [node("Mul", [powered, const("two", 2.0)], "twice"), const("eps", 1e-7)], "controls")
    nodes.append(helper.make_node("Identity", ["state_out"], ["state_next"], name="state_next"))

    voices = "V"
    graph = helper.make_graph(
        nodes,
        "amadeus_decoder_step",
        [
            helper.make_tensor_value_info("f0_hz", TensorProto.FLOAT, [voices, 1]),
            helper.make_tensor_value_info("loudness_db", TensorProto.FLOAT, [voices, 1]),
            helper.make_tensor_value_info("state", TensorProto.FLOAT, [voices, g]),
        ],
        [
            helper.make_tensor_value_info("controls", TensorProto.FLOAT, [voices, shape.n_controls]),
            helper.make_tensor_value_info("state_next", TensorProto.FLOAT, [voices, g]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="amadeus")
    onnx.checker.check_model(model)
    return model.SerializeToString()
