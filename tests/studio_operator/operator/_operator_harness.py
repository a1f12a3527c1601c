"""The test harness around the doubles: ``kubectl``-like helpers, polling, fast settings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import kmock
from _operator_doubles import EVENTS, JOBS, PRACTICES, ApiServer

from studio_operator.crd import GROUP, KIND, PLURAL, VERSION
from studio_operator.operator.config import OperatorConfig

NAMESPACE = "studio"


@dataclass
class Cluster:
    """The emulated API server and a client session to act as ``kubectl``."""

    server: ApiServer
    url: str
    session: aiohttp.ClientSession
    kubeconfig: str

    async def apply(self, name: str, spec: dict[str, Any], namespace: str = NAMESPACE) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }
        async with self.session.post(
            f"{self.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}", json=body
        ) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def delete(self, name: str, namespace: str = NAMESPACE) -> None:
        async with self.session.delete(
            f"{self.url}/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{PLURAL}/{name}"
        ) as response:
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
        return [
            o.raw for (res, _, _), o in self.server.objects.items() if res == kmock.resource(JOBS) and not o.deleted
        ]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for (res, _, _), obj in self.server.objects.items():
            if res == kmock.resource(EVENTS) and not obj.deleted:
                raw = obj.raw
                if name is None or raw.get("involvedObject", {}).get("name") == name:
                    out.append(raw)
        return out


async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate.__doc__ or predicate}")
        await asyncio.sleep(interval)


def fast_config(**overrides) -> OperatorConfig:
    """Intervals in tenths of seconds so state changes show within a test."""
    values = dict(
        poll_interval=0.1, max_poll_interval=0.4, retry_delay=0.2, max_retry_delay=0.8, kfp_experiment="amadeus-tests"
    )
    values.update(overrides)
    return OperatorConfig(**values)
