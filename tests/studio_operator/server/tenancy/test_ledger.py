"""The usage ledger counts each entry once, however many replicas write it, and sums by month."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from studio_operator.server.tenancy import Ledger, UsageEntry, migrate, open_engine


@pytest.fixture
def ledger(database_url):
    engine = open_engine(database_url)
    migrate(engine)
    yield Ledger(engine)
    engine.dispose()


def test_an_entry_written_by_many_replicas_at_once_is_counted_once(ledger, database_url):
    may = dt.datetime(2026, 5, 31, 23, 59, tzinfo=dt.UTC)
    entries = [
        UsageEntry(f"practice/alice/pr-{i}/seconds", "alice", "free", "practice_cpu_seconds", 60.0, may)
        for i in range(20)
    ]
    replicas = [
        Ledger(ledger.engine if database_url.startswith("sqlite") else open_engine(database_url)) for _ in range(4)
    ]
    new: list = []
    lock = threading.Lock()

    def write(replica):
        got = replica.record(entries)
        with lock:
            new.extend(got)

    threads = [threading.Thread(target=write, args=(r,)) for r in replicas]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(e.key for e in new) == sorted(e.key for e in entries)  # each new exactly once, somewhere
    assert ledger.usage("alice", "2026-05")["practice_cpu_seconds"] == 1200.0
    assert ledger.usage("alice", "2026-06")["practice_cpu_seconds"] == 0.0


def test_stored_bytes_are_a_level_and_the_report_sums_per_ama_and_meter(ledger):
    may, june = dt.datetime(2026, 5, 3, tzinfo=dt.UTC), dt.datetime(2026, 6, 3, tzinfo=dt.UTC)
    ledger.record(
        [
            UsageEntry("a1", "alice", "free", "stored_bytes", 1000, may),
            UsageEntry("a2", "alice", "free", "stored_bytes", 500, june),
            UsageEntry("a3", "alice", "free", "render_audio_seconds", 30, june),
            UsageEntry("a4", "alice", "free", "render_audio_seconds", 12, june),
            UsageEntry("b1", "bob", "studio", "downloaded_bytes", 7, june),
        ]
    )
    june_usage = ledger.usage("alice", "2026-06")
    assert june_usage["stored_bytes"] == 1500 and june_usage["render_audio_seconds"] == 42
    rows = {(r.ama, r.meter): r for r in ledger.report("2026-06")}
    assert rows["alice", "render_audio_seconds"].quantity == 42 and rows["alice", "render_audio_seconds"].entries == 2
    assert rows["bob", "downloaded_bytes"].plan == "studio" and ("alice", "stored_bytes") in rows
    assert [r.ama for r in ledger.report("2026-06", ama="bob")] == ["bob"]
    with pytest.raises(ValueError, match="meter 'coffee'"):
        ledger.record([UsageEntry("x", "alice", "free", "coffee", 1)])


def test_an_admitted_practice_stays_open_until_it_is_closed_once(ledger):
    ledger.admit("alice", "pr-1", "gpu")
    ledger.admit("alice", "pr-1", "gpu")  # a retried call
    assert [(p.ama, p.practice_id, p.device) for p in ledger.open_practices()] == [("alice", "pr-1", "gpu")]
    entry = UsageEntry("practice/alice/pr-1/seconds", "alice", "free", "practice_gpu_seconds", 90)
    assert ledger.close_practice("alice", "pr-1", [entry]) == [entry]
    assert ledger.close_practice("alice", "pr-1", [entry]) == []
    assert ledger.open_practices() == []
