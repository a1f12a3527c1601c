"""The decoder through onnxruntime (``backend="onnx"``), from the ONNX model of :mod:`.onnx_export`.

The model is built in memory from the bundle's ``decoder.npz`` when the decoder loads (a few
milliseconds), so every personality has it without a bundle change; ``amadeus personalities export
--format onnx`` writes the same model to a file. One frame per session run on 1 thread, like the
TFLite backend; it matches the numpy decoder within 1e-5. Needs ``amadeus[onnx]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .onnx_export import decoder_onnx
from .protocol import DecoderError, DecoderShape, FrameSteps, stages_by_voice_groups

__all__ = ["OnnxDecoder"]


class OnnxDecoder:
    """The decoder in onnxruntime.

    Args:
        npz_path: ``decoder.npz`` (the ONNX model is built from it).
        n_harmonics: H, from the learnerProfile.
        threads: intra-op threads (1 keeps one core for the audio).
    """

    backend = "onnx"
    encoded_size: int = 2

    def __init__(self, npz_path: str | Path, n_harmonics: int, threads: int = 1):
        self.path = Path(npz_path)
        try:
            import onnxruntime
        except ImportError as exc:
            raise DecoderError(
                self.path, f"onnxruntime is not installed ({exc}); pip install 'amadeus[onnx]'"
            ) from None
        model = decoder_onnx(self.path, n_harmonics)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        try:
            self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise DecoderError(self.path, f"onnxruntime cannot run the decoder ({exc})") from None
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        outputs = {o.name: o.shape for o in self._session.get_outputs()}
        gru_units, n_controls = int(inputs["state"][-1]), int(outputs["controls"][-1])
        self.shape = DecoderShape(0, 0, gru_units, n_harmonics, n_controls - 1 - n_harmonics)
        self._outputs = ["controls", "state_next"]

    def initial_state(self, voices: int) -> np.ndarray:
        """[voices, G] zeros: a fresh voice."""
        return np.zeros((voices, self.shape.gru_units), dtype=np.float32)

    def encode(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        """[V, 2] float32 (f0 Hz, loudness dB): the model takes its inputs raw."""
        return np.stack([np.asarray(f0_hz, dtype=np.float32), np.asarray(loudness_db, dtype=np.float32)], axis=-1)

    def _invoke(self, f0: np.ndarray, ld: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        controls, new_state = self._session.run(self._outputs, {"f0_hz": f0, "loudness_db": ld, "state": state})
        return controls, new_state

    def run(self, inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F consecutive frames (one session run each): inputs [F, V, 2] from :meth:`encode`, state [V, G]
        -> (controls [F, V, C] float32, state [V, G] after the last frame)."""
        frames, voices = inputs.shape[:2]
        controls = np.empty((frames, voices, self.shape.n_controls), dtype=np.float32)
        state = np.ascontiguousarray(state, dtype=np.float32)
        f0 = np.ascontiguousarray(inputs[..., :1], dtype=np.float32)
        ld = np.ascontiguousarray(inputs[..., 1:2], dtype=np.float32)
        for f in range(frames):
            controls[f], state = self._invoke(f0[f], ld[f], state)
        return controls, state

    def stages(self, inputs: np.ndarray, state: np.ndarray) -> FrameSteps:
        """:meth:`run` of one frame ([1, V, E]) in :data:`~instrument_agent.decoder.STEP_STAGES` groups of
        voices, pausing between groups (a voice's numbers do not depend on the others in its batch).
        Returns (controls [1, V, C], state [V, G])."""
        return (yield from stages_by_voice_groups(self.run, inputs, state))

    def step(self, f0_hz: np.ndarray, loudness_db: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame: f0_hz [V] Hz, loudness_db [V] dB, state [V, G] -> (controls [V, C], state [V, G])."""
        return self._invoke(
            np.asarray(f0_hz, dtype=np.float32).reshape(-1, 1),
            np.asarray(loudness_db, dtype=np.float32).reshape(-1, 1),
            np.ascontiguousarray(state, dtype=np.float32),
        )
