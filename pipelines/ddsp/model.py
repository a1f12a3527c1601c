"""The personality model: f0 and loudness curves → decoder → harmonic + noise (+ reverb) → audio."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .decoders import RnnFcDecoder
from .synths import FilteredNoise, Harmonic, Reverb

__all__ = ["PersonalityModel", "build_model", "resolve_profile"]


def resolve_profile(learner_profile=None):
    """A complete learnerProfile (``amadeus.v1.LearnerProfile``): every unset field defaulted.

    Accepts a message, ``None`` (the defaults of
    :func:`instrument_agent.profiles.default_learner_profile`) and raises
    :class:`instrument_agent.profiles.ProfileError` for out-of-range values.
    """
    from instrument_agent.profiles import resolve_learner_profile

    return resolve_learner_profile(learner_profile)


class PersonalityModel(keras.Model):
    """The DDSP personality (Keras model).

    Args:
        sample_rate: Hz of the audio it renders (16000..48000).
        frame_rate: control frames per second (divides ``sample_rate``).
        n_harmonics, n_noise_bands: synthesizer size (H, N).
        hidden_size, mlp_layers, gru_units: decoder size.
        reverb: learn a reverb impulse response of ``reverb_seconds``.
        seed: noise seed at inference, reverb initialisation.

    Call:
        ``{"f0_hz": [B, T] Hz, "loudness_db": [B, T] dB}`` (optionally
        ``noise_seed``: int32 [2], a fresh noise draw; without it the noise is
        the same on every call) → dict of ``audio [B, T * sample_rate / frame_rate]``,
        ``amplitude [B, T, 1]``, ``harmonic_distribution [B, T, H]``,
        ``noise_magnitudes [B, T, N]``.
    """

    def __init__(
        self,
        sample_rate: int,
        frame_rate: int,
        n_harmonics: int,
        n_noise_bands: int,
        hidden_size: int,
        mlp_layers: int,
        gru_units: int,
        reverb: bool = True,
        reverb_seconds: float = 0.5,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.sample_rate = int(sample_rate)
        self.frame_rate = int(frame_rate)
        self.decoder = RnnFcDecoder(hidden_size, mlp_layers, gru_units, n_harmonics, n_noise_bands, name="decoder")
        self.harmonic = Harmonic(sample_rate, frame_rate, name="harmonic")
        self.noise = FilteredNoise(sample_rate, frame_rate, seed=seed, name="noise")
        self.reverb = Reverb(sample_rate, reverb_seconds, seed=seed, name="reverb") if reverb else None
        self._config = {
            "sample_rate": self.sample_rate,
            "frame_rate": self.frame_rate,
            "n_harmonics": int(n_harmonics),
            "n_noise_bands": int(n_noise_bands),
            "hidden_size": int(hidden_size),
            "mlp_layers": int(mlp_layers),
            "gru_units": int(gru_units),
            "reverb": bool(reverb),
            "reverb_seconds": float(reverb_seconds),
            "seed": int(seed),
        }
        self.decoder.build()

    @property
    def hop(self) -> int:
        """Audio samples per control frame."""
        return self.harmonic.hop

    @classmethod
    def from_profile(cls, learner_profile=None) -> PersonalityModel:
        """Build from a learnerProfile message (unset fields take their defaults)."""
        p = resolve_profile(learner_profile)
        return cls(
            sample_rate=p.sample_rate,
            frame_rate=p.frame_rate,
            n_harmonics=p.n_harmonics,
            n_noise_bands=p.n_noise_bands,
            hidden_size=p.hidden_size,
            mlp_layers=p.mlp_layers,
            gru_units=p.gru_units,
            reverb=p.reverb,
            reverb_seconds=p.reverb_seconds,
            seed=p.seed,
        )

    def call(self, inputs, training=None, noise_seed=None):
        f0_hz = tf.cast(inputs["f0_hz"], tf.float32)
        loudness_db = tf.cast(inputs["loudness_db"], tf.float32)
        controls = self.decoder(f0_hz, loudness_db)
        amplitude = controls["amplitude"]
        distribution = controls["harmonic_distribution"]
        noise = controls["noise_magnitudes"]
        audio = self.harmonic(amplitude, distribution, f0_hz[..., None]) + self.noise(noise, seed=noise_seed)
        if self.reverb is not None:
            audio = self.reverb(audio)
        return {
            "audio": audio,
            "amplitude": amplitude,
            "harmonic_distribution": distribution,
            "noise_magnitudes": noise,
        }

    def reverb_impulse_response(self) -> np.ndarray | None:
        """The learned impulse response, [n_taps] float32 (first tap 0), or None without reverb."""
        if self.reverb is None:
            return None
        return np.asarray(self.reverb.impulse_response(), np.float32)

    def get_config(self):
        return dict(self._config)


def build_model(learner_profile=None) -> PersonalityModel:
    """A freshly initialised :class:`PersonalityModel` for a learnerProfile.

    Initialisation is deterministic in the profile's ``seed``.
    """
    p = resolve_profile(learner_profile)
    keras.utils.set_random_seed(int(p.seed))
    return PersonalityModel.from_profile(p)
