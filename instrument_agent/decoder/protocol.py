"""What a decoder is to the engine: the :class:`Decoder` Protocol, its sizes and its error.

A decoder turns per-frame f0 and loudness into synthesizer controls, one control
frame at a time, carrying a GRU state per voice (see docs/contracts.md, "The decoder").
Three backends implement it: :class:`~instrument_agent.decoder.NumpyDecoder`,
:class:`~instrument_agent.decoder.TFLiteDecoder` and :class:`~instrument_agent.decoder.OnnxDecoder`;
the engine depends only on this Protocol.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["STEP_STAGES", "Decoder", "DecoderError", "DecoderShape", "FrameSteps", "stages_by_voice_groups"]

STEP_STAGES = 4
"""Pieces :meth:`Decoder.stages` splits one frame step into (it pauses ``STEP_STAGES - 1`` times)."""

FrameSteps = Generator[None, None, "tuple[np.ndarray, np.ndarray]"]
"""A frame step paused between its stages; its return value is ``(controls [1, V, C], state [V, G])``."""


def stages_by_voice_groups(run, inputs: np.ndarray, state: np.ndarray) -> FrameSteps:
    """``run(inputs, state)`` of one frame ([1, V, E], [V, G]) in :data:`STEP_STAGES` groups of voices,
    pausing between groups: for a runtime whose numbers for a voice do not depend on the others in
    its batch (TFLite's XNNPACK, onnxruntime), so the result is exactly ``run``'s.
    Returns (controls [1, V, C], state [V, G])."""
    voices = state.shape[0]
    size = max(1, -(-voices // STEP_STAGES))
    parts = []
    for lo in range(0, voices, size):
        parts.append(run(inputs[:, lo : lo + size], state[lo : lo + size]))
        if lo + size < voices:
            yield
    if not parts:
        return run(inputs, state)
    return np.concatenate([c for c, _ in parts], axis=1), np.concatenate([s for _, s in parts])


class DecoderError(ValueError):
    """A decoder file is missing keys, has inconsistent shapes, or cannot be loaded."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)


@dataclass(frozen=True)
class DecoderShape:
    """Sizes of a decoder: hidden units, MLP layers, GRU units G, harmonics H, noise bands N."""

    hidden_size: int
    mlp_layers: int
    gru_units: int
    n_harmonics: int
    n_noise_bands: int

    @property
    def n_controls(self) -> int:
        """C = 1 + H + N: amplitude | harmonic distribution | noise magnitudes."""
        return 1 + self.n_harmonics + self.n_noise_bands


@runtime_checkable
class Decoder(Protocol):
    """A personality's decoder, streaming: V voices, one control frame per call.

    Units: f0 in Hz, loudness in dB (full scale 0 dB), controls already scaled
    (amplitude linear, harmonic distribution and noise magnitudes non-negative).
    A frame step is split in two so that a held note reuses its inputs:
    :meth:`encode` (what depends only on f0 and loudness) then :meth:`run`
    (the recurrence and the output layers).

    Determinism the engine relies on: the controls of a voice at a frame depend
    only on the inputs and states of the voices stepped in that call and on the
    call's shape ``[V]`` per frame, never on how many frames one call covers.
    """

    backend: str
    """``"numpy"``, ``"tflite"`` or ``"onnx"`` (for messages and reports)."""
    shape: DecoderShape
    encoded_size: int
    """E: width of :meth:`encode`'s rows."""

    def initial_state(self, voices: int) -> np.ndarray:
        """[voices, G] float32 zeros: fresh voices."""
        ...

    def encode(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        """f0_hz [V] Hz, loudness_db [V] dB -> inputs [V, E] float32 for :meth:`run`."""
        ...

    def run(self, inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F consecutive frames: inputs [F, V, E] (from :meth:`encode`), state [V, G] before
        the first -> (controls [F, V, C] float32, state [V, G] after the last)."""
        ...

    def stages(self, inputs: np.ndarray, state: np.ndarray) -> FrameSteps:
        """:meth:`run` of one frame (inputs [1, V, E]) as a generator pausing between its
        :data:`STEP_STAGES` stages, so a caller can spread a step over audio blocks. It gives
        exactly the numbers :meth:`run` gives; its return value is (controls [1, V, C], state [V, G])."""
        ...

    def step(self, f0_hz: np.ndarray, loudness_db: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame: f0_hz [V] Hz, loudness_db [V] dB, state [V, G] -> (controls [V, C], state [V, G])."""
        ...
