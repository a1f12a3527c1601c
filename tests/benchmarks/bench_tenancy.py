"""Tenancy benchmark (loopback only, bounded): what admission adds to a unary call at 200 concurrent
calls, and how fast the usage ledger takes practices and renders on a real PostgreSQL server.

    python tests/benchmarks/bench_tenancy.py [--concurrency 200] [--calls 20] [--ledger-seconds 20] [--writers 4]

1. Admission: the same studio (a subprocess, the embedded backend) served twice: single-user (no amas:
   the door lets every call through) and multi-tenant (1 000 amas with tokens, a request rate per
   plan, failed-auth backoff). 200 client tasks call ListPersonalities concurrently; the p50/p99
   latency of each run and their difference are printed, and the door's own time per call
   (``Door.admit`` with those 1 000 tokens loaded) as p99 over 100 000 calls.
2. Ledger: ``--writers`` threads (replicas) write as the studio does, one transaction per event: a
   practice closed (its seconds + its version's bytes) for every 10 renders (audio + compute
   seconds), unthrottled for ``--ledger-seconds``; the rates reached are printed against the target
   of 500 practices and 5 000 renders a minute. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "studio_operator" / "server"))
from _postgres import PostgresServer  # noqa: E402

from studio_operator.server.admission import Door  # noqa: E402
from studio_operator.server.metrics import StudioMetrics  # noqa: E402
from studio_operator.server.tenancy import (  # noqa: E402
    AccountStore,
    Ledger,
    PlanBook,
    TenantDirectory,
    UsageEntry,
    default_url,
    migrate,
    open_engine,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def _load(address: str, token: str | None, concurrency: int, calls: int) -> list[float]:
    import grpc

    from instrument_agent.proto import studio_pb2, studio_pb2_grpc

    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = studio_pb2_grpc.StudioStub(channel)
        await stub.ListPersonalities(studio_pb2.ListPersonalitiesRequest(), metadata=metadata)  # warm up

        async def one() -> None:
            for _ in range(calls):
                started = time.perf_counter()
                await stub.ListPersonalities(studio_pb2.ListPersonalitiesRequest(), metadata=metadata)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one() for _ in range(concurrency)))
    return latencies


def _serve(home: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "instrument_agent.cli", "studio", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--metrics-port", "-1", "--home", str(home)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "serving on" in server.stdout.readline()
    return server, f"127.0.0.1:{port}"


def admission(concurrency: int, calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        results = {}
        for mode in ("single-user", "multi-tenant"):
            token = None
            if mode == "multi-tenant":
                engine = open_engine(default_url(home))
                migrate(engine)
                accounts = AccountStore(engine, PlanBook.load())
                for i in range(1000):
                    accounts.add_ama(f"ama-{i:04d}", plan="studio")
                    issued = accounts.issue_token(f"ama-{i:04d}")
                token = issued
                accounts.set_plan("ama-0999", "unlimited")  # the benchmark's ama: no rate limit to hit
                engine.dispose()
            server, address = _serve(home)
            try:
                results[mode] = asyncio.run(_load(address, token, concurrency, calls))
            finally:
                server.terminate()
                server.wait(30)
        for mode, values in results.items():
            p50, p99 = _pct(values, 0.5) * 1e3, _pct(values, 0.99) * 1e3
            print(f"{mode:13s} {len(values)} calls: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        added = _pct(results["multi-tenant"], 0.99) - _pct(results["single-user"], 0.99)
        print(f"admission adds {added * 1e3:+.2f} ms at p99 ({concurrency} concurrent calls, loopback)")

        engine = open_engine(default_url(home))
        door = Door(TenantDirectory(AccountStore(engine, PlanBook.load())), PlanBook.load(), StudioMetrics())
        metadata = (("authorization", f"Bearer {token}"),)
        times = []
        for _ in range(100_000):
            started = time.perf_counter()
            door.admit(metadata, "ipv4:127.0.0.1:5000")
            times.append(time.perf_counter() - started)
        print(f"Door.admit alone: p50 {statistics.median(times) * 1e6:.1f} us, p99 {_pct(times, 0.99) * 1e6:.1f} us")
        engine.dispose()


def ledger(seconds: float, writers: int) -> None:
    postgres = PostgresServer().start()
    try:
        url = postgres.new_database()
        engine = open_engine(url)
        migrate(engine)
        counts = {"practices": 0, "renders": 0}
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def replica(index: int) -> None:
            book = Ledger(engine)
            n = 0
            while time.monotonic() < stop:
                n += 1
                ama = f"ama-{n % 1000:04d}"
                if n % 11 == 0:
                    pid = f"pr-{index}-{n}"
                    book.admit(ama, pid, "cpu")
                    entries = [
                        UsageEntry(f"practice/{ama}/{pid}/seconds", ama, "studio", "practice_cpu_seconds", 321.0),
                        UsageEntry(f"practice/{ama}/{pid}/version", ama, "studio", "stored_bytes", 2e6),
                    ]
                    book.close_practice(ama, pid, entries)
                    book.close_practice(ama, pid, entries)  # a second replica's sweep: a no-op
                    kind = "practices"
                else:
                    key = f"render/{index}-{n}"
                    book.record(
                        [
                            UsageEntry(f"{key}/audio", ama, "studio", "render_audio_seconds", 12.0),
                            UsageEntry(f"{key}/compute", ama, "studio", "render_compute_seconds", 0.4),
                        ]
                    )
                    kind = "renders"
                with lock:
                    counts[kind] += 1

        threads = [threading.Thread(target=replica, args=(i,)) for i in range(writers)]
        started = time.monotonic()
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.monotonic() - started
        per_minute = {k: v * 60.0 / elapsed for k, v in counts.items()}
        rows = Ledger(engine).report()
        total = sum(r.entries for r in rows)
        print(
            f"ledger on PostgreSQL, {writers} writers, {elapsed:.0f} s: {per_minute['practices']:,.0f} practices/min "
            f"(target 500), {per_minute['renders']:,.0f} renders/min (target 5 000); {total:,} entries, "
            f"{2 * counts['practices'] + 2 * counts['renders']:,} expected"
        )
        engine.dispose()
    finally:
        postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--calls", type=int, default=20, help="calls per concurrent client")
    parser.add_argument("--ledger-seconds", type=float, default=20.0)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    admission(args.concurrency, args.calls)
    ledger(args.ledger_seconds, args.writers)


if __name__ == "__main__":
    main()
