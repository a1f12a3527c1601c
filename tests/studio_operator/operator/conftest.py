"""Fixtures: an emulated API server, a KFP API double and the real operator running against both."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import sys
from pathlib import Path

import aiohttp
import kmock
import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from _operator_doubles import ApiServer, KfpApiDouble, declare_resources, kubeconfig_for  # noqa: E402
from _operator_harness import NAMESPACE, Cluster, fast_config  # noqa: E402
from _standin_pipeline import compile_standin  # noqa: E402

from studio_operator.operator.catalog import StoreCatalog  # noqa: E402
from studio_operator.operator.config import OperatorConfig  # noqa: E402
from studio_operator.operator.handlers import PracticeOperator  # noqa: E402
from studio_operator.operator.job_backend import JobBackend  # noqa: E402
from studio_operator.operator.kfp_backend import KfpBackend  # noqa: E402
from studio_operator.operator.runner import kube_configuration, run_operator  # noqa: E402

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
