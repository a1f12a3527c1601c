"""Stage 4, ``evaluate`` (TFX's Evaluator): held-out loss of the personality and of the baselines.

The exported SavedModel's serving signature (``f0_hz``, ``loudness_db`` →
``audio``; docs/contracts.md) resynthesises every held-out example from that
example's own f0 and loudness curves (timbre transfer of the held-out
recording onto itself); :mod:`pipelines.baselines` renders the sine and 1/k
stack from the same curves. All three are scored against the real held-out
audio with the multi-scale spectral loss (:func:`spectral_loss`).

Level calibration: the resynthesis's A-weighted level against the recording's
(:func:`instrument_agent.level.level_gain_db`, the energy mean over the clips).
``eval/level_error_db`` is the held-out set's (resynthesis minus recording,
before calibration). The calibration gain is measured on all the audio the
practice has (the held-out examples plus up to :data:`CALIBRATION_SECONDS` of
non-overlapping training windows), each joined into one continuous clip the
decoder runs through without resetting its state, as the agent's engine plays
(a decoder trained on short windows drifts in level over a long clip, so the
windows one by one would miss what the agent plays by dB); a short practice's
level error also moves from one phrase to the next, so a few held-out seconds
alone give a noisy gain, and one scalar cannot overfit. Negated and clipped to ±:data:`MAX_LEVEL_GAIN_DB`, it is
the personality's ``FeatureStats.level_gain_db`` (``calibration`` below), which
the agent's engine and the TensorFlow renderers add to the playerProfile's
``gain_db``. A short practice's decoder comes out several dB too quiet (the
log-magnitude term of the loss weighs level little); this puts it back at the
recording's level without retraining. ``eval/level_error_calibrated_db`` and
``eval/spectral_loss_calibrated`` are the held-out set's after calibration.

Outputs: ``<workdir>/evaluate/metrics.json``, and the bundle's preview in ``preview_dir``
(default ``<workdir>/evaluate/``:data:`BUNDLE_PREVIEW`: the first evaluated example and its
resynthesis as WAVs and spectrogram PNGs, :func:`instrument_agent.images.write_preview`). The
preview is an output of its own (the graph's ``evaluate.bundle_preview``, a KFP artifact): the
push stage is given it and bundles it under ``preview/``::

    {"metrics": {"eval/spectral_loss": ..., "baseline/sine": ..., "baseline/harmonic_1_over_k": ...,
                 "eval/holdout_seconds": ..., "eval/on_training_data": 0|1,
                 "eval/level_error_db": ..., "eval/level_error_calibrated_db": ...,
                 "eval/spectral_loss_calibrated": ...},
     "calibration": {"level_gain_db": ...},
     "blessed": true|false, "reasons": [...]}

``blessed`` applies the learnerProfile's gates (``max_eval_loss``,
``must_beat_baselines``); :func:`~pipelines.stages.push` refuses an
unblessed personality.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from instrument_agent.level import level_gain_db
from pipelines.baselines import harmonic_stack_baseline, sine_baseline
from pipelines.data import Examples

from ._artifacts import learner_profile as _resolve
from ._artifacts import write_json

__all__ = [
    "BUNDLE_PREVIEW",
    "CALIBRATION_SECONDS",
    "MAX_LEVEL_GAIN_DB",
    "evaluate",
    "resynthesize",
    "spectral_loss",
]

MAX_LEVEL_GAIN_DB = 30.0
"""The largest level calibration applied, dB either way (a near-silent model is not blown up further)."""

CALIBRATION_SECONDS = 60.0
"""At most this much training audio joins the held-out set to measure the level calibration."""

BUNDLE_PREVIEW = "bundle_preview"
"""The default directory (in ``<workdir>/evaluate/``) of the preview that :func:`~pipelines.stages.push` bundles."""

_LOG_EPS = 1e-5
_BATCH = 4


def _stft_mag(audio: np.ndarray, n_fft: int) -> np.ndarray:
    """|STFT| with a periodic Hann window, hop n_fft/4, end zero-padded to ceil(n/hop)
    frames (as ``tf.signal.stft(pad_end=True)``): [..., frames, n_fft/2+1]."""
    hop = n_fft // 4
    n = audio.shape[-1]
    n_frames = max(1, -(-n // hop))
    padded = np.zeros(audio.shape[:-1] + ((n_frames - 1) * hop + n_fft,), dtype=np.float64)
    padded[..., :n] = audio
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[..., ::hop, :]
    window = np.hanning(n_fft + 1)[:-1]
    return np.abs(np.fft.rfft(frames * window, axis=-1))


def spectral_loss(
    target: np.ndarray,
    prediction: np.ndarray,
    fft_sizes: Sequence[int] = (2048, 1024, 512, 256, 128, 64),
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
) -> float:
    """DDSP's multi-scale spectral loss: for each FFT size (hop = size/4),
    ``mag_weight·mean|S_t − S_p| + logmag_weight·mean|log(max(S_t,1e-5)) − log(max(S_p,1e-5))|``,
    summed (the same loss as ``pipelines.ddsp.multiscale_spectral_loss``, in numpy).

    Args:
        target, prediction: [n] or [B, n] float audio of equal shape.

    Returns:
        The loss (float, >= 0; 0 for identical signals).
    """
    target = np.asarray(target, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    if target.shape != prediction.shape:
        raise ValueError(f"target {target.shape} and prediction {prediction.shape} differ in shape")
    total = 0.0
    for n_fft in fft_sizes:
        mag_t, mag_p = _stft_mag(target, n_fft), _stft_mag(prediction, n_fft)
        if mag_weight:
            total += mag_weight * float(np.mean(np.abs(mag_t - mag_p)))
        if logmag_weight:
            total += logmag_weight * float(
                np.mean(np.abs(np.log(np.maximum(mag_t, _LOG_EPS)) - np.log(np.maximum(mag_p, _LOG_EPS))))
            )
    return total


def resynthesize(saved_model_dir: str | Path, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
    """Run a personality's SavedModel (``serving_default``) on control curves.

    Args:
        f0_hz, loudness_db: [B, T] float32 (Hz, dB).

    Returns:
        [B, T * sample_rate / frame_rate] float32 audio.
    """
    import tensorflow as tf

    signature = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"]
    outputs = []
    for start in range(0, len(f0_hz), _BATCH):
        result = signature(
            f0_hz=tf.constant(f0_hz[start : start + _BATCH], tf.float32),
            loudness_db=tf.constant(loudness_db[start : start + _BATCH], tf.float32),
        )
        outputs.append(result["audio"].numpy())
    return np.concatenate(outputs).astype(np.float32)


def _joined(examples: Examples, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive windows as one continuous clip: f0 [1, K·T], loudness [1, K·T], audio [1, K·n]."""
    return (
        examples.f0_hz[keep].reshape(1, -1),
        examples.loudness_db[keep].reshape(1, -1),
        examples.audio[keep].reshape(1, -1),
    )


def _calibration_db(saved_model_dir: Path, features_dir: Path, holdout: Examples | None, sr: int) -> float:
    """The level calibration (dB, clipped), measured the way the agent plays: continuous clips.

    The held-out windows tile the timeline's tail and every other training window
    (they hop by half) tiles the rest, so each joins into one continuous clip that the
    decoder runs through without a state reset, as the engine does.
    """
    clips = [_joined(holdout, np.arange(len(holdout)))] if holdout is not None and len(holdout) else []
    if (features_dir / "train.npz").is_file():
        train = Examples.load(features_dir / "train.npz")
        keep = np.arange(0, len(train), 2)[: max(1, int(CALIBRATION_SECONDS * sr / max(1, train.audio.shape[-1])))]
        if len(train):
            clips.append(_joined(train, keep))
    recordings, resyntheses = [], []
    for f0, loudness, audio in clips:
        out = resynthesize(saved_model_dir, f0, loudness)
        m = min(out.shape[-1], audio.shape[-1])
        recordings.append(audio[0, :m])
        resyntheses.append(out[0, :m])
    gain = level_gain_db(np.concatenate(recordings), np.concatenate(resyntheses), sr)
    return float(np.clip(gain, -MAX_LEVEL_GAIN_DB, MAX_LEVEL_GAIN_DB))


def evaluate(
    export_dir: str | Path,
    features_dir: str | Path,
    learner_profile,
    workdir: str | Path,
    *,
    preview_dir: str | Path | None = None,
) -> str:
    """Score the exported personality and both baselines on the held-out examples.

    Args:
        export_dir: the train stage's export (holds ``saved_model/``).
        features_dir: the features stage's output (``holdout.npz``; ``train.npz``
            when there is no held-out set, flagged by ``eval/on_training_data``).
        learner_profile: message or dict (sample/frame rate, loss settings, gates).
        workdir: the practice's work directory.
        preview_dir: where the bundle's preview goes (:data:`instrument_agent.images.PREVIEW_FILES`;
            default ``<workdir>/evaluate/bundle_preview``); pass it to :func:`~pipelines.stages.push`.

    Returns:
        Path of ``metrics.json`` (str).
    """
    profile = _resolve(learner_profile)
    features_dir = Path(features_dir)
    examples = Examples.load(features_dir / "holdout.npz")
    on_training = len(examples) == 0
    if on_training:
        examples = Examples.load(features_dir / "train.npz")
    loss_args = {
        "fft_sizes": list(profile.fft_sizes),
        "mag_weight": profile.mag_weight,
        "logmag_weight": profile.logmag_weight,
    }
    sr, fr = profile.sample_rate, profile.frame_rate
    predicted = resynthesize(Path(export_dir) / "saved_model", examples.f0_hz, examples.loudness_db)
    n = min(predicted.shape[-1], examples.audio.shape[-1])
    target = examples.audio[:, :n]
    sine = np.stack([sine_baseline(f, ld, sr, fr) for f, ld in zip(examples.f0_hz, examples.loudness_db, strict=True)])[
        :, :n
    ]
    stack = np.stack(
        [
            harmonic_stack_baseline(f, ld, sr, fr, profile.n_harmonics)
            for f, ld in zip(examples.f0_hz, examples.loudness_db, strict=True)
        ]
    )[:, :n]
    from instrument_agent.images import write_preview

    level_error_db = -level_gain_db(target, predicted[:, :n], sr)
    gain_db = _calibration_db(Path(export_dir) / "saved_model", features_dir, None if on_training else examples, sr)
    calibrated = predicted[:, :n] * np.float32(10.0 ** (gain_db / 20.0))
    preview_dir = Path(preview_dir) if preview_dir is not None else Path(workdir) / "evaluate" / BUNDLE_PREVIEW
    write_preview(preview_dir, target[0], calibrated[0], sr)
    metrics = {
        "eval/spectral_loss": spectral_loss(target, predicted[:, :n], **loss_args),
        "eval/spectral_loss_calibrated": spectral_loss(target, calibrated, **loss_args),
        "eval/level_error_db": level_error_db,
        "eval/level_error_calibrated_db": -level_gain_db(target, calibrated, sr),
        "baseline/sine": spectral_loss(target, sine, **loss_args),
        "baseline/harmonic_1_over_k": spectral_loss(target, stack, **loss_args),
        "eval/holdout_seconds": float(target.size / sr),
        "eval/on_training_data": float(on_training),
    }
    reasons = []
    if profile.max_eval_loss and metrics["eval/spectral_loss"] > profile.max_eval_loss:
        reasons.append(
            f"eval/spectral_loss {metrics['eval/spectral_loss']:.4f} > max_eval_loss {profile.max_eval_loss:g}"
        )
    if profile.must_beat_baselines:
        for name in ("baseline/sine", "baseline/harmonic_1_over_k"):
            if metrics["eval/spectral_loss"] >= metrics[name]:
                reasons.append(
                    f"eval/spectral_loss {metrics['eval/spectral_loss']:.4f} does not beat {name} {metrics[name]:.4f}"
                )
    path = write_json(
        Path(workdir) / "evaluate" / "metrics.json",
        {"metrics": metrics, "calibration": {"level_gain_db": gain_db}, "blessed": not reasons, "reasons": reasons},
    )
    return str(path)
