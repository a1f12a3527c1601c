"""Numpy DDSP synthesis for the agent: harmonic oscillators, filtered noise and
convolution reverb, streaming (state carried across blocks) and batched over voices.

Agrees with the TensorFlow synthesizers in ``pipelines.ddsp`` (see
docs/contracts.md, "Synthesis") and never imports TensorFlow.
"""

from .harmonic import harmonic_amplitudes, harmonic_pieces, harmonic_segment, harmonic_tilt_gains, harmonic_track
from .noise import FilteredNoise, NoiseFilterDesign
from .reverb import Reverb, resample_impulse_response

__all__ = [
    "FilteredNoise",
    "NoiseFilterDesign",
    "Reverb",
    "harmonic_amplitudes",
    "harmonic_pieces",
    "harmonic_segment",
    "harmonic_tilt_gains",
    "harmonic_track",
    "resample_impulse_response",
]
