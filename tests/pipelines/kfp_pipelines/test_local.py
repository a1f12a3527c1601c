"""The imitation and feedback pipelines really execute through kfp.local (tiny steps) and publish a version."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from _pipelines_support import tiny_learner_profile, write_bowed_string

from instrument_agent.images import PREVIEW_FILES
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.kfp_pipelines import LocalRunError, run_local

pytestmark = pytest.mark.slow  # trains a tiny model (about 30 s a run on 2 cores)

TINY = tiny_learner_profile()


@pytest.fixture
def recording(tmp_path):
    return write_bowed_string(tmp_path / "bowed.wav", 5.0, sample_rate=22050, seed=3)


def test_imitation_runs_on_kfp_local_and_publishes(recording, tmp_path, monkeypatch):
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    run = run_local(
        "imitation",
        pipeline_root=tmp_path / "root",
        deu="cello",
        practice_id="run-1",
        audio_uris=json.dumps([str(recording)]),
        learner_profile_json=json.dumps(TINY),
        feature_cache_dir=str(tmp_path / "cache"),
    )
    assert run["version"] == 1
    bundle = PersonalityStore(tmp_path / "home").get("cello", 1)
    practice = bundle.manifest.practice
    assert (
        practice.kind == personality_pb2.PracticeRecord.IMITATION
        and practice.runner == "kfp"
        and practice.practice_id == "run-1"
    )
    assert json.loads(practice.params["audio_uris"]) == [str(recording)]
    assert {"eval/spectral_loss", "baseline/sine", "baseline/harmonic_1_over_k"} <= set(bundle.manifest.metrics)
    assert bundle.manifest.learner_profile.steps == 3
    (evaluate,) = (tmp_path / "root").glob("amadeus-imitation-*/evaluate")
    assert (evaluate / "spectrogram").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    preview, rate = soundfile.read(str(evaluate / "preview"))
    assert rate == 16000 and preview.size >= 16000 and np.isfinite(preview).all()
    assert json.loads((evaluate / "evaluation").read_text())["blessed"] is True
    # The bundle's preview (for the agent's Practice tab) came to push as evaluate's own artifact:
    # the bundle holds exactly the files of that artifact's folder.
    artifact = evaluate / "bundle_preview"
    assert sorted(p.name for p in artifact.iterdir()) == sorted(PREVIEW_FILES)
    for name in PREVIEW_FILES:
        assert bundle.file(f"preview/{name}").read_bytes() == (artifact / name).read_bytes()
    assert bundle.file("preview/recording.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    heard, rate = soundfile.read(str(bundle.file("preview/resynthesis.wav")))
    assert rate == 16000 and heard.size > 0 and np.abs(heard).max() > 0


def test_a_failed_gate_publishes_nothing(recording, tmp_path, monkeypatch):
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    with pytest.raises(LocalRunError, match="Inner task failed.*push"):
        run_local(
            "imitation",
            pipeline_root=tmp_path / "root",
            deu="cello",
            audio_uris=json.dumps([str(recording)]),
            learner_profile_json=json.dumps(dict(TINY, max_eval_loss=1e-6)),
            feature_cache_dir=str(tmp_path / "cache"),
        )
    assert PersonalityStore(tmp_path / "home").deus() == []


def test_feedback_fine_tunes_on_kfp_local(make_bundle, recording, tmp_path, monkeypatch):
    """The KFP feedback pipeline takes ``feedback_method`` and ``finetune_steps`` and runs the same
    fine-tune as the embedded runner: a new version with new model files, the parent's lineage, the
    method and why recorded, trained for the budget it was given."""
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    for name in ("AMADEUS_REGISTRY", "AMADEUS_REGISTRY_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    parent = make_bundle("cello", home=tmp_path / "home")
    regions = [{"start": 0.5, "end": 2.0, "label": "good"}, {"start": 3.0, "end": 4.5, "label": "bad"}]
    run = run_local(
        "feedback",
        pipeline_root=tmp_path / "root",
        deu="cello",
        practice_id="feedback-1",
        performance_uri=str(recording),
        feedback_regions_json=json.dumps(regions),
        feedback_method="finetune",
        finetune_steps=120,
    )
    new = PersonalityStore(tmp_path / "home").get("cello", run["version"])
    record = new.manifest.practice
    assert (new.manifest.parent_version, new.manifest.parent_digest) == (parent.version, parent.digest)
    assert (record.kind, record.runner, record.practice_id) == (
        personality_pb2.PracticeRecord.FEEDBACK,
        "kfp",
        "feedback-1",
    )
    assert record.params["method"] == "finetune" and record.params["method_reason"].startswith("asked for --method")
    finetune = json.loads(record.params["finetune"])
    assert finetune["settings"]["steps"] == 120 and finetune["steps_run"] == 120  # not the default 150
    losses = finetune["losses"]
    assert losses["liked_after"] < losses["liked_before"]
    digests = {e.path: e.sha256 for e in new.manifest.files}
    assert digests["decoder.npz"] != {e.path: e.sha256 for e in parent.manifest.files}["decoder.npz"]
    assert "decoder.tflite" in digests  # the fine-tuned decoder is exported like a practised one
