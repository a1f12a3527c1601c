"""DDSP in TensorFlow 2 / Keras 3: DSP core, synthesizers, spectral loss, the
paper's RNN-FC decoder and the personality model (see docs/contracts.md)."""

from .core import (
    DB_RANGE,
    angular_cumsum,
    exp_sigmoid,
    hz_to_midi,
    midi_to_hz,
    normalize_distribution,
    remove_above_nyquist,
    safe_log,
    upsample_linear,
)
from .decoders import DecoderWeightsError, RnnFcDecoder
from .losses import DEFAULT_FFT_SIZES, SpectralLoss, multiscale_spectral_loss, per_example_spectral_loss
from .model import PersonalityModel, build_model, resolve_profile
from .synths import FilteredNoise, Harmonic, Reverb, SynthConfigError, noise_impulse_responses

__all__ = [
    "DB_RANGE",
    "DEFAULT_FFT_SIZES",
    "DecoderWeightsError",
    "FilteredNoise",
    "Harmonic",
    "PersonalityModel",
    "Reverb",
    "RnnFcDecoder",
    "SpectralLoss",
    "SynthConfigError",
    "angular_cumsum",
    "build_model",
    "exp_sigmoid",
    "hz_to_midi",
    "midi_to_hz",
    "multiscale_spectral_loss",
    "noise_impulse_responses",
    "normalize_distribution",
    "per_example_spectral_loss",
    "remove_above_nyquist",
    "resolve_profile",
    "safe_log",
    "upsample_linear",
]
