"""Fixtures for the agent-side tests that need a real studio server."""

from __future__ import annotations

import pytest
from _agent_support import STUDIO_TOKEN, install_version
from _perform_support import make_personality

from instrument_agent.personality.store import PersonalityStore
from studio_operator.server import StudioConfig, StudioServer
from studio_operator.server.tenants import hash_token


@pytest.fixture
def real_studio(tmp_path):
    """``(alice's store, start)``: a real studio server (in this process, on loopback) where alice
    owns cello v1; ``start()`` starts one on its home. Versions added with ``reverb_seconds=20``
    pack to over 1 MiB: two chunks, so a download can stop between them."""
    home = tmp_path / "studio"
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - ama: alice\n    sha256: {hash_token(STUDIO_TOKEN)}\n")
    store = PersonalityStore(home / "tenants" / "alice")
    install_version(store, make_personality(tmp_path, seed=0))
    servers = []

    def start():
        config = StudioConfig(home=home, host="127.0.0.1", port=0, metrics_port=0, tokens=tokens)
        servers.append(StudioServer(config).start())
        return servers[-1]

    yield store, start
    for server in servers:
        server.stop(grace=0.5)
