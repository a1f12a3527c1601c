"""Operator benchmark (issue 6): many Practices created at once. Prints figures; asserts nothing.

    python -m tests.benchmarks.bench_operator [--count 500]

The real operator (kopf handlers, KFP backend through ``kfp.Client``) runs in
its own thread and event loop against the emulated API server (kmock) and the
KFP API double, all in this process. ``--count`` Practices are created at
once; the operator is stopped and a fresh one started when half of them are
submitted. Reported:

1. time until every Practice is submitted, p50/p99 of create → run created;
2. the baseline, measured in the same run: the same number of runs submitted
   straight through ``KfpBackend.submit`` from 16 threads (no Kubernetes, no
   kopf), and the operator's time as a ratio of it;
3. the process RSS growth while the operator ran (operator + emulator + double);
4. duplicate submissions across the restart (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import resource
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "studio_operator" / "operator"))

import aiohttp  # noqa: E402
import kmock  # noqa: E402
from _operator_doubles import ApiServer, KfpApiDouble, declare_resources  # noqa: E402
from _operator_harness import NAMESPACE, Cluster, fast_config  # noqa: E402
from _standin_pipeline import compile_standin  # noqa: E402

from studio_operator.operator.catalog import StoreCatalog  # noqa: E402
from studio_operator.operator.handlers import PracticeOperator  # noqa: E402
from studio_operator.operator.kfp_backend import KfpBackend  # noqa: E402
from studio_operator.operator.practice import PracticeRequest  # noqa: E402
from studio_operator.operator.runner import run_operator  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start_operator(config, configuration):
    operator = PracticeOperator(
        config,
        catalog=StoreCatalog(config.store_home),
        backends={"kfp": lambda: KfpBackend(config, compile_fn=compile_standin)},
    )
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(
            run_operator(config, configuration=configuration, namespaces=[NAMESPACE], operator=operator, stop_flag=stop, ready_flag=ready)
        ),
        daemon=True,
    )
    thread.start()
    ready.wait(30)
    return thread, stop


def _baseline(count: int, home: str, cache: str) -> float:
    """Seconds to submit ``count`` runs straight through the KFP backend (16 threads)."""
    with KfpApiDouble(lambda run: ("RUNNING", "")) as kfp:
        config = fast_config(kfp_host=kfp.url, store_home=home, pipeline_cache_dir=cache)
        backend = KfpBackend(config, compile_fn=compile_standin)
        requests = [
            PracticeRequest(name=f"b{i}", namespace=NAMESPACE, uid=str(uuid.uuid4()), generation=1, deu="oboe", type="imitation", audio=("/a.wav",))
            for i in range(count)
        ]
        backend.submit(requests[0])  # compile once, like the operator's cache
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(backend.submit, requests[1:]))
        return time.perf_counter() - started


async def _bench(count: int) -> None:
    home = tempfile.mkdtemp(prefix="amadeus-bench-home-")
    cache = tempfile.mkdtemp(prefix="amadeus-bench-pipelines-")
    baseline = await asyncio.get_running_loop().run_in_executor(None, _baseline, count, home, cache)

    release = threading.Event()
    with KfpApiDouble(lambda run: (release.wait(600), ("SUCCEEDED", ""))[1]) as kfp:
        async with ApiServer() as server, kmock.Server(server) as http:
            declare_resources(server)
            url = str(http.url).rstrip("/")
            from kubernetes import client

            configuration = client.Configuration()
            configuration.host = url
            config = fast_config(kfp_host=kfp.url, store_home=home, pipeline_cache_dir=cache, poll_interval=2.0, max_poll_interval=20.0)
            rss_before = _rss_mb()
            thread, stop = _start_operator(config, configuration)

            async with aiohttp.ClientSession() as session:
                cluster = Cluster(server, url, session, "")
                created_at: dict[str, float] = {}

                async def create(i: int) -> None:
                    name = f"practice-{i:04d}"
                    created_at[name] = time.perf_counter()
                    body = await cluster.apply(name, {"deu": "oboe", "type": "imitation", "audio": [f"s3://takes/oboe-{i}.wav"]})
                    created_at[body["metadata"]["uid"]] = created_at.pop(name)

                t0 = time.perf_counter()
                await asyncio.gather(*(create(i) for i in range(count)))
                create_seconds = time.perf_counter() - t0

                def submitted() -> int:
                    return len({run["display_name"] for run in kfp.created})

                restarted_at = None
                while submitted() < count:
                    if restarted_at is None and submitted() >= count // 2:
                        stop.set()
                        await asyncio.get_running_loop().run_in_executor(None, thread.join, 30)
                        restarted_at = submitted()
                        thread, stop = _start_operator(config, configuration)
                    if time.perf_counter() - t0 > 600:
                        print(f"timeout: {submitted()} of {count} submitted after 600 s")
                        break
                    await asyncio.sleep(0.05)
                total = time.perf_counter() - t0
                rss_after = _rss_mb()

                latencies = []
                for run in kfp.created:
                    uid = run["display_name"].removeprefix("practice-")
                    created = run.get("_created_perf")
                    if uid in created_at and created is not None:
                        latencies.append(created - created_at[uid])
                names = [run["display_name"] for run in kfp.created]
                duplicates = len(names) - len(set(names))
                await asyncio.sleep(2 * config.poll_interval)  # the followers see the runs running
                running = sum(1 for _, obj in server.objects.items() if (obj.raw.get("status") or {}).get("phase") == "Running")

            stop.set()
            release.set()
            await asyncio.get_running_loop().run_in_executor(None, thread.join, 30)

    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"Practices created at once:            {count} (POSTs took {create_seconds:.2f} s)")
    print(f"all submitted after:                  {total:.2f} s   (target: 60 s)")
    print(f"create -> run created, p50 / p99:     {p(0.5):.2f} s / {p(0.99):.2f} s   (mean {statistics.mean(latencies):.2f} s)")
    print(f"baseline, {count} runs straight to KFP: {baseline:.2f} s  -> operator / baseline = {total / baseline:.1f}x")
    print(f"process RSS growth while operating:   {rss_after - rss_before:.0f} MB (RSS now {rss_after:.0f} MB)")
    print(f"operator restarted after:             {restarted_at} submissions")
    print(f"duplicate submissions:                {duplicates}")
    print(f"Practices Running after the restart:  {running} of {count}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args(argv)
    asyncio.run(_bench(args.count))


if __name__ == "__main__":
    main()
