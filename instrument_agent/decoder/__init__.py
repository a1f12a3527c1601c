"""The personality's decoder, one control frame at a time, without TensorFlow.

Two interchangeable backends implement the :class:`Decoder` Protocol (see
docs/contracts.md, "The decoder"):

* :class:`NumpyDecoder` runs ``decoder.npz`` with numpy: the default (``auto``);
* :class:`TFLiteDecoder` runs ``decoder.tflite`` (signature ``step``) in the
  ``ai_edge_litert`` interpreter, same result within 1e-5 (``backend="tflite"``);
* :class:`OnnxDecoder` runs the ONNX model :func:`decoder_onnx` builds from ``decoder.npz``
  in onnxruntime, same result within 1e-5 (``backend="onnx"``, needs ``amadeus[onnx]``).

``step(f0_hz [V], loudness_db [V], state [V, G]) -> (controls [V, 1+H+N], state [V, G])``;
controls are already scaled: amplitude | harmonic_distribution | noise_magnitudes.
For the engine's hot path a step is split into ``encode`` (inputs only) and ``run``
(F frames of the recurrence and the output layers), and ``stages`` pauses a step.
"""

from .loading import DECODER_BACKENDS, load_decoder
from .numpy_decoder import NumpyDecoder
from .onnx_decoder import OnnxDecoder
from .onnx_export import decoder_onnx
from .protocol import STEP_STAGES, Decoder, DecoderError, DecoderShape, FrameSteps
from .tflite import TFLiteDecoder
from .weights import random_decoder_weights

__all__ = [
    "DECODER_BACKENDS",
    "STEP_STAGES",
    "Decoder",
    "DecoderError",
    "DecoderShape",
    "FrameSteps",
    "NumpyDecoder",
    "OnnxDecoder",
    "TFLiteDecoder",
    "decoder_onnx",
    "load_decoder",
    "random_decoder_weights",
]
