"""``amadeus practice imitation|tuning|feedback`` run with the exact command line the studio
operator's Job runs (:func:`studio_operator.operator.job_backend.practice_command`) and the
Job's environment (:func:`job_manifest`), against a tiny learnerProfile and generated audio:
a local path and an ``s3://`` object in a moto S3 server, the local store and an S3 registry.
The new version's manifest must record the Practice's uid and ``runner: job``, which is how
the operator finds it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import soundfile

from instrument_agent.cli import main
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.demo import bowed_string, practice_score
from studio_operator.operator.config import OperatorConfig
from studio_operator.operator.job_backend import job_manifest, practice_command
from studio_operator.operator.practice import PracticeRequest

TINY = {
    "sample_rate": 16000,
    "frame_rate": 50,
    "example_seconds": 1.0,
    "batch_size": 2,
    "steps": 6,
    "checkpoint_every": 3,
    "hidden_size": 16,
    "gru_units": 16,
    "n_harmonics": 8,
    "n_noise_bands": 8,
    "reverb": False,
    "holdout_fraction": 0.2,
    "f0_method": "yin",
}


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """6 s of a synthetic bowed string, 16 kHz FLAC."""
    path = tmp_path_factory.mktemp("audio") / "violin.flac"
    soundfile.write(str(path), bowed_string(practice_score(6.0, seed=3), 16000, seed=3), 16000, subtype="PCM_16")
    return path


def _request(kind: str, **fields) -> PracticeRequest:
    uid = str(uuid.uuid4())
    return PracticeRequest(
        name=f"{kind}-1", namespace="studio", uid=uid, generation=1, deu="viola", type=kind, **fields
    )


def _run_as_job(request: PracticeRequest, monkeypatch, home: Path, **config) -> tuple[int, list[str]]:
    """Run the Job's container command in-process with the Job container's environment
    (its AMADEUS_HOME/HOME pointed at ``home``). Returns (exit code, the command)."""
    container = job_manifest(request, OperatorConfig(**config))["spec"]["template"]["spec"]["containers"][0]
    command = container["command"]
    assert command == practice_command(request)
    for var in (
        "AMADEUS_REGISTRY",
        "AMADEUS_REGISTRY_URI",
        "MLFLOW_TRACKING_URI",
        "AMADEUS_MLFLOW_TRACKING_URI",
        "AMADEUS_S3_ENDPOINT",
    ):
        monkeypatch.delenv(var, raising=False)
    for entry in container["env"]:
        monkeypatch.setenv(entry["name"], entry["value"])
    monkeypatch.setenv("AMADEUS_HOME", str(home))
    monkeypatch.setenv("HOME", str(home.parent))
    assert command[:2] == ["amadeus", "practice"]
    return main(command[1:]), command


def _stderr(capsys) -> str:
    """What the command printed to stderr, rich's line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def _by_practice_id(versions, practice_id: str):
    found = [m for m in versions if m.practice.practice_id == practice_id]
    assert len(found) == 1, [m.practice.practice_id for m in versions]
    return found[0]


def _local_manifests(home: Path, deu: str) -> list[personality_pb2.PersonalityManifest]:
    store = PersonalityStore(home)
    return [store.get(deu, info.version).manifest for info in store.versions(deu)]


def _s3_registry(uri: str, endpoint: str):
    from pipelines.registry import S3Registry

    return S3Registry(uri, endpoint=endpoint, access_key="testing", secret_key="testing")


def _upload(endpoint: str, bucket: str, key: str, path: Path) -> str:
    from urllib.parse import urlparse

    from minio import Minio

    client = Minio(urlparse(endpoint).netloc, access_key="testing", secret_key="testing", secure=False)
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    client.fput_object(bucket, key, str(path))
    return f"s3://{bucket}/{key}"


@pytest.mark.slow
def test_job_imitation_with_local_audio_publishes_to_the_local_store(recording, tmp_path, monkeypatch):
    request = _request("imitation", audio=(str(recording),), learner_profile=TINY)
    home = tmp_path / "home"
    rc, command = _run_as_job(request, monkeypatch, home)
    assert rc == 0, command
    manifest = _by_practice_id(_local_manifests(home, "viola"), request.uid)
    assert manifest.practice.runner == "job"
    assert manifest.practice.kind == personality_pb2.PracticeRecord.IMITATION
    assert json.loads(manifest.practice.params["audio_uris"]) == [str(recording.resolve())]
    assert (
        manifest.learner_profile.steps == TINY["steps"] and manifest.learner_profile.n_harmonics == TINY["n_harmonics"]
    )
    assert manifest.metrics["eval/spectral_loss"] > 0


@pytest.mark.slow
def test_job_imitation_with_s3_audio_publishes_to_the_s3_registry(recording, tmp_path, monkeypatch, s3_endpoint):
    audio_uri = _upload(s3_endpoint, "practice-audio", "studio/imitation-1/violin.flac", recording)
    registry_uri = "s3://personalities/studio"
    request = _request("imitation", audio=(audio_uri,), learner_profile=TINY, player_profile={"harmonicTilt": -2.0})
    home = tmp_path / "home"
    rc, command = _run_as_job(request, monkeypatch, home, registry_uri=registry_uri, s3_endpoint=s3_endpoint)
    assert rc == 0, command

    registry = _s3_registry(registry_uri, s3_endpoint)
    pulled = [
        registry.pull("viola", info.version, tmp_path / f"v{info.version}") for info in registry.versions("viola")
    ]
    manifest = _by_practice_id([b.manifest for b in pulled], request.uid)
    assert manifest.practice.runner == "job"
    assert json.loads(manifest.practice.params["audio_uris"]) == [audio_uri]  # a later tuning reads the object again
    assert manifest.player_profile.harmonic_tilt == pytest.approx(-2.0)
    assert manifest.practice.data_digests[0] == __import__("hashlib").sha256(recording.read_bytes()).hexdigest()
    assert not PersonalityStore(home).deus()  # nothing published locally: the registry has it

    # A learnerProfile tuning of that version re-practises on the recorded s3:// audio.
    tuning = _request("tuning", base_version=manifest.version, learner_profile={"steps": 4})
    rc, command = _run_as_job(tuning, monkeypatch, home, registry_uri=registry_uri, s3_endpoint=s3_endpoint)
    assert rc == 0, command
    tuned = registry.pull("viola", None, tmp_path / "tuned").manifest
    assert (tuned.practice.practice_id, tuned.practice.runner, tuned.parent_version) == (
        tuning.uid,
        "job",
        manifest.version,
    )
    assert tuned.learner_profile.steps == 4 and json.loads(tuned.practice.params["audio_uris"]) == [audio_uri]
    assert list(tuned.practice.data_digests) == list(manifest.practice.data_digests)


def test_job_tuning_derives_a_version_with_the_player_change(make_bundle, tmp_path, monkeypatch):
    home = tmp_path / "home"
    parent = make_bundle("viola", home=home)
    request = _request("tuning", base_version=parent.version, player_profile={"harmonicTilt": -4.0})
    rc, command = _run_as_job(request, monkeypatch, home)
    assert rc == 0, command
    manifest = _by_practice_id(_local_manifests(home, "viola"), request.uid)
    assert (manifest.practice.kind, manifest.practice.runner) == (personality_pb2.PracticeRecord.TUNING, "job")
    assert manifest.parent_version == parent.version and manifest.version == parent.version + 1
    assert manifest.player_profile.harmonic_tilt == pytest.approx(-4.0)


@pytest.mark.slow
def test_job_feedback_on_an_s3_performance_publishes_to_the_s3_registry(
    make_bundle, recording, tmp_path, monkeypatch, s3_endpoint
):
    from instrument_agent.personality import read_bundle

    registry_uri = f"s3://personalities/feedback-{uuid.uuid4().hex[:6]}"
    registry = _s3_registry(registry_uri, s3_endpoint)
    parent = registry.publish(make_bundle("viola", home=tmp_path / "maker"))
    performance = _upload(s3_endpoint, "practice-audio", "studio/feedback-1/performance.flac", recording)
    request = _request(
        "feedback",
        base_version=parent.version,
        performance=performance,
        regions=((0.5, 2.0, "good"), (3.0, 4.5, "bad")),
    )
    assert "--good" in practice_command(request) and "--bad" in practice_command(request)
    rc, command = _run_as_job(
        request, monkeypatch, tmp_path / "home", registry_uri=registry_uri, s3_endpoint=s3_endpoint
    )
    assert rc == 0, command
    latest = registry.pull("viola", None, tmp_path / "latest")
    manifest = read_bundle(latest.path).manifest
    assert manifest.practice.practice_id == request.uid and manifest.practice.runner == "job"
    assert manifest.practice.kind == personality_pb2.PracticeRecord.FEEDBACK
    assert manifest.practice.params["performance"] == performance
    assert [r["label"] for r in json.loads(manifest.practice.params["regions"])] == ["good", "bad"]


@pytest.mark.slow
def test_job_feedback_runs_the_method_and_budget_of_the_practice(make_bundle, recording, tmp_path, monkeypatch):
    """``spec.feedback.method: finetune`` and ``finetuneSteps: 2`` reach the Job's command line, and the
    command run as the Job fine-tunes exactly that long: new model files, the parent's lineage."""
    home = tmp_path / "home"
    parent = make_bundle("viola", home=home)
    request = PracticeRequest.from_body(
        {
            "metadata": {"name": "feedback-1", "namespace": "studio", "uid": str(uuid.uuid4())},
            "spec": {
                "deu": "viola",
                "type": "feedback",
                "baseVersion": parent.version,
                "feedback": {
                    "performance": str(recording),
                    "regions": [
                        {"start": 0.5, "end": 2.5, "label": "good"},
                        {"start": 3.0, "end": 5.0, "label": "bad"},
                    ],
                    "method": "finetune",
                    "finetuneSteps": 2,
                },
            },
        }
    )
    command = practice_command(request)
    assert command[command.index("--method") + 1] == "finetune"
    assert command[command.index("--finetune-steps") + 1] == "2"
    rc, command = _run_as_job(request, monkeypatch, home)
    assert rc == 0, command
    manifest = _by_practice_id(_local_manifests(home, "viola"), request.uid)
    assert manifest.practice.kind == personality_pb2.PracticeRecord.FEEDBACK
    params = manifest.practice.params
    assert (params["method_requested"], params["method"]) == ("finetune", "finetune")
    finetune = json.loads(params["finetune"])
    assert finetune["settings"]["steps"] == 2 and finetune["steps_run"] == 2
    assert manifest.parent_version == parent.version


def test_job_feedback_without_a_method_asks_for_auto():
    """A Practice whose spec leaves the method out (the CRD's default) still says ``--method auto``;
    a tuning's command line has no feedback flags."""
    feedback = _request("feedback", performance="/p.wav", regions=((0.0, 1.0, "good"),))
    command = practice_command(feedback)
    assert command[command.index("--method") + 1] == "auto" and "--finetune-steps" not in command
    tuning = practice_command(_request("tuning", player_profile={"gainDb": -1.0}))
    assert "--method" not in tuning and "--finetune-steps" not in tuning


def test_missing_s3_audio_fails_naming_the_object_and_endpoint(tmp_path, monkeypatch, s3_endpoint, capsys):
    _upload(s3_endpoint, "practice-audio", "studio/other.txt", Path(__file__))
    request = _request("imitation", audio=("s3://practice-audio/studio/missing.flac",), learner_profile=TINY)
    rc, _ = _run_as_job(request, monkeypatch, tmp_path / "home", s3_endpoint=s3_endpoint)
    err = _stderr(capsys)
    assert rc == 2
    assert "s3://practice-audio/studio/missing.flac" in err and "no such object" in err and s3_endpoint in err
    assert not (tmp_path / "home" / "personalities").exists() or not PersonalityStore(tmp_path / "home").deus()


def test_unreachable_s3_endpoint_is_named(tmp_path, monkeypatch, capsys):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    request = _request("imitation", audio=("s3://practice-audio/a.flac",), learner_profile=TINY)
    rc, _ = _run_as_job(request, monkeypatch, tmp_path / "home", s3_endpoint=endpoint)
    err = _stderr(capsys)
    assert rc == 2 and "unreachable" in err and endpoint in err


def _app():
    import typer

    from pipelines.cli import register

    app = typer.Typer()
    app.command("noop")(lambda: None)
    register(app)
    return app


def test_friendly_forms_still_parse(tmp_path, monkeypatch, capsys):
    """Positional audio for imitation (a missing file is named), --player/--version for tuning;
    bad values are usage errors."""
    from typer.testing import CliRunner

    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AMADEUS_REGISTRY", raising=False)
    monkeypatch.delenv("AMADEUS_REGISTRY_URI", raising=False)
    missing = tmp_path / "nope.wav"
    assert main(["practice", "imitation", str(missing), "--deu", "viola"]) == 2
    assert f"{missing}: no such file" in _stderr(capsys)

    runner = CliRunner()
    for args, message in (
        (["imitation", "--deu", "viola", "--runner", "kfp", str(missing)], "expected one of embedded, job"),
        (["imitation", "--deu", "viola"], "at least one recording"),
        (["imitation", "--deu", "viola", "--learner-profile", "[1]", str(missing)], "expected a JSON object"),
        (["tuning", "--deu", "viola", "--player", "[1]", "--version", "2"], "JSON objects"),
        (["tuning", "--deu", "viola"], "at least one change"),
        (["feedback", "--deu", "viola", "--performance", str(missing), "--good", "2-1"], "--good"),
        (
            ["feedback", "--deu", "viola", "--performance", str(missing), "--good", "1-2", "--method", "weights"],
            "'weights': expected one of auto, knobs",
        ),
    ):
        result = runner.invoke(_app(), ["practice", *args])
        assert result.exit_code == 2 and message in " ".join(result.output.split()), (args, result.output)


def test_malformed_region_is_a_usage_error(tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(
        _app(),
        ["practice", "feedback", "--deu", "viola", "--performance", str(tmp_path / "p.wav"), "--good", "1.0to2.0"],
    )
    assert result.exit_code == 2 and "expected START-END" in result.output


def test_tuning_changes_must_be_json(tmp_path):
    from typer.testing import CliRunner

    result = CliRunner().invoke(_app(), ["practice", "tuning", "--deu", "viola", "--player", "{tilt"])
    assert result.exit_code == 2 and "must be JSON objects" in result.output
