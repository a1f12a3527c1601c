"""Both studio backends implement the declared contract (:mod:`studio_operator.server.backend`), signatures included."""

from __future__ import annotations

import inspect

import pytest
from kubernetes import client

from instrument_agent.personality.store import PersonalityStore
from studio_operator.server import (
    ClusterBackend,
    EmbeddedBackend,
    PersonalityReader,
    PracticeWatcher,
    StudioBackend,
)
from studio_operator.server.backends.cluster import TenantStore


@pytest.fixture
def embedded(tmp_path):
    return EmbeddedBackend(tmp_path / "embedded")


@pytest.fixture
def cluster(tmp_path):
    # Nothing is contacted on construction: a default API client and an S3 endpoint nobody listens on.
    return ClusterBackend(
        tmp_path / "cluster", api_client=client.ApiClient(), s3_endpoint="127.0.0.1:9", s3_secure=False
    )


def _members(protocol: type) -> list[str]:
    return sorted(
        name
        for name, value in vars(protocol).items()
        if not name.startswith("_") and (inspect.isfunction(value) or name in protocol.__annotations__)
    )


def _describe(parameter: inspect.Parameter | None) -> str:
    if parameter is None:
        return "nothing"
    default = "" if parameter.default is inspect.Parameter.empty else f"={parameter.default!r}"
    return f"{parameter.kind.description} {parameter.name}{default}"


def _signature_drift(protocol: type, implementation: type) -> list[str]:
    """What in ``implementation`` differs from ``protocol``: a missing method, a parameter renamed, reordered,
    of another kind or default, an extra parameter without a default, or sync/async swapped."""
    problems = []
    for name in _members(protocol):
        declared = getattr(protocol, name)
        if not inspect.isfunction(declared):
            if not hasattr(implementation, name):
                problems.append(f"{name}: missing attribute")
            continue
        actual = getattr(implementation, name, None)
        if not inspect.isfunction(actual):
            problems.append(f"{name}: missing method")
            continue
        if inspect.iscoroutinefunction(declared) != inspect.iscoroutinefunction(actual):
            problems.append(f"{name}: async in one, not in the other")
        wanted = list(inspect.signature(declared).parameters.values())
        given = list(inspect.signature(actual).parameters.values())
        for i, parameter in enumerate(wanted):
            other = given[i] if i < len(given) else None
            if other is None or (other.name, other.kind, other.default) != (
                parameter.name,
                parameter.kind,
                parameter.default,
            ):
                problems.append(f"{name}: expected {_describe(parameter)}, found {_describe(other)}")
        for extra in given[len(wanted) :]:
            if extra.default is inspect.Parameter.empty and extra.kind not in (extra.VAR_POSITIONAL, extra.VAR_KEYWORD):
                problems.append(f"{name}: extra {_describe(extra)} has no default")
    return problems


def test_both_backends_are_studio_backends(embedded, cluster):
    assert isinstance(embedded, StudioBackend) and isinstance(cluster, StudioBackend)
    assert (embedded.name, cluster.name) == ("embedded", "cluster")


def test_only_the_cluster_backend_streams_progress_itself(embedded, cluster):
    assert isinstance(cluster, PracticeWatcher) and inspect.isasyncgenfunction(ClusterBackend.watch)
    assert not isinstance(embedded, PracticeWatcher)  # the servicer polls its progress()


def test_both_personality_stores_are_personality_readers(embedded, cluster):
    assert isinstance(embedded.store("alice"), PersonalityStore)
    assert isinstance(cluster.store("alice"), TenantStore)
    assert isinstance(embedded.store("alice"), PersonalityReader) and isinstance(
        cluster.store("alice"), PersonalityReader
    )


@pytest.mark.parametrize(
    "protocol, implementation",
    [
        (StudioBackend, EmbeddedBackend),
        (StudioBackend, ClusterBackend),
        (PracticeWatcher, ClusterBackend),
        (PersonalityReader, PersonalityStore),
        (PersonalityReader, TenantStore),
    ],
)
def test_signatures_match_the_protocol(protocol, implementation):
    assert _members(protocol)  # the comparison compares something
    assert _signature_drift(protocol, implementation) == []


def test_a_drifted_signature_is_caught():
    class Renamed(EmbeddedBackend):
        def progress(self, tenant: str, practice_id: str):  # renamed parameter
            return super().progress(tenant, practice_id)

        async def discard(self, staging_uploads):  # became async
            return None

        async def stop(self, grace: float = 5.0) -> None:  # another default
            return None

        def active_practices(self, ama: str, namespace: str) -> int:  # a new required parameter
            return 0

    assert _signature_drift(StudioBackend, Renamed) == [
        "active_practices: extra positional or keyword namespace has no default",
        "discard: async in one, not in the other",
        "progress: expected positional or keyword ama, found positional or keyword tenant",
        "stop: expected positional or keyword grace=10.0, found positional or keyword grace=5.0",
    ]
