"""Which feedback method a judged performance needs: the knobs, or a fine-tune of the decoder.

``--method knobs`` and ``--method finetune`` are taken as asked. ``auto`` (the default) measures
what the knobs *cannot* express (:mod:`.envelope`): the liked regions' harmonic envelope is
compared with the disliked regions' (or, when nothing was disliked, with the judged version's
own controls on the liked regions' curves); the best ``tilt · log2 k + c`` fit is what
``harmonic_tilt`` and ``gain_db`` can do, and when the RMS residual left over is above
:data:`RESIDUAL_THRESHOLD_DB` the difference is one of formants, odd/even balance or other
structure no knob reaches, so the decoder is fine-tuned. Measured on FluidR3 renders of the same
notes (docs/practice.md): the same instrument's two halves leave 0.9-1.8 dB, clarinet against
violin 11.8 dB, trumpet against flute (mostly a tilt) 1.8 dB of a 9.9 dB difference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .envelope import EnvelopeResidual, controls_envelope, harmonic_envelope, knob_residual
from .performance import Performance

__all__ = [
    "FEEDBACK_METHODS",
    "RESIDUAL_THRESHOLD_DB",
    "FeedbackMethodError",
    "MethodChoice",
    "check_method",
    "choose_method",
]

FEEDBACK_METHODS = ("auto", "knobs", "finetune")
RESIDUAL_THRESHOLD_DB = 3.0


class FeedbackMethodError(ValueError):
    """A feedback method other than auto, knobs or finetune."""


@dataclass(frozen=True)
class MethodChoice:
    """The method a feedback practice uses and why.

    Attributes:
        method: ``knobs`` | ``finetune``. requested: what was asked (``auto`` | ``knobs`` | ``finetune``).
        reason: a sentence for the record and the ama.
        residual: the envelope difference and what tilt + gain leave of it (:class:`EnvelopeResidual`).
        reference: what the liked envelope was compared with (``disliked`` | ``personality``).
    """

    method: str
    requested: str
    reason: str
    residual: EnvelopeResidual
    reference: str

    def record_params(self) -> dict[str, str]:
        """The practice record's parameters: method, why, and the measured residual."""
        return {
            "method": self.method,
            "method_requested": self.requested,
            "method_reason": self.reason,
            "envelope_residual": json.dumps({**self.residual.to_dict(), "reference": self.reference}, sort_keys=True),
        }


def check_method(method: str) -> str:
    """``method`` lower-cased, or :class:`FeedbackMethodError` naming it."""
    name = str(method or "auto").strip().lower()
    if name not in FEEDBACK_METHODS:
        raise FeedbackMethodError(f"feedback method {method!r}: expected one of {', '.join(FEEDBACK_METHODS)}")
    return name


def _mean_envelope(performance: Performance, label: str) -> np.ndarray | None:
    indices = performance.labelled(label)
    if not indices:
        return None
    envelopes = []
    for i in indices:
        a, b = performance.spans[i]
        envelopes.append(
            harmonic_envelope(
                performance.region_audio(i), performance.f0_hz[a:b], performance.sample_rate, performance.frame_rate
            )
        )
    stacked = np.stack(envelopes)
    out = np.full(stacked.shape[1], np.nan)
    seen = np.isfinite(stacked).any(axis=0)
    out[seen] = np.nanmean(stacked[:, seen], axis=0)
    return out


def _personality_envelope(parent, performance: Performance) -> np.ndarray:
    """The judged version's own harmonic envelope on the liked regions' curves (its decoder's controls)."""
    from instrument_agent.decoder import NumpyDecoder

    learner, player = performance.learner, performance.player
    decoder = NumpyDecoder(parent.file("decoder.npz"), learner.n_harmonics)
    rows = []
    for i in performance.labelled("good"):
        a, b = performance.spans[i]
        f0 = np.maximum(performance.f0_hz[a:b] * 2.0 ** (player.transpose / 12.0), 1.0).astype(np.float32)
        loudness = (performance.loudness_db[a:b] + player.loudness_offset_db).astype(np.float32)
        controls, _ = decoder.run(decoder.encode(f0, loudness)[:, None, :], decoder.initial_state(1))
        rows.append(controls[:, 0, 1 : 1 + learner.n_harmonics])
    return controls_envelope(np.concatenate(rows))


def choose_method(parent, performance: Performance, requested: str = "auto") -> MethodChoice:
    """The method for ``performance`` of ``parent`` (a Bundle): as ``requested``, or measured (``auto``)."""
    requested = check_method(requested)
    liked = _mean_envelope(performance, "good")
    disliked = _mean_envelope(performance, "bad")
    reference = "disliked" if disliked is not None else "personality"
    other = disliked if disliked is not None else _personality_envelope(parent, performance)
    residual = knob_residual(liked, other)
    said = (
        f"the liked regions' harmonic envelope differs from the {reference} one "
        f"by {residual.difference_db:.1f} dB RMS, "
        f"{residual.residual_db:.1f} dB of it beyond what tilt and gain can do "
        f"(fitted tilt {residual.tilt_db_per_octave:+.1f} dB/oct; threshold {RESIDUAL_THRESHOLD_DB:g} dB)"
    )
    if requested != "auto":
        return MethodChoice(requested, requested, f"asked for --method {requested}; {said}", residual, reference)
    method = "finetune" if residual.residual_db > RESIDUAL_THRESHOLD_DB else "knobs"
    return MethodChoice(method, requested, f"auto chose {method}: {said}", residual, reference)
