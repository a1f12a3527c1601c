"""Tuning: a playerProfile change is a new version at once; a learnerProfile change re-runs the
previous practice's pipeline on its recorded audio (``practice.params["audio_uris"]``), reusing
the cached features, both in-process (``run_practice``, the embedded runner) and on kfp.local
(``run_local``, the same tuning graph compiled)."""

from __future__ import annotations

import json
import time

import pytest
from _pipelines_support import tiny_learner_profile, write_bowed_string

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.kfp_pipelines import run_local
from pipelines.practice import NothingToTuneError, PracticeRequest, run_practice

TINY = tiny_learner_profile()


def test_player_change_is_instant_and_keeps_the_model(make_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    parent = make_bundle("flute", seed=1, home=tmp_path / "home")
    started = time.perf_counter()
    result = run_practice("tuning", PracticeRequest("flute", player_profile={"harmonic_tilt": -2.5, "gain_db": 3.0}))
    assert result.mode == "player" and result.version == 2 and time.perf_counter() - started < 5.0
    assert result.digest == PersonalityStore(tmp_path / "home").info("flute", 2).digest
    new = PersonalityStore(tmp_path / "home").get("flute", 2)
    assert new.manifest.practice.kind == personality_pb2.PracticeRecord.TUNING
    assert new.manifest.player_profile.harmonic_tilt == -2.5 and new.manifest.player_profile.gain_db == 3.0
    assert new.manifest.player_profile.reverb_mix == 1.0  # untouched knobs keep the parent's values
    assert new.manifest.parent_version == 1 and new.manifest.parent_digest == parent.digest
    assert [e.sha256 for e in new.manifest.files] == [e.sha256 for e in parent.manifest.files]
    with pytest.raises(NothingToTuneError):
        run_practice("tuning", PracticeRequest("flute"))


def test_in_process_tuning_of_the_player_profile_derives_without_training(make_bundle, tmp_path):
    parent = make_bundle("flute", seed=1, home=tmp_path / "home")
    request = PracticeRequest(
        "flute", learner_profile=parent.manifest.learner_profile, player_profile={"gain_db": -4.0}, practice_id="t-1"
    )
    result = run_practice("tuning", request, tmp_path / "home")
    manifest = PersonalityStore(tmp_path / "home").get("flute", result.version).manifest
    assert manifest.version == 2 and manifest.practice.kind == personality_pb2.PracticeRecord.TUNING
    assert manifest.practice.runner == "embedded" and manifest.practice.practice_id == "t-1"
    assert manifest.player_profile.gain_db == -4.0 and manifest.parent_digest == parent.digest
    (workdir,) = (tmp_path / "home" / "practice" / "flute").iterdir()
    assert sorted(p.name for p in workdir.glob("*.done.json")) == ["derive.done.json", "recall.done.json"]


@pytest.mark.slow
def test_learner_change_reruns_the_practice_on_the_recorded_audio_with_cached_features(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    audio = write_bowed_string(tmp_path / "bowed.wav", 5.0, sample_rate=16000, seed=5)
    cache = tmp_path / "cache"
    imitated = run_practice("imitation", PracticeRequest("cello", audio=[audio], learner_profile=TINY, cache_dir=cache))
    first = PersonalityStore(home).get("cello", imitated.version).manifest
    assert json.loads(first.practice.params["audio_uris"]) == [str(audio)]

    # In-process (the embedded runner walking the tuning graph): recall finds the audio, features come from the cache.
    tuned = run_practice("tuning", PracticeRequest("cello", learner_profile=dict(steps=4), cache_dir=cache), home)
    assert tuned.mode == "learner" and tuned.parent_version == 1
    second = PersonalityStore(home).get("cello", tuned.version).manifest
    assert (
        second.version == 2
        and second.parent_version == 1
        and second.practice.kind == personality_pb2.PracticeRecord.TUNING
    )
    assert second.learner_profile.steps == 4 and second.learner_profile.n_harmonics == 20
    (workdir,) = (home / "practice" / "cello").glob("tuning-*")
    assert json.loads((workdir / "features.done.json").read_text())["outputs"]["cache"] == {"hits": 1, "misses": 0}
    assert json.loads(second.practice.params["audio_uris"]) == [str(audio)]

    # On kfp.local (the same graph compiled): tuning the in-process tuned version again.
    result = run_local(
        "tuning",
        pipeline_root=tmp_path / "again",
        deu="cello",
        practice_id="tuning-kfp",
        base_version=2,
        learner_profile_json=json.dumps({"steps": 5, "learning_rate": 0.001}),
        feature_cache_dir=str(cache),
    )
    assert result["version"] == 3  # recall said "learner": the stages ran (their features artifact below), not derive
    # Feature extraction did not run again: every recording came from the cache.
    (stats,) = (tmp_path / "again").glob("*/features/examples/stats.json")
    assert json.loads(stats.read_text())["cache"] == {"hits": 1, "misses": 0}
    new = PersonalityStore(home).get("cello", result["version"])
    assert new.manifest.practice.kind == personality_pb2.PracticeRecord.TUNING and new.manifest.practice.runner == "kfp"
    assert new.manifest.learner_profile.steps == 5 and new.manifest.learner_profile.learning_rate == pytest.approx(
        0.001
    )
    assert new.manifest.learner_profile.n_harmonics == 20  # the rest of the parent's profile carried over
    assert new.manifest.parent_version == 2
    assert json.loads(new.manifest.practice.params["audio_uris"]) == [str(audio)]
