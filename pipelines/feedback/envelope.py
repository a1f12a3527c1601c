"""What the playerProfile knobs cannot say: the harmonic envelope and its residual beyond tilt + gain.

The knobs change a sound's harmonic envelope (harmonic ``k``'s level in dB relative to the
others) only by ``tilt · log2 k + c``: ``harmonic_tilt`` is dB per octave of harmonic number and
``gain_db`` (with the renormalisation of the distribution) a constant. So the part of a
liked/disliked envelope difference that is *not* of that form is what no knob setting can
reach; when it is large, feedback has to fine-tune the decoder (:mod:`.choose`).

For audio ``[n]`` at ``sample_rate`` with f0 ``[F]`` at ``frame_rate``: the magnitude
spectrogram (periodic Hann, 1024-point FFT, hop = one control frame); for every sounding frame
(energy within 30 dB of the loudest, f0 > 20 Hz) harmonic ``k``'s magnitude is the peak within
±1 bin of ``k·f0`` (k = 1..``n_harmonics``, below 0.9 × Nyquist), in dB relative to the frame's
total harmonic power; the envelope is the mean over frames (NaN where no frame had harmonic k).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["ENVELOPE_HARMONICS", "EnvelopeResidual", "controls_envelope", "harmonic_envelope", "knob_residual"]

ENVELOPE_HARMONICS = 12
_N_FFT = 1024


def harmonic_envelope(
    audio: np.ndarray, f0_hz: np.ndarray, sample_rate: int, frame_rate: int, n_harmonics: int = ENVELOPE_HARMONICS
) -> np.ndarray:
    """Mean relative level of harmonics 1..``n_harmonics``, dB ``[n_harmonics]`` (NaN: never measurable).

    Args:
        audio: ``[n]`` float audio. f0_hz: ``[F]`` Hz per control frame (``n ≈ F · hop``).
    """
    hop = sample_rate // frame_rate
    audio = np.asarray(audio, np.float64)
    padded = np.pad(audio, (_N_FFT // 2, _N_FFT // 2))
    count = min(len(f0_hz), (len(padded) - _N_FFT) // hop + 1)
    window = np.hanning(_N_FFT + 1)[:-1]
    frames = np.stack([padded[i * hop : i * hop + _N_FFT] * window for i in range(count)])
    magnitude = np.abs(np.fft.rfft(frames, axis=1))  # [F, 513]
    energy = np.sum(magnitude**2, axis=1)
    f0 = np.asarray(f0_hz[:count], np.float64)
    sounding = (energy > 1e-3 * max(float(energy.max()), 1e-20)) & (f0 > 20.0)
    bin_hz = sample_rate / _N_FFT
    levels = np.full((count, n_harmonics), np.nan)
    for t in np.flatnonzero(sounding):
        ks = np.arange(1, n_harmonics + 1)
        ok = ks * f0[t] < 0.45 * sample_rate
        centre = np.round(ks[ok] * f0[t] / bin_hz).astype(int)
        peaks = np.max([magnitude[t, np.clip(centre + d, 0, magnitude.shape[1] - 1)] for d in (-1, 0, 1)], axis=0)
        total = np.sum(peaks**2) + 1e-20
        levels[t, : ok.sum()] = 10.0 * np.log10(peaks**2 / total + 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a harmonic no frame had: NaN, said in the docstring
        return np.nanmean(levels[sounding], axis=0) if sounding.any() else np.full(n_harmonics, np.nan)


@dataclass(frozen=True)
class EnvelopeResidual:
    """How far the knobs can go toward an envelope difference.

    Attributes:
        difference_db: RMS over harmonics of the envelope difference (liked − reference), dB.
        residual_db: RMS of what is left after the best ``tilt · log2 k + c`` fit, dB.
        tilt_db_per_octave: the fitted tilt (what ``harmonic_tilt`` could do).
        harmonics: how many harmonics both envelopes had.
    """

    difference_db: float
    residual_db: float
    tilt_db_per_octave: float
    harmonics: int

    def to_dict(self) -> dict[str, float]:
        return {
            "difference_db": round(self.difference_db, 3),
            "residual_db": round(self.residual_db, 3),
            "tilt_db_per_octave": round(self.tilt_db_per_octave, 3),
            "harmonics": self.harmonics,
        }


def knob_residual(liked: np.ndarray, reference: np.ndarray) -> EnvelopeResidual:
    """The part of ``liked − reference`` (envelopes, dB ``[K]``) that ``tilt · log2 k + c`` cannot fit.

    Harmonics missing in either envelope are left out; with fewer than 3 in common the residual is 0.
    """
    liked, reference = np.asarray(liked, np.float64), np.asarray(reference, np.float64)
    ok = np.isfinite(liked) & np.isfinite(reference)
    k = np.arange(1, len(liked) + 1)[ok]
    diff = (liked - reference)[ok]
    centred = diff - diff.mean() if diff.size else diff
    if diff.size < 3:
        return EnvelopeResidual(float(np.sqrt(np.mean(centred**2))) if diff.size else 0.0, 0.0, 0.0, int(diff.size))
    basis = np.stack([np.ones_like(k, dtype=np.float64), np.log2(k)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, diff, rcond=None)
    residual = diff - basis @ coef
    return EnvelopeResidual(
        difference_db=float(np.sqrt(np.mean(centred**2))),
        residual_db=float(np.sqrt(np.mean(residual**2))),
        tilt_db_per_octave=float(coef[1]),
        harmonics=int(diff.size),
    )


def controls_envelope(harmonic_distribution: np.ndarray, n_harmonics: int = ENVELOPE_HARMONICS) -> np.ndarray:
    """:func:`harmonic_envelope` of a decoder's own controls: ``harmonic_distribution [F, H]`` → dB ``[K]``
    (each frame's first ``K`` harmonics relative to their total power, averaged over frames)."""
    dist = np.asarray(harmonic_distribution, np.float64)[:, :n_harmonics] ** 2
    levels = 10.0 * np.log10(dist / (dist.sum(axis=1, keepdims=True) + 1e-20) + 1e-12)
    out = np.full(n_harmonics, np.nan)
    out[: levels.shape[1]] = levels.mean(axis=0)
    return out
