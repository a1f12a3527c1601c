"""Tenants managed without a restart: two replicas on one PostgreSQL database see a revoked token,
a disabled ama or a new token within their refresh interval; failed authentications back off."""

from __future__ import annotations

import time

import grpc
import pytest

from instrument_agent.client.studio_client import StudioClient, StudioClientError


def _code(client):
    try:
        client.list_personalities()
    except StudioClientError as exc:
        return exc.code, str(exc)
    return grpc.StatusCode.OK, ""


def _until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_revocation_and_disabling_take_effect_on_every_replica(start_studio, postgres):
    url = postgres.new_database()
    replicas = [start_studio(database=url, tokens=None) for _ in range(2)]
    accounts = replicas[0].accounts
    accounts.add_ama("alice")
    accounts.add_ama("bob")
    token, other = accounts.issue_token("alice"), accounts.issue_token("bob")
    clients = [StudioClient(r.address, token=token, timeout=10) for r in replicas]
    bobs = [StudioClient(r.address, token=other, timeout=10) for r in replicas]
    try:
        assert all(_until(lambda c=c: _code(c)[0] == grpc.StatusCode.OK) for c in clients)  # new token: no restart
        started = time.monotonic()
        accounts.revoke("alice")
        assert all(_until(lambda c=c: _code(c)[0] == grpc.StatusCode.UNAUTHENTICATED) for c in clients)
        assert time.monotonic() - started < 2.0
        revoked = {_code(c)[1] for c in clients}
        with StudioClient(replicas[1].address, token="a-token-never-issued", timeout=10) as stranger:
            assert {_code(stranger)[1]} == revoked == {"studio: UNAUTHENTICATED: unknown token"}
        accounts.set_disabled("bob")
        assert all(_until(lambda c=c: _code(c)[1] == "studio: UNAUTHENTICATED: unknown token") for c in bobs)
        accounts.set_disabled("bob", False)
        assert all(_until(lambda c=c: _code(c)[0] == grpc.StatusCode.OK) for c in bobs)
    finally:
        for client in clients + bobs:
            client.close()


def test_a_peer_that_keeps_guessing_is_locked_out_without_its_token_being_read(studio, client_for):
    guesser = client_for("wrong-token")
    for _ in range(5):
        assert _code(guesser)[0] == grpc.StatusCode.UNAUTHENTICATED
    assert _code(guesser)[0] == grpc.StatusCode.UNAUTHENTICATED  # the 6th failure starts the lock-out
    code, message = _code(client_for("alice"))  # same address: a valid token waits too
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "too many failed authentications" in message
    assert studio.metrics.value("amadeus_studio_auth_failures_total") == 6
    time.sleep(1.1)
    assert _code(client_for("alice"))[0] == grpc.StatusCode.OK


@pytest.mark.parametrize("token", ["", "not-a-token"], ids=["missing", "unknown"])
def test_health_needs_no_token_even_when_locked_out(studio, token):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(studio.address) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
