"""The feedback practice end to end (``run_practice("feedback", ...)``): a real performance
(rendered by the agent's engine, written as WAV), marked regions, a new version whose rendering
moves toward the liked sound."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from instrument_agent.engine import Engine
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.profiles import default_player_profile
from instrument_agent.proto import personality_pb2
from instrument_agent.render import transfer_timbre
from pipelines.feedback import FeedbackRegionError, parse_region, spectral_centroid_hz
from pipelines.practice import PracticeRequest, run_practice

SR, FR = 16000, 50


def _curves(seconds: float = 6.0):
    """A held note around A3 with vibrato, and a gently breathing loudness."""
    t = np.arange(int(seconds * FR)) / FR
    f0 = 220.0 * 2 ** (0.15 * np.sin(2 * np.pi * 5 * t) / 12)
    loudness = -24.0 + 3.0 * np.sin(2 * np.pi * 0.5 * t)
    return f0, loudness


def _player(**knobs) -> personality_pb2.PlayerProfile:
    profile = default_player_profile()
    for key, value in knobs.items():
        setattr(profile, key, value)
    return profile


def _render(bundle, player, f0, loudness) -> np.ndarray:
    engine = Engine.from_bundle(bundle, sample_rate=SR, backend="numpy", player_profile=player)
    return transfer_timbre(engine, f0, loudness)[: len(f0) * SR // FR]


def _span(audio, start, end):
    return audio[int(start * SR) : int(end * SR)]


@pytest.fixture
def judged(make_bundle, tmp_path):
    """deu 'viola' v1 (tilt 0) and a performance whose first half was played bright (+4 dB/oct)
    and second half dull (-6 dB/oct), as when the ama sweeps the timbre control."""
    bundle = make_bundle("viola", seed=4, n_harmonics=40)
    f0, loudness = _curves()
    bright = _render(bundle, _player(harmonic_tilt=4.0), f0, loudness)
    dull = _render(bundle, _player(harmonic_tilt=-6.0), f0, loudness)
    half = len(bright) // 2
    performance = np.concatenate([bright[:half], dull[half:]])
    path = tmp_path / "performance.wav"
    soundfile.write(str(path), performance, SR, subtype="FLOAT")
    return bundle, path, performance, (f0, loudness)


@pytest.mark.slow
def test_feedback_moves_the_centroid_toward_the_liked_region(judged, tmp_path):
    bundle, path, performance, (f0, loudness) = judged
    regions = [parse_region("1.0-2.5", "good"), parse_region("4.0-5.0", "bad")]
    request = PracticeRequest("viola", performance=path, regions=regions, feedback_steps=40)
    result = run_practice("feedback", request, tmp_path / "home")
    knobs = result.steps["feedback"]["knobs"]

    assert result.version == 2 and result.parent_version == 1
    assert knobs["harmonic_tilt"] > 1.5  # brighter, toward the liked +4 dB/oct
    store = PersonalityStore(tmp_path / "home")
    new = store.get("viola", 2)
    assert new.digest == result.digest
    assert new.manifest.practice.kind == personality_pb2.PracticeRecord.FEEDBACK
    assert json.loads(new.manifest.practice.params["regions"])[1] == {"start": 4.0, "end": 5.0, "label": "bad"}
    assert new.manifest.player_profile.harmonic_tilt == pytest.approx(knobs["harmonic_tilt"], abs=1e-3)
    assert [e.sha256 for e in new.manifest.files] == [
        e.sha256 for e in bundle.manifest.files
    ]  # same model, no training

    # The measured descriptor: spectral centroid of the renderings in the disliked region.
    liked = spectral_centroid_hz(_span(performance, 1.0, 2.5), SR)
    disliked = spectral_centroid_hz(_span(performance, 4.0, 5.0), SR)
    before = spectral_centroid_hz(_span(_render(bundle, bundle.manifest.player_profile, f0, loudness), 4.0, 5.0), SR)
    after = spectral_centroid_hz(_span(_render(new, new.manifest.player_profile, f0, loudness), 4.0, 5.0), SR)
    assert disliked < before < liked
    # Stated margin: at least half of the distance to the liked centroid is closed,
    # and it moves away from the disliked one.
    assert abs(after - liked) <= 0.5 * abs(before - liked), (liked, disliked, before, after)
    assert abs(after - disliked) > abs(before - disliked)


def test_regions_are_checked(judged, tmp_path):
    _, path, _, _ = judged
    home = tmp_path / "home"
    with pytest.raises(FeedbackRegionError, match="only 6.00 s long"):
        run_practice(
            "feedback", PracticeRequest("viola", performance=path, regions=[parse_region("5.0-7.5", "good")]), home
        )
    with pytest.raises(FeedbackRegionError, match="at least one liked region"):
        run_practice(
            "feedback", PracticeRequest("viola", performance=path, regions=[parse_region("1.0-2.0", "bad")]), home
        )
    with pytest.raises(FeedbackRegionError, match="expected START-END"):
        parse_region("1.0..2.0", "good")
    with pytest.raises(FeedbackRegionError, match="end must come after"):
        parse_region("3-2", "bad")
    assert PersonalityStore(tmp_path / "home").versions("viola")[-1].version == 1  # nothing published
