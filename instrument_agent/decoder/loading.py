"""Choosing and loading a personality's decoder backend."""

from __future__ import annotations

from .numpy_decoder import NumpyDecoder
from .onnx_decoder import OnnxDecoder
from .protocol import Decoder, DecoderError
from .tflite import TFLiteDecoder

__all__ = ["DECODER_BACKENDS", "load_decoder"]

DECODER_BACKENDS = ("auto", "numpy", "tflite", "onnx")


def load_decoder(bundle, backend: str = "auto") -> Decoder:
    """The decoder of a personality :class:`~instrument_agent.personality.Bundle`.

    Args:
        bundle: a verified bundle (its learnerProfile gives H).
        backend: ``"auto"`` (numpy when the bundle has ``decoder.npz``, else
            TFLite), ``"numpy"``, ``"tflite"`` or ``"onnx"`` (onnxruntime, a model built
            from ``decoder.npz``; needs ``amadeus[onnx]``).

    Raises :class:`DecoderError` for an unknown backend or a bad file.
    """
    from instrument_agent.profiles import resolve_learner_profile

    if backend not in DECODER_BACKENDS:
        raise DecoderError(bundle.path, f"unknown decoder backend {backend!r} (choose {', '.join(DECODER_BACKENDS)})")
    n_harmonics = resolve_learner_profile(bundle.manifest.learner_profile).n_harmonics
    if backend == "auto":
        backend = "numpy" if bundle.has_file("decoder.npz") else "tflite"
    if backend == "tflite":
        return TFLiteDecoder(bundle.file("decoder.tflite"), n_harmonics)
    if backend == "onnx":
        return OnnxDecoder(bundle.file("decoder.npz"), n_harmonics)
    return NumpyDecoder(bundle.file("decoder.npz"), n_harmonics)
