"""Plan limits at the door, one test per limit: RESOURCE_EXHAUSTED naming the limit, the usage and
when it resets; work already admitted is never stopped."""

from __future__ import annotations

import datetime as dt
import textwrap

import grpc
import mido
import pytest
from _studio_support import gated_runner, tone_wav, write_midi

from instrument_agent.client.studio_client import StudioClient, StudioClientError
from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.server.tenancy import UsageEntry, month_of, next_month_start

Phase = studio_pb2.PracticeProgress.Phase
TUNE = personality_pb2.PlayerProfile(gain_db=1.0)


@pytest.fixture
def tight(tmp_path, start_studio):
    """A studio whose ama ``dora`` is on plan ``tight`` (small limits); returns (server, dora's client)."""
    plans = tmp_path / "plans.yaml"
    plans.write_text(
        textwrap.dedent("""\
        default: tight
        plans:
          tight:
            concurrent_practices: 1
            practice_cpu_minutes: 1
            render_minutes: 0.01
            stored_bytes: 200000
            upload_bytes: 100000
            requests_per_second: 1000
            request_burst: 1000
        """)
    )
    clients = []

    def start(**overrides):
        server = start_studio(plans=plans, **overrides)
        server.accounts.add_ama("dora")
        token = server.accounts.issue_token("dora")
        server.call(lambda: _refresh(server))
        client = StudioClient(server.address, token=token, timeout=20)
        clients.append(client)
        return server, client

    yield start
    for client in clients:
        client.close()


async def _refresh(server):
    server._running.tokens.refresh()


def _copy_cello(server, studio_home):
    import shutil

    shutil.copytree(studio_home / "tenants" / "alice", studio_home / "tenants" / "dora")


def _refused(call, limit):
    with pytest.raises(StudioClientError) as err:
        call()
    assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and limit in str(err.value), str(err.value)
    return str(err.value)


def test_concurrent_practices(tight, tmp_path, studio_home):
    runner, gate = gated_runner(tmp_path)
    server, dora = tight(runner=runner)
    _copy_cello(server, studio_home)
    first = dora.practice("cello", "tuning", player_profile=TUNE)
    message = _refused(lambda: dora.practice("cello", "tuning", player_profile=TUNE), "concurrent_practices")
    assert "1 of 1 practices" in message and "plan 'tight'" in message
    gate.touch()
    final = list(dora.watch(first.practice_id, timeout=30))[-1]
    assert final.phase == Phase.SUCCEEDED  # the admitted one ran to the end


def test_upload_bytes_and_stored_bytes(tight, tmp_path, studio_home):
    server, dora = tight()
    big = tone_wav(tmp_path / "big.wav", seconds=4.0)  # 128 kB at 16 kHz, 16 bit
    assert "100000 bytes per practice" in _refused(
        lambda: dora.practice("oboe", "imitation", audio=[big]), "upload_bytes"
    )
    server.ledger.record([UsageEntry("seed", "dora", "tight", "stored_bytes", 150_000)])
    small = tone_wav(tmp_path / "small.wav", seconds=2.0)
    message = _refused(lambda: dora.practice("oboe", "imitation", audio=[small]), "stored_bytes")
    assert "150000 bytes stored" in message and "does not reset" in message


def test_practice_minutes_per_month_count_cpu_and_gpu_apart(tight, studio_home):
    server, dora = tight()
    _copy_cello(server, studio_home)
    now = dt.datetime.now(dt.UTC)
    server.ledger.record([UsageEntry("gpu", "dora", "tight", "practice_gpu_seconds", 3600.0, now)])
    first = dora.practice("cello", "tuning", player_profile=TUNE)  # GPU minutes are not CPU minutes
    assert list(dora.watch(first.practice_id, timeout=30))[-1].phase == Phase.SUCCEEDED
    server.ledger.record([UsageEntry("cpu", "dora", "tight", "practice_cpu_seconds", 61.0, now)])
    month = month_of(now)
    message = _refused(lambda: dora.practice("cello", "tuning", player_profile=TUNE), "practice_cpu_minutes")
    assert f"1.0 of 1 minutes used in {month}" in message
    assert f"resets {next_month_start(month):%Y-%m-%dT%H:%M:%SZ}" in message


def test_render_minutes(tight, tmp_path, studio_home):
    server, dora = tight()
    _copy_cello(server, studio_home)
    midi = write_midi(
        tmp_path / "a.mid",
        [[mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=960)]],
    ).read_bytes()
    rendered = dora.perform_file(midi, deu="cello", sample_rate=16000)
    assert rendered.seconds > 1.0
    usage = {m.meter: m for m in dora.usage().meters}
    assert usage["render_audio_seconds"].used == pytest.approx(rendered.seconds)
    assert usage["render_compute_seconds"].used > 0
    message = _refused(lambda: dora.perform_file(midi, deu="cello", sample_rate=16000), "render_minutes")
    assert "of 0.01 minutes used" in message and "resets" in message


def test_requests_per_second(start_studio, tmp_path):
    plans = tmp_path / "plans.yaml"
    plans.write_text("plans:\n  slow:\n    requests_per_second: 0.5\n    request_burst: 2\n")
    server = start_studio(plans=plans)
    server.accounts.add_ama("eve", plan="slow")
    token = server.accounts.issue_token("eve")
    server.call(lambda: _refresh(server))
    with StudioClient(server.address, token=token, timeout=20) as eve:
        eve.list_personalities()
        eve.list_personalities()
        message = _refused(eve.list_personalities, "requests_per_second")
    assert "retry in" in message
    assert server.metrics.value("amadeus_studio_refusals_total", plan="slow", limit="requests_per_second") == 1
