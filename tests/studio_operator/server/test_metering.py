"""Metered usage, exactly once: a practice's measured seconds and published bytes, renders and
downloads become ledger entries that survive restarts and are not counted twice by a retried
call, a second replica or a restarted one."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.server.backends.embedded.attempts import attempt_started, practice_seconds, reap_measured

Phase = studio_pb2.PracticeProgress.Phase


def _entries(server, meter):
    return [r for r in server.ledger.report() if r.meter == meter]


def test_a_practice_is_metered_once_across_retries_replicas_and_restarts(start_studio, client_for, database_url):
    first = start_studio(database=database_url)
    alice = client_for("alice", server=first)
    tune = personality_pb2.PlayerProfile(gain_db=-3.0)
    ticket = alice.practice("cello", "tuning", player_profile=tune, request_id="req-1")
    assert list(alice.watch(ticket.practice_id, timeout=30))[-1].phase == Phase.SUCCEEDED
    assert alice.practice("cello", "tuning", player_profile=tune, request_id="req-1").practice_id == (
        ticket.practice_id
    )  # the retried call: the same practice
    second = start_studio(database=database_url)  # another replica on the same home and database
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not _entries(first, "practice_cpu_seconds"):
        time.sleep(0.1)
    for server in (first, second, first):
        server.meter.sweep()
    first.stop()
    restarted = start_studio(database=database_url)
    restarted.meter.sweep()

    [seconds] = _entries(restarted, "practice_cpu_seconds")
    measured = first.backend.practice_seconds("alice", ticket.practice_id)
    assert seconds.entries == 1 and seconds.ama == "alice" and seconds.plan == "unlimited"
    assert seconds.quantity == pytest.approx(measured) and 0 < measured < 30
    [stored] = _entries(restarted, "stored_bytes")
    version = restarted.backend.store("alice").bundle_path("cello", 2)
    assert stored.entries == 1 and stored.quantity == sum(p.stat().st_size for p in version.rglob("*") if p.is_file())
    assert restarted.ledger.open_practices() == []
    counted = first.metrics.value("amadeus_studio_usage_total", plan="unlimited", meter="practice_cpu_seconds")
    counted += second.metrics.value("amadeus_studio_usage_total", plan="unlimited", meter="practice_cpu_seconds")
    assert counted == pytest.approx(measured)  # only the replica that wrote the entry counted it


def test_downloads_and_get_usage_report_the_month(studio, client_for):
    alice = client_for("alice")
    packed = alice.get_personality("cello").packed_size
    list(alice.download_personality("cello"))
    report = alice.usage()
    meters = {m.meter: m for m in report.meters}
    assert report.ama == "alice" and report.plan == "unlimited" and not meters["stored_bytes"].limited
    assert meters["downloaded_bytes"].used == packed and meters["downloaded_bytes"].unit == "B"
    assert report.resets.ToDatetime().day == 1
    assert client_for("bob").usage().meters[0].used == 0  # bob sees only his own
    assert [m.used for m in alice.usage("1999-01").meters] == [0.0] * len(meters)


def test_each_runner_attempt_is_measured_and_an_unreaped_one_counts_to_the_last_update(tmp_path):
    directory = tmp_path / "pr-1"
    directory.mkdir()
    (directory / "status.json").write_text('{"updated": "2000-01-01T00:00:00+00:00"}')
    for _ in range(2):  # a practice interrupted once and resumed
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
        attempt_started(directory, child.pid)
        assert reap_measured(child, directory, timeout=10) and child.returncode == 0
    total = practice_seconds(directory)
    assert 0.6 <= total < 5.0
    assert practice_seconds(tmp_path) == 0.0  # never ran

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        attempt_started(directory, live.pid)
        assert practice_seconds(directory) is None  # its runner has not exited: not measured yet
    finally:
        live.kill()
        assert reap_measured(live, directory, timeout=10)
    total += json.loads((directory / "attempts.jsonl").read_text().splitlines()[-1])["elapsed_s"]

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a runner whose studio died before reaping it: a start line only, and the process is gone
    with (directory / "attempts.jsonl").open("a") as handle:
        handle.write(json.dumps({"pid": gone.pid, "started": time.time() - 100}) + "\n")
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    (directory / "status.json").write_text(json.dumps({"updated": now}))
    assert practice_seconds(directory) == pytest.approx(total + 100, abs=2)  # counted to the last update
