"""derive: a playerProfile change over the parent's, published without training; the one merge."""

from __future__ import annotations

import json

import pytest

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.profiles import ProfileError, default_player_profile
from instrument_agent.proto import personality_pb2
from pipelines.stages import derive, player_profile_over


def test_a_change_is_merged_over_the_parents_profile():
    parent = default_player_profile()
    parent.harmonic_tilt, parent.reverb_mix, parent.configured = 2.0, 0.5, True
    merged = player_profile_over(parent, {"gain_db": -3.0, "envelope": {"attack_s": 0.2}, "transpose": None})
    assert merged.configured and merged.gain_db == -3.0 and merged.envelope.attack_s == pytest.approx(0.2)
    assert merged.harmonic_tilt == 2.0 and merged.reverb_mix == 0.5  # the rest is the parent's
    assert merged.envelope.release_s == parent.envelope.release_s
    assert player_profile_over(parent, {}) is None and player_profile_over(parent, None) is None
    assert player_profile_over(None, {"gain_db": 1.0}).max_voices == default_player_profile().max_voices
    with pytest.raises(ProfileError, match="unknown PlayerProfile field 'tilt'"):
        player_profile_over(parent, {"tilt": 1.0})


def test_derive_commits_the_parents_model_with_the_new_profile(make_bundle, tmp_path):
    home = tmp_path / "home"
    parent = make_bundle("oboe", seed=2, home=home)
    store = PersonalityStore(home)
    new = derive(store, parent, {"harmonic_tilt": -1.5}, practice_id="p-1", runner="kfp", params={"note": "x"})
    manifest = store.get("oboe", new.version).manifest
    assert new.version == 2 and manifest.parent_version == 1 and manifest.parent_digest == parent.digest
    assert manifest.player_profile.harmonic_tilt == -1.5
    assert (manifest.practice.kind, manifest.practice.practice_id, manifest.practice.runner) == (
        personality_pb2.PracticeRecord.TUNING,
        "p-1",
        "kfp",
    )
    assert list(manifest.practice.data_digests) == list(parent.manifest.practice.data_digests)
    assert json.loads(manifest.practice.params["player_change"]) == {"harmonic_tilt": -1.5}
    assert manifest.practice.params["note"] == "x"
    assert [e.sha256 for e in manifest.files] == [e.sha256 for e in parent.manifest.files]


def test_a_tuning_keeps_the_parents_coverage_map(tmp_path):
    import numpy as np

    from instrument_agent.coverage_map import CoverageMap, bundle_coverage
    from instrument_agent.dsp import midi_to_hz

    store = PersonalityStore(tmp_path / "home")
    f0 = midi_to_hz(np.repeat([55.0, 57.0], 25))
    manifest = personality_pb2.PersonalityManifest(sample_rate=16000, frame_rate=50)
    CoverageMap.from_frames(f0, np.ones_like(f0), np.full_like(f0, -25.0), 50).to_proto(manifest.coverage)
    parent = store.commit("oboe", manifest, {"decoder.npz": b"weights"})
    tuned = bundle_coverage(store.get("oboe", derive(store, parent, {"gain_db": -2.0}).version))
    assert np.array_equal(tuned.seconds, bundle_coverage(parent).seconds) and tuned.voiced_seconds == 1.0
