"""The range test on real fluidsynth renders (a clarinet, FluidR3 and TimGM6mb): its notes sit in
their bands, the split attributes loss to the band it came from, and bad input is named."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.baselines import harmonic_stack_baseline
from pipelines.stages import (
    BANDS,
    range_examples,
    range_test_notes,
    render_range_test,
    score_range,
)

SR, FR, LOW, HIGH = 16000, 250, 50, 74
EXAMPLE_S = 2.0


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    folder = tmp_path_factory.mktemp("range")
    notes = range_test_notes(LOW, HIGH, seconds_per_band=6.0)
    own = render_range_test(notes, 71, "FluidR3", folder)
    other = render_range_test(notes, 71, "TimGM6mb", folder)
    load = {b: range_examples(own[b], SR, FR, EXAMPLE_S) for b in BANDS}
    return notes, load, {b: range_examples(other[b], SR, FR, EXAMPLE_S) for b in BANDS}


def _stack(f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
    return np.stack([harmonic_stack_baseline(f, ld, SR, FR, 60) for f, ld in zip(f0_hz, loudness_db, strict=True)])


def test_notes_sit_in_their_bands_an_octave_out_at_most():
    notes = range_test_notes(LOW, HIGH, seconds_per_band=20.0)
    pitches = {band: {n.pitch for n in band_notes} for band, band_notes in notes.items()}
    assert min(pitches["below"]) >= LOW - 12 and max(pitches["below"]) < LOW
    assert LOW <= min(pitches["inside"]) and max(pitches["inside"]) <= HIGH
    assert HIGH < min(pitches["above"]) and max(pitches["above"]) <= HIGH + 12
    assert all(len(p) >= 4 for p in pitches.values()), pitches
    assert range_test_notes(LOW, HIGH, seconds_per_band=20.0) == notes  # seeded


def test_bad_ranges_are_named():
    with pytest.raises(ValueError, match="80..60"):
        range_test_notes(80, 60)
    with pytest.raises(ValueError, match="'above'"):
        range_test_notes(100, 127)


def test_the_split_puts_the_loss_where_the_timbre_fails(renders):
    _, held_out, _ = renders
    assert all(len(held_out[b]) >= 2 for b in BANDS), {b: len(held_out[b]) for b in BANDS}
    stack = score_range(_stack, held_out, SR)
    low_hz, high_hz = 440 * 2 ** ((LOW - 69) / 12), 440 * 2 ** ((HIGH - 69) / 12)

    def in_range_only(f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        """The stack where the pitch is inside the range, noise outside: a timbre that collapses out of range."""
        rng = np.random.default_rng(0)
        audio = _stack(f0_hz, loudness_db)
        outside = np.repeat((f0_hz < low_hz / 1.03) | (f0_hz > high_hz * 1.03), SR // FR, axis=1)
        envelope = np.repeat(10 ** (loudness_db / 20), SR // FR, axis=1)  # noise at the recording's level
        return np.where(outside, envelope * rng.standard_normal(audio.shape), audio).astype(np.float32)

    collapsing = score_range(in_range_only, held_out, SR)
    # the extra loss lands out of range (inside, only frames whose tracked f0 strays out of the range)
    extra_in, extra_out = collapsing.in_range - stack.in_range, collapsing.out_of_range - stack.out_of_range
    assert extra_out > 3 * max(extra_in, 0.0) and extra_out > 2.0, (collapsing.to_dict(), stack.to_dict())
    assert collapsing.gap > 1.2 * stack.gap, (collapsing.to_dict(), stack.to_dict())
    assert set(collapsing.to_dict()) >= {"range/in", "range/out", "range/gap", "range/above/level_error_db"}


def test_the_same_notes_from_another_library_score_and_the_recording_itself_is_zero(renders):
    _, held_out, other = renders
    by_curves = {held_out[b].f0_hz.tobytes(): (held_out[b].audio, other[b].audio) for b in BANDS}
    itself = score_range(lambda f0, _ld: by_curves[f0.tobytes()][0], held_out, SR)
    library = score_range(lambda f0, _ld: by_curves[f0.tobytes()][1], held_out, SR)
    assert all(s.loss == 0.0 and abs(s.level_error_db) < 1e-6 for s in itself.bands.values())
    assert all(s.loss > 0.5 for s in library.bands.values()), library.to_dict()
    assert library.out_of_range > 0 and np.isfinite(library.gap)


def test_a_missing_band_or_a_wrong_shape_is_named(renders):
    _, held_out, _ = renders
    with pytest.raises(ValueError, match="'above'"):
        score_range(_stack, {b: held_out[b] for b in ("below", "inside")}, SR)
    with pytest.raises(ValueError, match="band 'below'"):
        score_range(lambda f0, ld: _stack(f0, ld)[:, :-1], held_out, SR)
