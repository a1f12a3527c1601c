"""Tokens per ama, stored hashed; every RPC refuses a missing, wrong or expired token;
a tenant never lists, reads, practises or performs another tenant's deu (NOT_FOUND)."""

from __future__ import annotations

import datetime as dt

import grpc
import mido
import pytest
from _studio_support import tone_wav, write_midi

from instrument_agent.client.studio_client import StudioClientError, midi_event
from instrument_agent.proto import personality_pb2
from studio_operator.server.tenants import TokenRegistry, TokensFileError, add_token, hash_token


def test_tokens_file_keeps_only_hashes_and_maps_tokens_to_amas(tmp_path):
    path = tmp_path / "tokens.yaml"
    token = add_token(path, "alice")
    expired = add_token(path, "bob", expires=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    text = path.read_text()
    assert token not in text and expired not in text and hash_token(token) in text
    registry = TokenRegistry.from_file(path)
    assert registry.authenticate([("authorization", f"Bearer {token}")]) == "alice"
    with pytest.raises(Exception, match="expired"):
        registry.authenticate([("authorization", f"Bearer {expired}")])
    with pytest.raises(Exception, match="unknown token"):
        registry.authenticate([("authorization", "Bearer nope")])
    with pytest.raises(Exception, match="missing"):
        registry.authenticate([])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("tokens: 3", "top-level 'tokens:' list"),
        ("tokens:\n  - ama: alice\n    sha256: plaintext-token", "64 hex digits"),
        ("tokens:\n  - ama: Alice!\n    sha256: " + "a" * 64, "invalid ama name"),
        ("tokens:\n  - ama: alice\n    sha256: " + "a" * 64 + "\n    expires: someday", "RFC 3339"),
        ("tokens: [", "not valid YAML"),
    ],
)
def test_a_bad_tokens_file_names_the_file_and_entry(tmp_path, content, problem):
    path = tmp_path / "tokens.yaml"
    path.write_text(content)
    with pytest.raises(TokensFileError, match=problem) as err:
        TokenRegistry.from_file(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("who", [None, "wrong-token", "carol"], ids=["missing", "wrong", "expired"])
def test_every_call_needs_a_valid_token(client_for, studio, who):
    client = client_for(who)
    for call in (
        lambda: client.list_personalities(),
        lambda: client.get_personality("cello"),
        lambda: client.perform_file(b"MThd", deu="cello"),
        lambda: list(client.watch("pr-x", follow=False)),
        lambda: client.perform(deu="cello"),
    ):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.UNAUTHENTICATED
    if who == "carol":
        assert "expired" in str(err.value)
    assert (
        studio.metrics.value("amadeus_studio_requests_total", method="ListPersonalities", code="UNAUTHENTICATED") == 1
    )


def test_a_tenant_lists_only_its_own_deus(client_for):
    assert [p.deu for p in client_for("alice").list_personalities()] == ["cello"]
    assert [p.deu for p in client_for("bob").list_personalities()] == ["flute"]
    with pytest.raises(StudioClientError) as err:
        client_for("bob").list_personalities("cello")
    assert err.value.code == grpc.StatusCode.NOT_FOUND


def test_a_tenant_cannot_read_another_tenants_deu(client_for, tmp_path):
    bob = client_for("bob")
    for call in (lambda: bob.get_personality("cello"), lambda: bob.download("cello", tmp_path / "stolen")):
        with pytest.raises(StudioClientError) as err:
            call()
        assert err.value.code == grpc.StatusCode.NOT_FOUND
    assert not (tmp_path / "stolen").exists()


def test_a_tenant_cannot_practise_another_tenants_deu(client_for, studio_home):
    profile = personality_pb2.PlayerProfile(gain_db=-6.0)
    with pytest.raises(StudioClientError) as err:
        client_for("bob").practice("cello", "tuning", player_profile=profile)
    assert err.value.code == grpc.StatusCode.NOT_FOUND
    assert [v.version for v in client_for("alice").list_personalities("cello")] == [1]
    assert not (studio_home / "tenants" / "bob" / "personalities" / "cello").exists()


def test_a_tenant_cannot_perform_another_tenants_deu(client_for, tmp_path):
    midi = write_midi(
        tmp_path / "a.mid",
        [[mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=240)]],
    )
    bob = client_for("bob")
    with pytest.raises(StudioClientError) as err:
        bob.perform_file(midi, deu="cello")
    assert err.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(StudioClientError) as err:
        bob.perform(deu="cello").play([midi_event(0, mido.Message("note_on", note=60))])
    assert err.value.code == grpc.StatusCode.NOT_FOUND


def test_same_deu_name_in_two_tenants_is_two_instruments(client_for, tmp_path):
    """bob's imitation of a deu called 'cello' is bob's own; alice's cello is untouched."""
    wav = tone_wav(tmp_path / "bob.wav", seconds=0.5)
    ticket = client_for("bob").practice("cello", "imitation", audio=[wav])
    with pytest.raises(StudioClientError) as err:
        list(client_for("alice").watch(ticket.practice_id, follow=False))
    assert err.value.code == grpc.StatusCode.NOT_FOUND
