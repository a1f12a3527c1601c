"""Fixtures: an emulated API server, a KFP API double and the real operator running against both."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import kmock
import pytest
import pytest_asyncio
from _operator_doubles import ApiServer, KfpApiDouble, declare_resources, kubeconfig_for  # noqa: E402
from _operator_harness import NAMESPACE, Cluster, fast_config  # noqa: E402
from _standin_pipeline import compile_standin  # noqa: E402

from studio_operator.operator.catalog import StoreCatalog  # noqa: E402
from studio_operator.operator.config import OperatorConfig  # noqa: E402
from studio_operator.operator.handlers import PracticeOperator  # noqa: E402
from studio_operator.operator.job_backend import JobBackend  # noqa: E402
from studio_operator.operator.kfp_backend import KfpBackend  # noqa: E402
from studio_operator.operator.runner import kube_configuration, run_operator  # noqa: E402


@pytest.fixture(scope="session")
def s3_endpoint():
    """``http://127.0.0.1:<port>`` of a moto S3 server (credentials testing/testing), as in tests/pipelines."""
    import os
    import socket

    from moto.server import ThreadedMotoServer

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


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
    """The operator running in its own thread and event loop, as it would in its own process."""

    operator: PracticeOperator
    thread: threading.Thread
    stop: threading.Event
    config: OperatorConfig
    errors: list = field(default_factory=list)

    async def shutdown(self) -> None:
        self.stop.set()
        await asyncio.get_running_loop().run_in_executor(None, self.thread.join, 15)
        assert not self.thread.is_alive(), "the operator did not stop"
        assert not self.errors, self.errors


@pytest_asyncio.fixture
async def start_operator(cluster: Cluster, amadeus_home, tmp_path):
    """``await start_operator(kfp_host=..., **config)``: the real operator (kopf handlers) on the emulator."""
    running: list[RunningOperator] = []

    async def start(
        *, compile_fn=compile_standin, catalog=None, namespaces=(NAMESPACE,), **overrides
    ) -> RunningOperator:
        """``namespaces=()`` watches every namespace (``--all-namespaces``); ``catalog`` defaults
        to the local store at ``amadeus_home``."""
        config = fast_config(store_home=str(amadeus_home), pipeline_cache_dir=str(tmp_path / "compiled"), **overrides)
        configuration = kube_configuration(cluster.kubeconfig)

        def kfp():
            return KfpBackend(config, compile_fn=compile_fn)

        def job():
            from kubernetes import client

            return JobBackend(config, client.ApiClient(configuration))

        catalog = catalog if catalog is not None else StoreCatalog(config.store_home)
        operator = PracticeOperator(config, catalog=catalog, backends={"kfp": kfp, "job": job})
        stop, ready = threading.Event(), threading.Event()
        errors: list = []

        def main() -> None:
            try:
                asyncio.run(
                    run_operator(
                        config,
                        configuration=configuration,
                        namespaces=list(namespaces),
                        operator=operator,
                        stop_flag=stop,
                        ready_flag=ready,
                    )
                )
            except BaseException as exc:  # reported by shutdown()
                errors.append(exc)

        thread = threading.Thread(target=main, name="operator", daemon=True)
        thread.start()
        assert await asyncio.get_running_loop().run_in_executor(None, ready.wait, 15), "the operator did not start"
        handle = RunningOperator(operator, thread, stop, config, errors)
        running.append(handle)
        return handle

    yield start
    for handle in running:
        if handle.thread.is_alive():
            await handle.shutdown()
