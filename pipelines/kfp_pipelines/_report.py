"""The evaluate step's human artifacts: an audio preview and a spectrogram image."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_preview", "write_spectrogram"]


def write_preview(
    model_dir: str | Path, features_dir: str | Path, sample_rate: int, wav_path: str | Path, max_seconds: float = 8.0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Resynthesise the held-out examples (the personality's SavedModel, driven by their own f0
    and loudness) and write them, one after another, to ``wav_path`` (float WAV).

    Returns:
        (target [n], predicted [n], sample_rate): the held-out audio and its resynthesis, float32.
    """
    import soundfile

    from pipelines.data import Examples
    from pipelines.stages import resynthesize

    features_dir = Path(features_dir)
    examples = Examples.load(features_dir / "holdout.npz")
    if len(examples) == 0:
        examples = Examples.load(features_dir / "train.npz")
    keep = max(1, int(np.ceil(max_seconds * sample_rate / examples.audio.shape[1])))
    predicted = resynthesize(Path(model_dir) / "saved_model", examples.f0_hz[:keep], examples.loudness_db[:keep])
    n = min(predicted.shape[1], examples.audio.shape[1])
    target = examples.audio[:keep, :n].reshape(-1).astype(np.float32)
    predicted = predicted[:, :n].reshape(-1).astype(np.float32)
    Path(wav_path).parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(wav_path), predicted, sample_rate, format="WAV", subtype="FLOAT")
    return target, predicted, sample_rate


def write_spectrogram(target: np.ndarray, predicted: np.ndarray, sample_rate: int, png_path: str | Path) -> None:
    """Log-magnitude spectrograms (n_fft 1024, hop 256) of the held-out audio above its resynthesis, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipelines.stages.evaluate import _stft_mag

    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, audio, title in (
        (axes[0], target, "held-out recording"),
        (axes[1], predicted, "personality's resynthesis"),
    ):
        mag = _stft_mag(audio, 1024)
        seconds = len(audio) / sample_rate
        ax.imshow(
            20 * np.log10(mag.T + 1e-5),
            origin="lower",
            aspect="auto",
            vmin=-80,
            vmax=20,
            extent=(0, seconds, 0, sample_rate / 2),
        )
        ax.set_title(title)
        ax.set_ylabel("Hz")
    axes[1].set_xlabel("s")
    fig.tight_layout()
    Path(png_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(str(png_path), format="png", dpi=80)
    plt.close(fig)
