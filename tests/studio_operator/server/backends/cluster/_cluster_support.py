"""Helpers of the cluster backend's tests: kmock's emulated API server serving the Practice CRD,
moto's S3 server, and a watcher that follows a practice in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from pathlib import Path

import kmock
from _operator_doubles import PRACTICES, ApiServer, declare_resources, kubeconfig_for  # noqa: E402

from instrument_agent.client.studio_client import StudioClient  # noqa: E402
from instrument_agent.proto import studio_pb2  # noqa: E402
from studio_operator.crd import GROUP, PLURAL, VERSION  # noqa: E402

KEYS = dict(access_key="testing", secret_key="testing")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatedCluster:
    """kmock's emulated API server (Practices with /status) on its own thread and loop."""

    def __init__(self, tmp_path: Path):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="kube-emulator", daemon=True)
        self.thread.start()
        self.api = ApiServer()
        declare_resources(self.api)
        self._http = kmock.Server(self.api)
        asyncio.run_coroutine_threadsafe(self.api.__aenter__(), self.loop).result(10)  # errors become API answers
        http = asyncio.run_coroutine_threadsafe(self._http.__aenter__(), self.loop).result(10)
        self.url = str(http.url).rstrip("/")
        self.kubeconfig = Path(kubeconfig_for(self.url, tmp_path / "kubeconfig"))
        from kubernetes import client, config

        self.client = config.new_client_from_config(config_file=str(self.kubeconfig))
        self.custom = client.CustomObjectsApi(self.client)

    def practices(self, namespace: str | None = None) -> list[dict]:
        return [
            o.raw
            for (res, ns, _), o in list(self.api.objects.items())
            if res == kmock.resource(PRACTICES) and not o.deleted and namespace in (None, ns)
        ]

    def set_status(self, namespace: str, name: str, **status) -> None:
        """What the operator does: merge ``status`` into the Practice's status subresource."""
        self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, PLURAL, name, {"status": status})

    def close(self) -> None:
        """Stop; the API's own answers (404 Not Found, 409 Conflict) are expected, anything else fails the test."""
        self.client.close()
        unexpected = [e for e in self.api.errors if not isinstance(e, kmock.KubernetesError)]
        self.api.errors.clear()
        asyncio.run_coroutine_threadsafe(self._http.__aexit__(None, None, None), self.loop).result(10)
        asyncio.run_coroutine_threadsafe(self.api.__aexit__(None, None, None), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        assert not unexpected, unexpected


def registry_for(s3_endpoint: str, bucket: str, ama: str):
    from pipelines.registry import S3Registry

    return S3Registry(f"s3://{bucket}/tenants/{ama}/personalities", endpoint=s3_endpoint, **KEYS)


def until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


def watch_threads(practice_id: str) -> list[threading.Thread]:
    """The studio's open Kubernetes watches on one practice (the studio runs in this process)."""
    return [t for t in threading.enumerate() if t.name == f"practice-watch-{practice_id}"]


class Watcher:
    """Follows a practice on a thread, collecting every PracticeProgress."""

    def __init__(self, client: StudioClient, practice_id: str):
        self.seen: list[studio_pb2.PracticeProgress] = []
        self.error: Exception | None = None
        self.updated = threading.Condition()
        self.thread = threading.Thread(target=self._run, args=(client, practice_id), daemon=True)
        self.thread.start()

    def _run(self, client, practice_id) -> None:
        try:
            for progress in client.watch(practice_id, timeout=30):
                with self.updated:
                    self.seen.append(progress)
                    self.updated.notify_all()
        except Exception as exc:  # noqa: BLE001 - asserted by the test
            self.error = exc

    def wait_for(self, phase, timeout: float = 10.0) -> studio_pb2.PracticeProgress:
        with self.updated:
            assert self.updated.wait_for(lambda: any(p.phase == phase for p in self.seen) or self.error, timeout), (
                f"no {Phase.Name(phase)} within {timeout}s: {[Phase.Name(p.phase) for p in self.seen]}"
            )
        assert self.error is None, self.error
        return next(p for p in self.seen if p.phase == phase)


Phase = studio_pb2.PracticeProgress.Phase
