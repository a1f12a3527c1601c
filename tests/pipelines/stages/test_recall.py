"""recall: which profile a tuning changes, and the audio the parent practised on."""

from __future__ import annotations

import json

import pytest

from instrument_agent.personality.store import PersonalityStore
from pipelines.stages import recall, recorded_audio


def _with_audio(make_bundle, home, uris):
    parent = make_bundle("harp", home=home)
    manifest = parent.manifest
    manifest.practice.params["audio_uris"] = json.dumps(uris)
    files = {entry.path: parent.path / entry.path for entry in manifest.files}
    return PersonalityStore(home).commit("harp", manifest, files)


def test_an_unchanged_learner_profile_is_a_player_tuning(make_bundle, tmp_path):
    parent = make_bundle("harp", home=tmp_path / "home")
    found = recall(parent, {"steps": parent.manifest.learner_profile.steps})
    assert (found.mode, found.parent_version, found.audio_uris) == ("player", 1, ())
    assert found.outputs()["audio_uris"] == "[]"


def test_a_learner_change_recalls_the_recorded_audio(make_bundle, tmp_path):
    parent = _with_audio(make_bundle, tmp_path / "home", ["s3://audio/a.flac", "/data/b.wav"])
    found = recall(parent, {"steps": 7})
    assert found.mode == "learner" and found.audio_uris == ("s3://audio/a.flac", "/data/b.wav")
    assert found.learner_profile.steps == 7
    assert found.learner_profile.n_harmonics == parent.manifest.learner_profile.n_harmonics  # the parent's, changed
    outputs = found.outputs()
    assert json.loads(outputs["learner_profile_json"])["steps"] == 7 and outputs["parent_version"] == parent.version


def test_a_version_without_recorded_audio_is_named(make_bundle, tmp_path):
    parent = make_bundle("harp", home=tmp_path / "home")
    with pytest.raises(FileNotFoundError, match="harp v1: its practice record names no audio"):
        recall(parent, {"steps": 9})
    with pytest.raises(FileNotFoundError):
        recorded_audio(parent)
