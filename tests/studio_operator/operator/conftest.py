"""Fixtures: an emulated API server, a KFP API double and the real operator running against both."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import kmock
import pytest
import pytest_asyncio
from _operator_doubles import EVENTS, JOBS, PRACTICES, ApiServer, KfpApiDouble, declare_resources, kubeconfig_for
from _standin_pipeline import compile_standin

from studio_operator.crd import GROUP, KIND, PLURAL, VERSION
from studio_operator.operator.catalog import StoreCatalog
from studio_operator.operator.config import OperatorConfig
from studio_operator.operator.handlers import PracticeOperator
from studio_operator.operator.job_backend import JobBackend
from studio_operator.operator.kfp_backend import KfpBackend
from studio_operator.operator.runner import kube_configuration, run_operator

NAMESPACE = "studio"


@dataclass
class Cluster:
    """The emulated API server and a client session to act as ``kubectl``."""

    server: ApiServer
    url: str
    session: aiohttp.ClientSession
    kubeconfig: str

    async def apply(self, name: str, spec: dict[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": KIND, "metadata": {"name": name, "namespace": namespace}, "spec": spec}
        async with self.session.post(f"{self.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}", json=body) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def delete(self, name: str, namespace: str = NAMESPACE) -> None:
        async with self.session.delete(f"{self.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}") as response:
            assert response.status < 300, await response.text()

    async def patch_spec(self, name: str, spec: dict[str, Any], namespace: str = NAMESPACE) -> None:
        url = f"{self.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}"
        headers = {"Content-Type": "application/merge-patch+json"}
        async with self.session.patch(url, json={"spec": spec}, headers=headers) as response:
            assert response.status < 300, await response.text()

    def practice(self, name: str, namespace: str = NAMESPACE) -> dict[str, Any] | None:
        for (resource, ns, object_name), obj in self.server.objects.items():
            if resource == kmock.resource(PRACTICES) and ns == namespace and object_name == name and not obj.deleted:
                return obj.raw
        return None

    def status(self, name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
        return (self.practice(name, namespace) or {}).get("status") or {}

    def jobs(self) -> list[dict[str, Any]]:
        return [o.raw for (res, _, _), o in self.server.objects.items() if res == kmock.resource(JOBS) and not o.deleted]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for (res, _, _), obj in self.server.objects.items():
            if res == kmock.resource(EVENTS) and not obj.deleted:
                raw = obj.raw
                if name is None or raw.get("involvedObject", {}).get("name") == name:
                    out.append(raw)
        return out


async def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate.__doc__ or predicate}")
        await asyncio.sleep(interval)


@pytest_asyncio.fixture
async def cluster(tmp_path) -> AsyncIterator[Cluster]:
    async with ApiServer() as server, kmock.Server(server) as http:
        declare_resources(server)
        url = str(http.url).rstrip("/")
        async with aiohttp.ClientSession() as session:
            yield Cluster(server, url, session, kubeconfig_for(url, tmp_path / "kubeconfig"))


@pytest.fixture
def kfp_api():
    with KfpApiDouble() as double:
        yield double


def fast_config(**overrides) -> OperatorConfig:
    """Intervals in tenths of seconds so state changes show within a test."""
    values = dict(poll_interval=0.1, max_poll_interval=0.4, retry_delay=0.2, max_retry_delay=0.8, kfp_experiment="amadeus-tests")
    values.update(overrides)
    return OperatorConfig(**values)


@dataclass
class RunningOperator:
    operator: PracticeOperator
    task: asyncio.Task
    stop: asyncio.Event
    config: OperatorConfig
    extra: dict = field(default_factory=dict)

    async def shutdown(self) -> None:
        self.stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=10)


@pytest_asyncio.fixture
async def start_operator(cluster: Cluster, amadeus_home, tmp_path):
    """``await start_operator(kfp_host=..., **config)``: the real operator (kopf handlers) on the emulator."""
    running: list[RunningOperator] = []

    async def start(*, compile_fn=compile_standin, **overrides) -> RunningOperator:
        config = fast_config(store_home=str(amadeus_home), pipeline_cache_dir=str(tmp_path / "compiled"), **overrides)
        configuration = kube_configuration(cluster.kubeconfig)

        def kfp():
            return KfpBackend(config, compile_fn=compile_fn)

        def job():
            from kubernetes import client

            return JobBackend(config, client.ApiClient(configuration))

        operator = PracticeOperator(config, catalog=StoreCatalog(config.store_home), backends={"kfp": kfp, "job": job})
        stop, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            run_operator(config, configuration=configuration, namespaces=[NAMESPACE], operator=operator, stop_flag=stop, ready_flag=ready)
        )
        await asyncio.wait_for(ready.wait(), timeout=10)
        handle = RunningOperator(operator, task, stop, config)
        running.append(handle)
        return handle

    yield start
    for handle in running:
        if not handle.task.done():
            await handle.shutdown()
