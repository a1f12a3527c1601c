"""The real kopf handlers against the emulated API server and the KFP API double."""

from __future__ import annotations

import asyncio
import json

import pytest
from _operator_harness import fast_config, wait_for  # noqa: E402
from _personalities import publishing_executor, seed_version  # noqa: E402
from _standin_pipeline import compile_standin  # noqa: E402

from instrument_agent.personality.store import PersonalityStore  # noqa: E402
from studio_operator.operator.kfp_backend import KfpBackend  # noqa: E402
from studio_operator.operator.practice import PracticeRequest  # noqa: E402

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]


def _phase(cluster, name):
    return cluster.status(name).get("phase")


def _condition(cluster, name, type_):
    for cond in cluster.status(name).get("conditions") or ():
        if cond["type"] == type_:
            return cond
    return None


async def test_tuning_practice_publishes_a_new_version_through_the_store(
    cluster, kfp_api, start_operator, amadeus_home
):
    seed_version(amadeus_home, "cello")
    kfp_api.executor = publishing_executor(amadeus_home)
    await start_operator(kfp_host=kfp_api.url)

    created = await cluster.apply(
        "brighter", {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": -6, "harmonicTilt": 2}}
    )

    await wait_for(lambda: _phase(cluster, "brighter") == "Succeeded")
    status = cluster.status("brighter")
    assert status["version"] == 2
    assert status["runName"] == f"practice-{created['metadata']['uid']}"
    assert status["runId"] == kfp_api.created[0]["run_id"]
    assert status["observedGeneration"] == 1 and status["startTime"] and status["completionTime"]
    assert _condition(cluster, "brighter", "Succeeded")["status"] == "True"

    # The run was really submitted with the practice's parameters, once.
    assert len(kfp_api.created) == 1
    params = kfp_api.created[0]["runtime_config"]["parameters"]
    assert params["deu"] == "cello" and params["practice_id"] == created["metadata"]["uid"]
    assert json.loads(params["player_profile_json"]) == {"gainDb": -6, "harmonicTilt": 2, "configured": True}

    # ... and the new version is a real personality with the new playerProfile and its lineage.
    bundle = PersonalityStore(amadeus_home).get("cello", 2)
    assert bundle.manifest.player_profile.gain_db == -6
    assert bundle.manifest.parent_version == 1
    assert bundle.manifest.practice.practice_id == created["metadata"]["uid"]

    reasons = await wait_for(lambda: {e["reason"] for e in cluster.events("brighter")} >= {"Submitted", "Succeeded"})
    assert reasons


async def test_unknown_deu_ends_failed_with_a_clear_condition(cluster, kfp_api, start_operator):
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("nobody", {"deu": "theremin", "type": "tuning", "playerProfile": {"gainDb": 3}})

    await wait_for(lambda: _phase(cluster, "nobody") == "Failed")
    failed = _condition(cluster, "nobody", "Failed")
    assert failed["reason"] == "UnknownDeu"
    assert "'theremin' has no personality yet" in failed["message"]
    assert kfp_api.created == []  # nothing was submitted


async def test_unknown_base_version_ends_failed(cluster, kfp_api, start_operator, amadeus_home):
    seed_version(amadeus_home, "cello")
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("from-v7", {"deu": "cello", "type": "tuning", "baseVersion": 7, "playerProfile": {"gainDb": 3}})

    await wait_for(lambda: _phase(cluster, "from-v7") == "Failed")
    failed = _condition(cluster, "from-v7", "Failed")
    assert failed["reason"] == "UnknownVersion" and "no version 7 (versions: 1)" in failed["message"]
    assert kfp_api.created == []


async def test_failing_kfp_api_is_retried_with_backoff_not_failed(cluster, kfp_api, start_operator, amadeus_home):
    kfp_api.executor = publishing_executor(amadeus_home)
    kfp_api.down.set()  # every KFP call answers 503
    running = await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("first-notes", {"deu": "oboe", "type": "imitation", "audio": ["s3://takes/oboe-1.wav"]})

    submitted = await wait_for(lambda: _condition(cluster, "first-notes", "Submitted"))
    assert submitted["status"] == "False" and submitted["reason"] == "BackendUnavailable"
    await asyncio.sleep(1.0)  # several retries (0.2 s doubling to 0.8 s)
    assert _phase(cluster, "first-notes") == "Pending"
    errors = running.operator.metrics.submit_errors.labels(backend="kfp", kind="unavailable")._value.get()
    assert errors >= 2

    kfp_api.down.clear()  # the API comes back: the same practice goes through, once
    await wait_for(lambda: _phase(cluster, "first-notes") == "Succeeded")
    assert cluster.status("first-notes")["version"] == 1
    assert cluster.status("first-notes")["metrics"] == {"eval/spectral_loss": 1.25, "baseline/sine": 3.5}
    assert len(kfp_api.created) == 1


async def test_unreachable_kfp_endpoint_keeps_the_practice_pending(cluster, start_operator):
    await start_operator(kfp_host="http://127.0.0.1:9")  # nothing listens on the discard port
    await cluster.apply("offline", {"deu": "oboe", "type": "imitation", "audio": ["/data/oboe.wav"]})

    submitted = await wait_for(lambda: _condition(cluster, "offline", "Submitted"))
    assert submitted["reason"] == "BackendUnavailable" and "unreachable" in submitted["message"]
    await asyncio.sleep(0.6)
    assert _phase(cluster, "offline") == "Pending"


async def test_a_restarted_operator_adopts_the_run_instead_of_submitting_again(
    cluster, kfp_api, start_operator, amadeus_home, tmp_path
):
    release = asyncio.Event()
    loop = asyncio.get_running_loop()
    publish = publishing_executor(amadeus_home)

    def slow_run(run):
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
        return publish(run)

    kfp_api.executor = slow_run
    seed_version(amadeus_home, "cello")
    # A run submitted by an operator that crashed before it could record it in the status:
    body = await cluster.apply("crashy", {"deu": "cello", "type": "tuning", "playerProfile": {"gainDb": -3}})
    config = fast_config(kfp_host=kfp_api.url, pipeline_cache_dir=str(tmp_path / "c"))
    orphan = KfpBackend(config, compile_fn=compile_standin).submit(PracticeRequest.from_body(body))

    first = await start_operator(kfp_host=kfp_api.url)
    await wait_for(lambda: cluster.status("crashy").get("runId"))
    assert cluster.status("crashy")["runId"] == orphan.run_id
    await first.shutdown()  # and restart half-way through the run
    await start_operator(kfp_host=kfp_api.url)
    release.set()

    await wait_for(lambda: _phase(cluster, "crashy") == "Succeeded")
    assert len(kfp_api.created) == 1
    assert cluster.status("crashy")["version"] == 2


async def test_deleting_a_running_practice_cancels_its_run(cluster, kfp_api, start_operator):
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    kfp_api.executor = lambda run: (
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(timeout=30),
        ("SUCCEEDED", ""),
    )[1]
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("long", {"deu": "viola", "type": "imitation", "audio": ["s3://takes/viola.wav"]})
    await wait_for(lambda: _phase(cluster, "long") == "Running")
    run_id = cluster.status("long")["runId"]

    await cluster.delete("long")
    await wait_for(lambda: cluster.practice("long") is None)  # the finalizer was released
    assert kfp_api.terminated == [run_id]
    assert kfp_api.runs[run_id]["state"] == "CANCELED"
    gate.set()


async def test_a_failed_run_fails_the_practice_with_the_run_message(cluster, kfp_api, start_operator):
    kfp_api.executor = lambda run: ("FAILED", "train: loss is NaN at step 12")
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("nan", {"deu": "viola", "type": "imitation", "audio": ["s3://takes/viola.wav"]})

    await wait_for(lambda: _phase(cluster, "nan") == "Failed")
    failed = _condition(cluster, "nan", "Failed")
    assert failed["reason"] == "RunFailed" and "loss is NaN at step 12" in failed["message"]
    await wait_for(lambda: any(e["type"] == "Warning" and e["reason"] == "RunFailed" for e in cluster.events("nan")))


async def test_a_run_that_publishes_nothing_fails(cluster, kfp_api, start_operator):
    await start_operator(kfp_host=kfp_api.url)  # the default executor succeeds without pushing
    await cluster.apply("gated", {"deu": "viola", "type": "imitation", "audio": ["s3://takes/viola.wav"]})
    await wait_for(lambda: _phase(cluster, "gated") == "Failed")
    assert _condition(cluster, "gated", "Failed")["reason"] == "NoVersionPublished"


async def test_gpu_settings_reach_the_submitted_pipeline(cluster, kfp_api, start_operator):
    await start_operator(kfp_host=kfp_api.url)
    resources = {
        "gpu": {"count": 2, "type": "nvidia.com/gpu"},
        "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }
    await cluster.apply(
        "on-gpu", {"deu": "viola", "type": "imitation", "audio": ["s3://t/v.wav"], "resources": resources}
    )
    await wait_for(lambda: kfp_api.created)

    submitted = kfp_api.created[0]["pipeline_spec"]
    container = next(iter(submitted["pipeline_spec"]["deploymentSpec"]["executors"].values()))["container"]
    assert container["resources"]["accelerator"]["resourceType"] == "nvidia.com/gpu"
    assert container["resources"]["accelerator"]["resourceCount"] == "2"
    platform = next(iter(submitted["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]["executors"].values()))
    assert platform["nodeSelector"]["labels"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert platform["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


async def test_spec_change_after_submission_is_rejected_with_a_condition(cluster, kfp_api, start_operator):
    gate = asyncio.Event()
    loop = asyncio.get_running_loop()
    kfp_api.executor = lambda run: (
        asyncio.run_coroutine_threadsafe(gate.wait(), loop).result(timeout=30),
        ("FAILED", "stopped"),
    )[1]
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("moving", {"deu": "viola", "type": "imitation", "audio": ["s3://t/a.wav"]})
    await wait_for(lambda: cluster.status("moving").get("runId"))

    await cluster.patch_spec("moving", {"audio": ["s3://t/b.wav"]})  # an API server without CEL lets it through
    rejected = await wait_for(lambda: _condition(cluster, "moving", "SpecChangeRejected"))
    assert rejected["status"] == "True" and "generation 2 ignored" in rejected["message"]
    assert len(kfp_api.created) == 1 and cluster.status("moving")["observedGeneration"] == 1
    gate.set()


async def test_job_backend_runs_the_practice_as_a_job_with_gpu_settings(cluster, start_operator, amadeus_home):
    running = await start_operator(
        default_backend="job", image="registry.example/amadeus-studio:1.0", s3_secret="amadeus-s3"
    )
    resources = {
        "gpu": {"count": 1},
        "memory": "8Gi",
        "nodeSelector": {"pool": "gpu"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    }
    created = await cluster.apply(
        "oboe-1", {"deu": "oboe", "type": "imitation", "audio": ["s3://t/oboe.wav"], "resources": resources}
    )
    uid = created["metadata"]["uid"]
    job = (await wait_for(lambda: cluster.jobs()))[0]

    assert job["metadata"]["name"] == f"practice-{uid}"
    assert job["metadata"]["ownerReferences"][0]["uid"] == uid
    pod = job["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example/amadeus-studio:1.0"
    assert container["command"][:4] == ["amadeus", "practice", "imitation", "--deu"]
    assert "--practice-id" in container["command"] and uid in container["command"]
    assert container["resources"]["limits"] == {"nvidia.com/gpu": 1, "memory": "8Gi"}
    assert container["envFrom"] == [{"secretRef": {"name": "amadeus-s3"}}]
    assert pod["nodeSelector"] == {"pool": "gpu"} and pod["tolerations"] == resources["tolerations"]
    assert (
        pod["securityContext"]["runAsNonRoot"] is True
        and container["securityContext"]["readOnlyRootFilesystem"] is True
    )
    import kubernetes_validate

    kubernetes_validate.validate(job, "1.30.0", strict=True)

    # The Job controller (there is none here) starts the pod, the practice pushes its version, the Job completes.
    url = f"{cluster.url}/apis/batch/v1/namespaces/studio/jobs/{job['metadata']['name']}/status"
    headers = {"Content-Type": "application/merge-patch+json"}
    async with cluster.session.patch(url, json={"status": {"active": 1}}, headers=headers) as response:
        assert response.status == 200
    await wait_for(lambda: _phase(cluster, "oboe-1") == "Running")
    seed_version(amadeus_home, "oboe", practice_id=uid)
    done = {"status": {"active": 0, "succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}}
    async with cluster.session.patch(url, json=done, headers=headers) as response:
        assert response.status == 200

    await wait_for(lambda: _phase(cluster, "oboe-1") == "Succeeded")
    assert cluster.status("oboe-1")["backend"] == "job" and cluster.status("oboe-1")["version"] == 1
    assert len(cluster.jobs()) == 1
    metrics = running.operator.metrics
    assert metrics.runs_submitted.labels(backend="job")._value.get() == 1
    assert metrics.practices.labels(phase="Succeeded")._value.get() == 1


async def test_deleting_a_job_practice_deletes_its_job(cluster, start_operator):
    await start_operator(default_backend="job")
    await cluster.apply("short-lived", {"deu": "oboe", "type": "imitation", "audio": ["/data/oboe.wav"]})
    await wait_for(lambda: cluster.jobs())
    await wait_for(lambda: cluster.status("short-lived").get("runId"))
    await cluster.delete("short-lived")
    await wait_for(lambda: cluster.practice("short-lived") is None and not cluster.jobs())


async def test_metrics_endpoint_serves_phases_latency_and_errors(cluster, kfp_api, start_operator):
    import urllib.request

    running = await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("unknown", {"deu": "nobody", "type": "tuning", "playerProfile": {"gainDb": 1}})
    await wait_for(lambda: _phase(cluster, "unknown") == "Failed")
    server = running.operator.metrics.serve(0, addr="127.0.0.1")
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    assert 'amadeus_practices{phase="Failed"} 1.0' in text
    assert 'amadeus_reconcile_seconds_count{handler="submit"}' in text
    assert "amadeus_submit_errors_total" in text


async def test_a_practice_handled_but_without_status_is_recovered_once(cluster, kfp_api, start_operator, amadeus_home):
    """An operator stopped between kopf's annotation patch and its status patch leaves a Practice
    that kopf considers created but that shows no run: the timer submits (or adopts) it."""
    kfp_api.executor = publishing_executor(amadeus_home)
    spec = {"deu": "oboe", "type": "imitation", "audio": ["s3://takes/oboe.wav"]}
    body = {
        "apiVersion": "amadeus.dev/v1alpha1",
        "kind": "Practice",
        "metadata": {
            "name": "half-recorded",
            "namespace": "studio",
            "annotations": {
                "amadeus.dev/last-handled-configuration": json.dumps({"spec": spec}, separators=(",", ":"))
            },
        },
        "spec": spec,
    }
    async with cluster.session.post(
        f"{cluster.url}/apis/amadeus.dev/v1alpha1/namespaces/studio/practices", json=body
    ) as response:
        assert response.status == 200
    running = await start_operator(kfp_host=kfp_api.url)

    await wait_for(lambda: _phase(cluster, "half-recorded") == "Succeeded")
    assert len(kfp_api.created) == 1
    registry = running.operator.metrics.registry
    assert (
        registry.get_sample_value("amadeus_reconcile_seconds_count", {"handler": "submit"}) is None
    )  # kopf: already created
    assert (
        registry.get_sample_value("amadeus_runs_submitted_total", {"backend": "kfp"}) == 1
    )  # so the timer submitted it


_JUDGED = {"performance": "s3://t/take.wav", "regions": [{"start": 0.0, "end": 1.5, "label": "good"}]}


async def test_the_feedback_method_reaches_the_pipeline_and_the_job(cluster, kfp_api, start_operator, amadeus_home):
    """``spec.feedback.method`` and ``finetuneSteps`` become the KFP run's ``feedback_method`` /
    ``finetune_steps`` and the Job's ``--method`` / ``--finetune-steps``."""
    seed_version(amadeus_home, "cello")
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("knobs", {"deu": "cello", "type": "feedback", "feedback": {**_JUDGED, "method": "knobs"}})
    await wait_for(lambda: kfp_api.created)
    params = kfp_api.created[0]["runtime_config"]["parameters"]
    assert (params["feedback_method"], params["finetune_steps"]) == ("knobs", 0)
    await cluster.apply(
        "tuned",
        {
            "deu": "cello",
            "type": "feedback",
            "backend": "job",
            "feedback": {**_JUDGED, "method": "finetune", "finetuneSteps": 20},
        },
    )
    command = (await wait_for(lambda: cluster.jobs()))[0]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:3] == ["amadeus", "practice", "feedback"]
    assert command[command.index("--method") :][:4] == ["--method", "finetune", "--finetune-steps", "20"]


async def test_an_unknown_feedback_method_fails_the_practice_and_runs_nothing(
    cluster, kfp_api, start_operator, amadeus_home
):
    seed_version(amadeus_home, "cello")
    await start_operator(kfp_host=kfp_api.url)
    await cluster.apply("magic", {"deu": "cello", "type": "feedback", "feedback": {**_JUDGED, "method": "magic"}})
    await wait_for(lambda: _phase(cluster, "magic") == "Failed")
    failed = _condition(cluster, "magic", "Failed")
    assert failed["reason"] == "InvalidSpec" and "spec.feedback.method: 'magic' is not one of" in failed["message"]
    assert kfp_api.created == [] and cluster.jobs() == []
