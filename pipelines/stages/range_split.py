"""The range holds: held-out loss on test notes inside the training range against notes up to an
octave below and above it (issue #13, item 3).

A *range test* is three held-out phrases (:func:`range_test_notes`), seeded apart from any practice
score: ``inside`` uses the training range's notes, ``below`` the octave under its lowest note and
``above`` the octave over its highest. Each band is rendered (:func:`render_range_test`, fluidsynth,
reverb off) and cut into whole, non-overlapping examples with their own f0 and loudness
(:func:`range_examples`). :func:`score_range` resynthesises every band from those curves with any
:class:`Resynthesizer` (a personality's SavedModel through :func:`personality_resynthesizer`, a
baseline, or another sample library's render of the same notes) and scores it against the band's
audio with the multi-scale spectral loss (:func:`~pipelines.stages.evaluate.spectral_loss`) and the
A-weighted level error (:func:`instrument_agent.level.level_gain_db`).

``RangeSplit.gap`` is out-of-range loss over in-range loss: 1.0 means the timbre holds an octave
out as well as it does inside; a decoder that collapses to noise or a sine outside the notes it
practised on shows a gap well above 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from instrument_agent.level import level_gain_db
from pipelines.data import Examples, compute_features
from pipelines.demo import Note, practice_score, render_with_soundfont, write_midi

from .evaluate import resynthesize, spectral_loss

__all__ = [
    "BANDS",
    "OUT_OF_RANGE",
    "BandScore",
    "RangeSplit",
    "Resynthesizer",
    "personality_resynthesizer",
    "range_examples",
    "range_test_notes",
    "render_range_test",
    "score_range",
]

BANDS = ("below", "inside", "above")
"""The range test's bands, low to high."""

OUT_OF_RANGE = ("below", "above")
"""The bands outside the training range."""

_TEST_SEED = 9_001  # apart from the practice scores' seeds: different notes and rhythms


class Resynthesizer(Protocol):
    """Audio from control curves: ``f0_hz``, ``loudness_db`` [B, T] (Hz, dB) → [B, T * hop] float32."""

    def __call__(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray: ...


def personality_resynthesizer(saved_model_dir: str | Path) -> Resynthesizer:
    """A personality's SavedModel (``serving_default``) as a :class:`Resynthesizer`."""
    return lambda f0_hz, loudness_db: resynthesize(saved_model_dir, f0_hz, loudness_db)


def range_test_notes(
    low: int, high: int, *, seconds_per_band: float = 10.0, octave: int = 12, seed: int = _TEST_SEED
) -> dict[str, list[Note]]:
    """Held-out phrases per band: ``inside`` in ``[low, high]``, ``below`` in ``[low-octave, low-1]``,
    ``above`` in ``[high+1, high+octave]`` (MIDI notes, clipped to 0..127).

    Raises:
        ValueError: a range that is empty, or leaves no room below or above within MIDI.
    """
    if not 0 <= low <= high <= 127:
        raise ValueError(f"training range {low}..{high} is not a MIDI note range (0 <= low <= high <= 127)")
    if octave < 2:
        raise ValueError(f"octave {octave} must be at least 2 semitones")
    ranges = {
        "below": (max(0, low - octave), low - 1),
        "inside": (low, high),
        "above": (high + 1, min(127, high + octave)),
    }
    for band, (lo, hi) in ranges.items():
        if hi - lo < 1:
            raise ValueError(f"training range {low}..{high} leaves no {band!r} band ({lo}..{hi}) within MIDI 0..127")
    return {
        band: practice_score(seconds_per_band, low=lo, high=hi, seed=seed + i)
        for i, (band, (lo, hi)) in enumerate(ranges.items())
    }


def render_range_test(
    notes: Mapping[str, list[Note]],
    program: int,
    soundfont: str | Path,
    folder: str | Path,
    *,
    sample_rate: int = 16000,
) -> dict[str, Path]:
    """Render each band's notes on GM ``program`` with ``soundfont`` to ``folder/<band>-<soundfont>.wav``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tag = Path(soundfont).stem
    return {
        band: render_with_soundfont(
            write_midi(band_notes, folder / f"{band}.mid", program=program, expression=True),
            soundfont,
            folder / f"{band}-{tag}.wav",
            sample_rate=sample_rate,
        )
        for band, band_notes in notes.items()
    }


def range_examples(
    wav: str | Path, sample_rate: int, frame_rate: int, example_seconds: float, f0_method: str = "yin"
) -> Examples:
    """A band's render as whole, non-overlapping examples (from time 0, no trimming, so renders of the
    same notes by two libraries stay aligned) with their own f0 and loudness."""
    from instrument_agent.audio import read_mono

    audio = read_mono(wav, sample_rate).audio
    hop = sample_rate // frame_rate
    frames = max(1, int(round(example_seconds * frame_rate)))
    n_examples = audio.size // (frames * hop)
    if n_examples < 1:
        raise ValueError(f"{wav}: {audio.size / sample_rate:.2f} s is shorter than one {example_seconds} s example")
    audio = audio[: n_examples * frames * hop]
    feats = compute_features(audio, sample_rate, frame_rate, f0_method)
    return Examples(
        audio=audio.reshape(n_examples, frames * hop),
        f0_hz=feats.f0_hz[: n_examples * frames].reshape(n_examples, frames),
        f0_confidence=feats.f0_confidence[: n_examples * frames].reshape(n_examples, frames),
        loudness_db=feats.loudness_db[: n_examples * frames].reshape(n_examples, frames),
    )


@dataclass(frozen=True)
class BandScore:
    """One band's held-out figures: ``loss`` (multi-scale spectral), ``level_error_db`` (A-weighted,
    resynthesis minus recording), ``seconds`` of audio scored."""

    loss: float
    level_error_db: float
    seconds: float


@dataclass(frozen=True)
class RangeSplit:
    """Per-band scores and the in-range / out-of-range summary."""

    bands: dict[str, BandScore] = field(default_factory=dict)

    @property
    def in_range(self) -> float:
        """The ``inside`` band's loss."""
        return self.bands["inside"].loss

    @property
    def out_of_range(self) -> float:
        """The out-of-range bands' loss, weighted by their seconds."""
        scored = [self.bands[b] for b in OUT_OF_RANGE]
        return float(sum(s.loss * s.seconds for s in scored) / sum(s.seconds for s in scored))

    @property
    def gap(self) -> float:
        """``out_of_range / in_range`` (1.0: the timbre holds an octave out)."""
        return self.out_of_range / self.in_range

    def to_dict(self) -> dict[str, float]:
        """Flat metrics: ``range/<band>/loss``, ``range/<band>/level_error_db``,
        ``range/in``, ``range/out``, ``range/gap``."""
        flat = {
            f"range/{b}/{k}": float(getattr(s, k)) for b, s in self.bands.items() for k in ("loss", "level_error_db")
        }
        return {**flat, "range/in": self.in_range, "range/out": self.out_of_range, "range/gap": self.gap}


def score_range(
    resynthesizer: Resynthesizer | Callable[[np.ndarray, np.ndarray], np.ndarray],
    examples: Mapping[str, Examples],
    sample_rate: int,
    fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128, 64),
) -> RangeSplit:
    """Score ``resynthesizer`` on every band of ``examples`` (band → :class:`Examples`, all of :data:`BANDS`).

    Raises:
        ValueError: a band is missing, or the resynthesis's shape is not the band audio's.
    """
    missing = [b for b in BANDS if b not in examples]
    if missing:
        raise ValueError(f"range test lacks the band(s) {missing} (needs {list(BANDS)})")
    bands = {}
    for band in BANDS:
        held_out = examples[band]
        audio = np.asarray(resynthesizer(held_out.f0_hz, held_out.loudness_db), dtype=np.float32)
        if audio.shape != held_out.audio.shape:
            raise ValueError(
                f"band {band!r}: resynthesis {audio.shape} is not the held-out audio's {held_out.audio.shape}"
            )
        bands[band] = BandScore(
            loss=spectral_loss(held_out.audio, audio, fft_sizes=fft_sizes),
            level_error_db=-level_gain_db(held_out.audio, audio, sample_rate),
            seconds=held_out.audio.size / sample_rate,
        )
    return RangeSplit(bands)
