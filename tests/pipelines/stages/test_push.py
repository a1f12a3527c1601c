"""push: the practice kind it records, the audio it records for a later tuning, and nothing
published for an unknown kind or an unblessed evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from instrument_agent.decoder import DecoderShape, random_decoder_weights
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.stages import EvaluationGateError, MissingPreviewError, UnknownPracticeKindError, push
from pipelines.stages._artifacts import learner_profile, write_json

PROFILE = {"hidden_size": 32, "gru_units": 32, "n_harmonics": 20, "n_noise_bands": 17, "reverb": False}


@pytest.fixture
def artifacts(tmp_path):
    """What train, features, evaluate and ingest leave for push (a real decoder's weights)."""
    work = tmp_path / "work"
    profile = learner_profile(PROFILE)
    shape = DecoderShape(
        profile.hidden_size, profile.mlp_layers, profile.gru_units, profile.n_harmonics, profile.n_noise_bands
    )
    (work / "train" / "export").mkdir(parents=True)
    np.savez(work / "train" / "export" / "decoder.npz", **random_decoder_weights(shape, seed=2))
    write_json(work / "features" / "stats.json", {"feature_stats": {"f0_midi_mean": 57.0, "loudness_db_mean": -31.0}})
    write_json(
        work / "ingest" / "recordings.json",
        {
            "recordings": [
                {"source": "/data/a.wav", "uri": "/data/a.wav", "sha256": "a" * 64},
                {"source": "/tmp/dl/000-b.wav", "uri": "s3://bucket/takes/b.wav", "sha256": "b" * 64},
            ]
        },
    )

    def metrics(blessed: bool) -> str:
        reasons = [] if blessed else ["eval/spectral_loss 9.0 > max_eval_loss 1"]
        return str(
            write_json(
                work / "evaluate" / "metrics.json",
                {"metrics": {"eval/spectral_loss": 9.0}, "blessed": blessed, "reasons": reasons},
            )
        )

    return work, metrics


def _push(work, metrics_path, home, **kwargs):
    return push("oboe", work / "train" / "export", work / "features", metrics_path, PROFILE, home=home, **kwargs)


@pytest.mark.parametrize("kind, expected", [("imitation", "IMITATION"), ("tuning", "TUNING"), ("feedback", "FEEDBACK")])
def test_push_records_the_practice_kind(artifacts, tmp_path, kind, expected):
    work, metrics = artifacts
    pushed = _push(work, metrics(True), tmp_path / "home", kind=kind, practice_id="p-1", params={"work_dir": "/w"})
    manifest = PersonalityStore(tmp_path / "home").get("oboe", pushed["version"]).manifest
    assert manifest.practice.kind == personality_pb2.PracticeRecord.Kind.Value(expected)
    assert manifest.practice.practice_id == "p-1" and manifest.practice.params["work_dir"] == "/w"
    # The audio as given (local path, or the s3:// URI rather than the download), for a later tuning.
    assert json.loads(manifest.practice.params["audio_uris"]) == ["/data/a.wav", "s3://bucket/takes/b.wav"]
    assert list(manifest.practice.data_digests) == ["a" * 64, "b" * 64]


def test_unknown_kind_or_failed_gates_publish_nothing(artifacts, tmp_path):
    work, metrics = artifacts
    with pytest.raises(UnknownPracticeKindError, match="unknown practice kind 'jam'"):
        _push(work, metrics(True), tmp_path / "home", kind="jam")
    with pytest.raises(EvaluationGateError, match="max_eval_loss"):
        _push(work, metrics(False), tmp_path / "home")
    assert PersonalityStore(tmp_path / "home").deus() == []


def test_coverage_map_is_recorded_added_by_a_continued_imitation_and_inherited_by_a_tuning(artifacts, tmp_path):
    from instrument_agent.coverage_map import CoverageMap, bundle_coverage
    from instrument_agent.dsp import midi_to_hz

    work, metrics = artifacts
    home = tmp_path / "home"

    def practised(notes) -> dict:
        f0 = midi_to_hz(np.repeat(np.asarray(notes, float), 50))
        return CoverageMap.from_frames(f0, np.ones_like(f0), np.full_like(f0, -20.0), 50).to_dict()

    def push_with(notes, **kwargs):
        stats = {"feature_stats": {"f0_midi_mean": 60.0}, "coverage": practised(notes)}
        write_json(work / "features" / "stats.json", stats)
        pushed = _push(work, metrics(True), home, **kwargs)
        return bundle_coverage(PersonalityStore(home).get("oboe", pushed["version"]))

    first = push_with([60, 62])
    assert first.pitch_seconds[[60, 62]].tolist() == [1.0, 1.0] and first.voiced_seconds == 2.0
    tuned = push_with([70], kind="tuning", parent_version=1)  # re-practised the same recordings
    assert np.array_equal(tuned.seconds, first.seconds)
    continued = push_with([62, 64], parent_version=2)  # an imitation on more audio: both maps
    assert continued.pitch_seconds[[60, 62, 64]].tolist() == [1.0, 2.0, 1.0]


def _preview(directory, seed: int):
    """A real preview folder (instrument_agent.images.write_preview of a tone and a noisier copy)."""
    from instrument_agent.images import write_preview

    t = np.arange(16000) / 16000.0
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
    noisy = tone + np.random.default_rng(seed).normal(0.0, 0.02, tone.size).astype(np.float32)
    return write_preview(directory, tone, noisy, 16000)


def test_push_bundles_the_preview_it_is_given_and_nothing_found_beside_the_evaluation(artifacts, tmp_path):
    """The preview is evaluate's own output (a KFP artifact on a cluster): push bundles the folder
    it is handed, and never looks for one beside ``metrics.json`` (which on a cluster is not there)."""
    from instrument_agent.images import PREVIEW_FILES

    work, metrics = artifacts
    path = metrics(True)
    _preview(work / "evaluate" / "bundle_preview", seed=1)  # beside the evaluation: ignored
    home = tmp_path / "home"
    store = PersonalityStore(home)
    plain = store.get("oboe", _push(work, path, home)["version"])
    assert not plain.has_file("preview")

    given = _preview(tmp_path / "elsewhere" / "bundle_preview", seed=2)
    bundle = store.get("oboe", _push(work, path, home, preview_dir=given)["version"])
    for name in PREVIEW_FILES:
        assert bundle.file(f"preview/{name}").read_bytes() == (given / name).read_bytes()
    beside = work / "evaluate" / "bundle_preview" / "resynthesis.wav"
    assert bundle.file("preview/resynthesis.wav").read_bytes() != beside.read_bytes()


def test_a_preview_folder_without_the_preview_files_publishes_nothing(artifacts, tmp_path):
    work, metrics = artifacts
    given = _preview(tmp_path / "bundle_preview", seed=3)
    (given / "recording.png").unlink()
    with pytest.raises(MissingPreviewError, match=r"preview '.*bundle_preview' lacks recording\.png"):
        _push(work, metrics(True), tmp_path / "home", preview_dir=given)
    with pytest.raises(MissingPreviewError, match="lacks recording.wav, resynthesis.wav"):
        _push(work, metrics(True), tmp_path / "home", preview_dir=tmp_path / "absent")
    assert PersonalityStore(tmp_path / "home").deus() == []
