"""Fixtures: a real studio server on loopback (random free port) with tenants alice and bob."""

from __future__ import annotations

import pytest
from _studio_support import TOKENS, install, make_personality, write_tokens  # noqa: F401

from instrument_agent.client.studio_client import StudioClient
from instrument_agent.personality.store import PersonalityStore
from studio_operator.server import StudioConfig, StudioServer


@pytest.fixture(scope="module")
def cello_bundle(tmp_path_factory):
    """A small personality (random decoder that follows loudness), 16 kHz, 50 frames/s."""
    return make_personality(tmp_path_factory.mktemp("cello"), deu="cello", reverb_seconds=0.05)


@pytest.fixture
def studio_home(tmp_path, cello_bundle):
    """A studio home: alice owns cello v1, bob owns flute v1."""
    home = tmp_path / "studio"
    install(cello_bundle, PersonalityStore(home / "tenants" / "alice"))
    install(cello_bundle, PersonalityStore(home / "tenants" / "bob"), deu="flute")
    return home


@pytest.fixture
def start_studio(tmp_path, studio_home):
    """Start studios (tenants on by default); every one is stopped after the test."""
    servers = []

    def start(**overrides) -> StudioServer:
        config = dict(
            home=studio_home, host="127.0.0.1", port=0, metrics_port=0, tokens=write_tokens(tmp_path / "tokens.yaml")
        )
        config.update(overrides)
        server = StudioServer(StudioConfig(**config)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(grace=0.5)


@pytest.fixture
def studio(start_studio):
    return start_studio()


@pytest.fixture
def client_for(studio):
    clients = []

    def make(ama: str | None, server=None, **kwargs) -> StudioClient:
        token = TOKENS.get(ama, ama) if ama else None
        client = StudioClient((server or studio).address, token=token, timeout=20, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the whole session (Debian's postgresql package)."""
    from _postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh tenancy database: a SQLite file, and a database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tenancy.db'}"
    return request.getfixturevalue("postgres").new_database()
