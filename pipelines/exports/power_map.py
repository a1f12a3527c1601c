"""DDSP-VST's input level (RMS power) mapped to the A-weighted loudness our decoder was trained on.

DDSP-VST feeds its models ``power_db``: the RMS of a 1024-sample frame at 16 kHz in dB re 1.0
(``ddsp.spectral_ops.compute_power``, floored at -80 dB). Our decoder takes the A-weighted
loudness of docs/contracts.md (:func:`instrument_agent.features.compute_loudness`). On one sound
the two differ by an offset that depends on its spectrum, so mostly on pitch (A-weighting cuts
low notes) and a little on level (brightness grows with loudness). :func:`fit_power_map` measures
that relation on the personality's own dry output over its pitch range and a ladder of levels
and fits ``loudness = b(P, m) · c`` with the basis ``b = [1, p, q, p·q, q², p²]``,
``p = P / 80``, ``q = midi / 127``; the coefficients are folded into the exported graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["POWER_FRAME", "PowerToLoudness", "compute_power", "fit_power_map", "power_map_error"]

POWER_FRAME = 1024  # samples at 16 kHz: DDSP-VST's kModelFrameSize
_FLOOR_DB = -80.0


def compute_power(audio: np.ndarray, sample_rate: int = 16000, frame_rate: int = 50, frame_size: int = POWER_FRAME):
    """DDSP's ``compute_power``: RMS of centred ``frame_size`` frames every ``sample_rate / frame_rate``
    samples, in dB re 1.0, floored at -80. audio [n] -> [T] float32 (T as :func:`compute_loudness`)."""
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = sample_rate // frame_rate
    n_frames = int(audio.size * frame_rate / sample_rate)
    padded = np.pad(audio, (frame_size // 2, frame_size // 2 + hop))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_size)[::hop][:n_frames]
    rms = np.sqrt(np.mean(frames**2, axis=-1))
    return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-20)), _FLOOR_DB).astype(np.float32)


def _basis(power_db: np.ndarray, midi: np.ndarray) -> np.ndarray:
    p = np.asarray(power_db, np.float64) / 80.0
    q = np.asarray(midi, np.float64) / 127.0
    return np.stack([np.ones_like(p), p, q, p * q, q * q, p * p], axis=-1)


@dataclass(frozen=True)
class PowerToLoudness:
    """``loudness_db = basis(power_db, midi) @ coefficients`` (dB), clipped to [-80, 0] as the engine does.

    Attributes:
        coefficients: [6] float64 (basis ``[1, p, q, p·q, q², p²]``, ``p = power_db/80``, ``q = midi/127``).
        rms_error_db: RMS of the fit's residual on the frames it was fitted on (dB).
    """

    coefficients: tuple[float, ...]
    rms_error_db: float = 0.0

    def apply(self, power_db: np.ndarray, midi: np.ndarray) -> np.ndarray:
        """[...] power dB, [...] MIDI note -> [...] loudness dB."""
        return np.clip(_basis(power_db, midi) @ np.asarray(self.coefficients), _FLOOR_DB, 0.0)

    def tf_apply(self, power_db, midi):
        """The same in TensorFlow ops (power_db, midi: tensors of one shape)."""
        import tensorflow as tf

        c = [float(v) for v in self.coefficients]
        p, q = power_db / 80.0, midi / 127.0
        loudness = c[0] + c[1] * p + c[2] * q + c[3] * p * q + c[4] * q * q + c[5] * p * p
        return tf.clip_by_value(loudness, _FLOOR_DB, 0.0)

    def to_dict(self) -> dict:
        return {
            "basis": ["1", "p", "q", "p*q", "q^2", "p^2"],
            "p": "power_db / 80",
            "q": "midi / 127",
            "coefficients": list(self.coefficients),
            "rms_error_db": self.rms_error_db,
        }


def _fit_frames(power_db, loudness_db, midi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames where both measures are well above the floor (the relation is meaningless in silence)."""
    keep = (power_db > -70.0) & (loudness_db > -70.0) & np.isfinite(midi)
    return power_db[keep], loudness_db[keep], midi[keep]


def fit_power_map(power_db: np.ndarray, loudness_db: np.ndarray, midi: np.ndarray) -> PowerToLoudness:
    """Least-squares fit of loudness from (power, pitch) on frames of one sound.

    Args:
        power_db, loudness_db, midi: [T] per-frame measures of the same audio.

    Raises:
        ValueError: fewer than 12 frames above -70 dB to fit on.
    """
    p, ld, m = _fit_frames(np.asarray(power_db), np.asarray(loudness_db), np.asarray(midi))
    if p.size < 12:
        raise ValueError(f"only {p.size} frames above -70 dB to fit the power -> loudness map on (need 12)")
    design = _basis(p, m)
    coef, *_ = np.linalg.lstsq(design, ld, rcond=None)
    residual = design @ coef - ld
    return PowerToLoudness(tuple(float(v) for v in coef), float(np.sqrt(np.mean(residual**2))))


def power_map_error(mapping: PowerToLoudness, power_db, loudness_db, midi) -> dict[str, float]:
    """How well ``mapping`` predicts the measured loudness on other audio (frames above -70 dB):
    ``{"rms_db", "p95_abs_db", "frames"}``."""
    p, ld, m = _fit_frames(np.asarray(power_db), np.asarray(loudness_db), np.asarray(midi))
    err = mapping.apply(p, m) - ld
    if not err.size:
        return {"rms_db": float("nan"), "p95_abs_db": float("nan"), "frames": 0.0}
    return {
        "rms_db": float(np.sqrt(np.mean(err**2))),
        "p95_abs_db": float(np.percentile(np.abs(err), 95)),
        "frames": float(err.size),
    }
