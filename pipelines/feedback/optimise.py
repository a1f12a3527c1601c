"""Optimising playerProfile knobs through the differentiable synthesizer.

The personality's decoder turns each marked region's own f0 and loudness
into controls once (they do not depend on the knobs). The knobs then act as
the agent's engine applies them:

* ``harmonic_tilt`` (dB/octave): harmonic ``k`` scaled by ``10^(tilt·log2 k / 20)`` before the
  distribution is renormalised;
* ``noise_gain_db``: filtered-noise magnitudes scaled by ``10^(g/20)``;
* ``gain_db``: the output scaled by ``10^((g + level_gain_db)/20)``, with the personality's
  level calibration (``FeatureStats.level_gain_db``) on top, as the engine applies it;

and :mod:`pipelines.ddsp`'s ``Harmonic`` and ``FilteredNoise`` render the
region (plus the learned reverb at the profile's ``reverb_mix``, fixed).
The descriptors (:mod:`.descriptors`) of every rendering are pulled toward
the liked regions' mean ``L`` and pushed from the disliked regions' mean
``B`` (scaled units, see :func:`~.descriptors.descriptor_vector`)::

    loss(θ) = mean_r |z_r(θ) − L|²  −  γ · mean_r min(|z_r(θ) − B|², 1)  +  β · |(θ − θ0) / s|²

over every marked region ``r``; θ = (tilt, noise gain, gain), s = (3 dB/oct,
6 dB, 6 dB) the step scales, bounds tilt ∈ [−12, 12], noise ∈ [−40, 20] dB,
gain ∈ [−24, 12] dB. Adam on ``(θ − θ0)/s``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .descriptors import descriptor_vector, measure_tf

__all__ = ["KNOBS", "OptimiseResult", "RegionControls", "optimise_knobs"]

KNOBS = ("harmonic_tilt", "noise_gain_db", "gain_db")
_STEP = np.array([3.0, 6.0, 6.0], np.float32)
_LOW = np.array([-12.0, -40.0, -24.0], np.float32)
_HIGH = np.array([12.0, 20.0, 12.0], np.float32)


@dataclass(frozen=True)
class RegionControls:
    """The decoder's controls for one region: amplitude [F,1], harmonic_distribution [F,H],
    noise_magnitudes [F,N], f0_hz [F] (Hz), and its label (good | bad)."""

    amplitude: np.ndarray
    harmonic_distribution: np.ndarray
    noise_magnitudes: np.ndarray
    f0_hz: np.ndarray
    label: str


@dataclass(frozen=True)
class OptimiseResult:
    knobs: dict[str, float]  # the new values
    start: dict[str, float]  # the values before
    loss_start: float
    loss_end: float
    steps: int


def _render(
    controls: RegionControls,
    theta,
    sample_rate: int,
    frame_rate: int,
    reverb_ir,
    reverb_mix: float,
    level_gain_db: float = 0.0,
):
    import tensorflow as tf

    from pipelines.ddsp import FilteredNoise, Harmonic

    tilt, noise_db, gain_db = theta[0], theta[1], theta[2]
    h = controls.harmonic_distribution.shape[-1]
    octaves = tf.constant(np.log2(np.arange(1, h + 1, dtype=np.float32)))
    tilt_gain = tf.pow(10.0, tilt * octaves / 20.0)
    harmonic = Harmonic(sample_rate, frame_rate)(
        tf.constant(controls.amplitude[None]),
        tf.constant(controls.harmonic_distribution[None]) * tilt_gain,
        tf.constant(controls.f0_hz[None, :, None]),
    )
    noise = FilteredNoise(sample_rate, frame_rate, seed=0)(
        tf.constant(controls.noise_magnitudes[None]) * tf.pow(10.0, noise_db / 20.0)
    )
    dry = (harmonic + noise)[0]
    if reverb_ir is not None and reverb_mix > 0:
        n = int(dry.shape[0])
        size = 1 << int(np.ceil(np.log2(n + len(reverb_ir))))
        wet = tf.signal.irfft(
            tf.signal.rfft(dry, [size]) * tf.signal.rfft(tf.constant(reverb_ir, tf.float32), [size]), [size]
        )[:n]
        dry = dry + reverb_mix * wet
    return dry * tf.pow(10.0, (gain_db + level_gain_db) / 20.0)


def optimise_knobs(
    regions: Sequence[RegionControls],
    liked: np.ndarray,
    disliked: np.ndarray | None,
    start: dict[str, float],
    *,
    sample_rate: int,
    frame_rate: int,
    reverb_ir: np.ndarray | None = None,
    reverb_mix: float = 1.0,
    level_gain_db: float = 0.0,
    steps: int = 60,
    learning_rate: float = 0.15,
    push_weight: float = 0.5,
    prior_weight: float = 0.01,
    progress: Callable[[int, float], None] | None = None,
) -> OptimiseResult:
    """Find knobs whose renderings of ``regions`` sound like ``liked`` and unlike ``disliked``.

    Args:
        regions: every marked region's controls.
        liked, disliked: [3] mean raw descriptors (brightness, HNR dB, level dB) of the liked /
            disliked parts of the performance (``disliked`` None when nothing was disliked).
        start: the current knob values (:data:`KNOBS`).
        steps, learning_rate: Adam on the scaled knob offsets.
        push_weight (γ), prior_weight (β): see the module docstring.
        level_gain_db: the personality's level calibration (``FeatureStats.level_gain_db``).
        progress: optional ``progress(step, loss)``.
    """
    import tensorflow as tf

    theta0 = np.array([start[k] for k in KNOBS], np.float32)
    target = tf.constant(descriptor_vector(np.asarray(liked, np.float32)))
    away = None if disliked is None else tf.constant(descriptor_vector(np.asarray(disliked, np.float32)))
    offset = tf.Variable(np.zeros(3, np.float32))
    optimiser = tf.keras.optimizers.Adam(learning_rate)

    def loss_fn():
        theta = tf.clip_by_value(theta0 + offset * _STEP, _LOW, _HIGH)
        pull, push = [], []
        for region in regions:
            audio = _render(region, theta, sample_rate, frame_rate, reverb_ir, reverb_mix, level_gain_db)
            z = descriptor_vector(measure_tf(audio, region.f0_hz, sample_rate, frame_rate))
            pull.append(tf.reduce_sum((z - target) ** 2))
            if away is not None:
                push.append(tf.minimum(tf.reduce_sum((z - away) ** 2), 1.0))
        loss = tf.add_n(pull) / len(pull) + prior_weight * tf.reduce_sum(offset**2)
        if push:
            loss -= push_weight * tf.add_n(push) / len(push)
        return loss

    first = float(loss_fn())
    last = first
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn()
        optimiser.apply_gradients([(tape.gradient(loss, offset), offset)])
        last = float(loss)
        if progress is not None:
            progress(step + 1, last)
    theta = np.clip(theta0 + offset.numpy() * _STEP, _LOW, _HIGH)
    return OptimiseResult(
        knobs={k: float(v) for k, v in zip(KNOBS, theta, strict=True)},
        start={k: float(v) for k, v in zip(KNOBS, theta0, strict=True)},
        loss_start=first,
        loss_end=float(loss_fn()),
        steps=steps,
    )
