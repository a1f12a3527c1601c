"""The decoder through the TFLite runtime (``ai_edge_litert``), from ``decoder.tflite``.

The model's signature ``step`` takes f0 [V, 1] Hz, loudness [V, 1] dB and the GRU
state [V, G]; the interpreter runs on 1 thread with XNNPACK and matches the numpy
decoder within 1e-5. Choose it with ``backend="tflite"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .protocol import DecoderError, DecoderShape, FrameSteps, stages_by_voice_groups

__all__ = ["TFLiteDecoder"]

_TFLITE_ROWS = 4  # TFLite batches are padded to a multiple of this many voices


class TFLiteDecoder:
    """The decoder through the TFLite runtime (``ai_edge_litert``), signature ``step``.

    Args:
        path: ``decoder.tflite``.
        n_harmonics: H (to split the controls).
        threads: interpreter threads (1 keeps one core for the audio).
    """

    backend = "tflite"

    def __init__(self, path: str | Path, n_harmonics: int, threads: int = 1):
        self.path = Path(path)
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise DecoderError(
                self.path, f"the TFLite runtime is not installed ({exc}); pip install 'amadeus[agent]'"
            ) from None
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads)
            self._runner = self._interpreter.get_signature_runner("step")
        except (ValueError, RuntimeError) as exc:
            raise DecoderError(self.path, f"not a usable decoder.tflite with a 'step' signature ({exc})") from None
        details = self._runner.get_input_details()
        missing = {"f0_hz", "loudness_db", "state"} - set(details)
        if missing:
            raise DecoderError(self.path, f"signature 'step' lacks inputs {sorted(missing)}")
        gru_units = int(details["state"]["shape"][-1])
        outputs = self._runner.get_output_details()
        n_controls = int(outputs["controls"]["shape"][-1])
        self.shape = DecoderShape(0, 0, gru_units, n_harmonics, n_controls - 1 - n_harmonics)
        # With one subgraph the interpreter's own tensor calls reach the signature's
        # tensors: resize and allocate only when the voice count changes.
        self._direct = self._interpreter.num_subgraphs() == 1
        self._in_index = {name: int(d["index"]) for name, d in details.items()}
        self._out_index = {name: int(d["index"]) for name, d in outputs.items()}
        self._threads = threads
        self._by_size: dict[int, object] = {}  # padded batch size -> interpreter allocated for it
        if self._direct:
            self._runner = None  # it holds the interpreter's buffers, which blocks resizing

    def initial_state(self, voices: int) -> np.ndarray:
        """[voices, G] zeros: a fresh voice."""
        return np.zeros((voices, self.shape.gru_units), dtype=np.float32)

    encoded_size: int = 2

    def encode(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        """[V, 2] float32 (f0 Hz, loudness dB): the model takes its inputs raw."""
        return np.stack([np.asarray(f0_hz, dtype=np.float32), np.asarray(loudness_db, dtype=np.float32)], axis=-1)

    def _sized(self, voices: int):
        """(padded batch size, an interpreter allocated for it): one per size, so batches of
        different sizes (the engine steps voice groups) never re-allocate. Padding rows
        change nothing: XNNPACK computes every row alike."""
        size = -(-voices // _TFLITE_ROWS) * _TFLITE_ROWS
        interp = self._by_size.get(size)
        if interp is None:
            if self._by_size:
                from ai_edge_litert.interpreter import Interpreter

                interp = Interpreter(model_path=str(self.path), num_threads=self._threads)
            else:
                interp = self._interpreter
            ins = self._in_index
            interp.resize_tensor_input(ins["f0_hz"], [size, 1])
            interp.resize_tensor_input(ins["loudness_db"], [size, 1])
            interp.resize_tensor_input(ins["state"], [size, self.shape.gru_units])
            interp.allocate_tensors()
            self._by_size[size] = interp
        return size, interp

    def _invoke(self, f0: np.ndarray, ld: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self._direct:
            out = self._runner(f0_hz=f0, loudness_db=ld, state=state)
            return np.array(out["controls"], dtype=np.float32), np.array(out["state"], dtype=np.float32)
        voices = f0.shape[0]
        size, interp = self._sized(voices)
        if size != voices:
            pad = ((0, size - voices), (0, 0))
            f0, ld, state = (
                np.pad(f0, pad, constant_values=440.0),
                np.pad(ld, pad, constant_values=-60.0),
                np.pad(state, pad),
            )
        ins = self._in_index
        interp.set_tensor(ins["f0_hz"], f0)
        interp.set_tensor(ins["loudness_db"], ld)
        interp.set_tensor(ins["state"], state)
        interp.invoke()
        controls, new_state = (
            interp.get_tensor(self._out_index["controls"]),
            interp.get_tensor(self._out_index["state"]),
        )
        return controls[:voices], new_state[:voices]

    def run(self, inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F consecutive frames (one model call each): inputs [F, V, 2] from :meth:`encode`, state [V, G]
        -> (controls [F, V, C] float32, state [V, G] after the last frame)."""
        frames, voices = inputs.shape[:2]
        controls = np.empty((frames, voices, self.shape.n_controls), dtype=np.float32)
        state = np.ascontiguousarray(state, dtype=np.float32)
        f0 = np.ascontiguousarray(inputs[..., :1], dtype=np.float32)  # [F, V, 1]
        ld = np.ascontiguousarray(inputs[..., 1:2], dtype=np.float32)
        for f in range(frames):
            controls[f], state = self._invoke(f0[f], ld[f], state)
        return controls, state

    def stages(self, inputs: np.ndarray, state: np.ndarray) -> FrameSteps:
        """:meth:`run` of one frame ([1, V, E]) in :data:`~instrument_agent.decoder.STEP_STAGES`
        groups of voices, pausing between groups. The numbers for a voice do not depend on
        the others in its batch (XNNPACK computes each row alike; tests/instrument_agent/
        test_decoder.py checks it), so this gives exactly :meth:`run`'s numbers.
        Returns (controls [1, V, C], state [V, G])."""
        return (yield from stages_by_voice_groups(self.run, inputs, state))

    def step(self, f0_hz: np.ndarray, loudness_db: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame: f0_hz [V] Hz, loudness_db [V] dB, state [V, G] -> (controls [V, C], state [V, G])."""
        controls, state = self._invoke(
            np.asarray(f0_hz, dtype=np.float32).reshape(-1, 1).copy(),
            np.asarray(loudness_db, dtype=np.float32).reshape(-1, 1).copy(),
            np.ascontiguousarray(state, dtype=np.float32),
        )
        return np.array(controls, dtype=np.float32), np.array(state, dtype=np.float32)
