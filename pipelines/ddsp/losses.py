"""DDSP's multi-scale spectral loss in TensorFlow.

For each FFT size ``s`` (periodic Hann window, hop ``s / 4`` = 75% overlap,
end zero-padded): ``mag_weight * mean|S_t - S_p| + logmag_weight * mean|log S_t - log S_p|``
(``log`` = :func:`~pipelines.ddsp.core.safe_log`, eps 1e-5), summed over the sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from .core import safe_log

__all__ = ["DEFAULT_FFT_SIZES", "SpectralLoss", "multiscale_spectral_loss", "per_example_spectral_loss"]

DEFAULT_FFT_SIZES = (2048, 1024, 512, 256, 128, 64)


def _magnitude(audio: tf.Tensor, size: int) -> tf.Tensor:
    return tf.abs(
        tf.signal.stft(
            audio,
            frame_length=size,
            frame_step=size // 4,
            fft_length=size,
            window_fn=tf.signal.hann_window,
            pad_end=True,
        )
    )


def multiscale_spectral_loss(
    target: tf.Tensor,
    prediction: tf.Tensor,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
) -> tf.Tensor:
    """The loss between two batches of audio.

    Args:
        target, prediction: [B, n] float32 audio (any sample rate; same shape).
        fft_sizes: FFT sizes (powers of two).
        mag_weight: weight of the L1 magnitude term.
        logmag_weight: weight of the L1 log-magnitude term.

    Returns:
        Scalar float32 loss (0 for identical signals).
    """
    target = tf.cast(target, tf.float32)
    prediction = tf.cast(prediction, tf.float32)
    total = tf.constant(0.0, tf.float32)
    for size in fft_sizes:
        mag_t = _magnitude(target, int(size))
        mag_p = _magnitude(prediction, int(size))
        if mag_weight:
            total += mag_weight * tf.reduce_mean(tf.abs(mag_t - mag_p))
        if logmag_weight:
            total += logmag_weight * tf.reduce_mean(tf.abs(safe_log(mag_t) - safe_log(mag_p)))
    return total


def per_example_spectral_loss(
    target: tf.Tensor,
    prediction: tf.Tensor,
    fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
    mag_weight: float = 1.0,
    logmag_weight: float = 1.0,
) -> tf.Tensor:
    """:func:`multiscale_spectral_loss` of each example on its own: ``[B]`` float32 (its mean over
    the batch is the batch loss). Feedback's fine-tune weighs examples by it."""
    target = tf.cast(target, tf.float32)
    prediction = tf.cast(prediction, tf.float32)
    total = tf.zeros(tf.shape(target)[:1], tf.float32)
    for size in fft_sizes:
        mag_t = _magnitude(target, int(size))
        mag_p = _magnitude(prediction, int(size))
        if mag_weight:
            total += mag_weight * tf.reduce_mean(tf.abs(mag_t - mag_p), axis=[1, 2])
        if logmag_weight:
            total += logmag_weight * tf.reduce_mean(tf.abs(safe_log(mag_t) - safe_log(mag_p)), axis=[1, 2])
    return total


class SpectralLoss(keras.losses.Loss):
    """:func:`multiscale_spectral_loss` as a Keras loss, configured from a learnerProfile.

    Args:
        fft_sizes, mag_weight, logmag_weight: as :func:`multiscale_spectral_loss`.
    """

    def __init__(
        self,
        fft_sizes: Sequence[int] = DEFAULT_FFT_SIZES,
        mag_weight: float = 1.0,
        logmag_weight: float = 1.0,
        name: str = "spectral_loss",
    ):
        super().__init__(name=name, reduction=None)
        self.fft_sizes = tuple(int(s) for s in fft_sizes)
        self.mag_weight = float(mag_weight)
        self.logmag_weight = float(logmag_weight)

    @classmethod
    def from_profile(cls, learner_profile) -> SpectralLoss:
        """From a resolved learnerProfile (``fft_sizes``, ``mag_weight``, ``logmag_weight``)."""
        return cls(
            tuple(learner_profile.fft_sizes) or DEFAULT_FFT_SIZES,
            learner_profile.mag_weight,
            learner_profile.logmag_weight,
        )

    def call(self, y_true, y_pred):
        return multiscale_spectral_loss(y_true, y_pred, self.fft_sizes, self.mag_weight, self.logmag_weight)

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self.call(y_true, y_pred)

    def get_config(self):
        return {
            "name": self.name,
            "fft_sizes": list(self.fft_sizes),
            "mag_weight": self.mag_weight,
            "logmag_weight": self.logmag_weight,
        }
