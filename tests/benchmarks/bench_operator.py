"""Operator benchmark (issue 6): many Practices created at once. Prints figures; asserts nothing.

    python -m tests.benchmarks.bench_operator [--count 500]

The real operator (kopf handlers, KFP backend through ``kfp.Client``) runs in
its own process against the emulated API server (kmock) and the KFP API
double, which run in another child process (as they would on a cluster).
``--count`` Practices are created at once; when half of them are submitted
the operator process is killed (SIGKILL, like a crashed pod) and a fresh one
started. Reported: The benchmark's API server
(:class:`_BenchApiServer`) forgets each request once served, answers Event
posts without storing them and finds an object by its key. kmock keeps every
request it served and, for each new one, scans that whole log to pick its
reaction, and it scans every stored object (Events included) to find one by
name: each request got slower than the last, and the run stalled at 432 of 500. The operator's requests and
the Events it posts are unchanged; the Events are counted.

1. time until every Practice is submitted, p50/p99 of create → run created;
2. the baseline, measured in the same run: the same number of runs submitted
   straight through ``KfpBackend.submit`` from 16 threads (no Kubernetes, no
   kopf), and the operator's time as a ratio of it;
3. the operator process's RSS when ready and at its peak;
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
import aiohttp.web  # noqa: E402
import attrs  # noqa: E402
import kmock  # noqa: E402
from _operator_doubles import EVENTS, ApiServer, KfpApiDouble, declare_resources  # noqa: E402
from _operator_harness import NAMESPACE, Cluster, fast_config  # noqa: E402
from _standin_pipeline import compile_standin  # noqa: E402

from studio_operator.operator.catalog import StoreCatalog  # noqa: E402
from studio_operator.operator.handlers import PracticeOperator  # noqa: E402
from studio_operator.operator.kfp_backend import KfpBackend  # noqa: E402
from studio_operator.operator.practice import PracticeRequest  # noqa: E402
from studio_operator.operator.runner import run_operator  # noqa: E402


def _rss_mb(pid: int | None = None) -> float:
    """Resident memory of process ``pid`` (default: this one), MB."""
    try:
        with open(f"/proc/{pid or 'self'}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _operator_main(config, url: str, ready) -> None:
    """Child process: the real operator on the emulated API server until killed."""
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = url
    operator = PracticeOperator(
        config,
        catalog=StoreCatalog(config.store_home),
        backends={"kfp": lambda: KfpBackend(config, compile_fn=compile_standin)},
    )
    flag = threading.Event()
    threading.Thread(target=lambda: (flag.wait(60), ready.send("ready")), daemon=True).start()
    asyncio.run(
        run_operator(config, configuration=configuration, namespaces=[NAMESPACE], operator=operator, ready_flag=flag)
    )


def _start_operator(config, url: str):
    """The operator in its own process (as in its pod); returns the process once it is ready."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_operator_main, args=(config, url, child), daemon=True)
    process.start()
    parent.poll(60)
    return process


def _baseline(count: int, home: str, cache: str) -> float:
    """Seconds to submit ``count`` runs straight through the KFP backend (16 threads)."""
    with KfpApiDouble(lambda run: ("RUNNING", "")) as kfp:
        config = fast_config(kfp_host=kfp.url, store_home=home, pipeline_cache_dir=cache)
        backend = KfpBackend(config, compile_fn=compile_standin)
        requests = [
            PracticeRequest(
                name=f"b{i}",
                namespace=NAMESPACE,
                uid=str(uuid.uuid4()),
                generation=1,
                deu="oboe",
                type="imitation",
                audio=("/a.wav",),
            )
            for i in range(count)
        ]
        backend.submit(requests[0])  # compile once, like the operator's cache
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            list(pool.map(backend.submit, requests[1:]))
        return time.perf_counter() - started


@attrs.define(kw_only=True)
class _BenchApiServer(ApiServer):
    """The tests' API server, scaled for thousands of objects: Events are acknowledged and
    counted but not stored, and a named object is looked up by key (O(1)) rather than by
    kmock's scan over every stored object (O(objects) per request)."""

    events_posted: int = attrs.field(default=0, init=False)

    async def _handle(self, request):
        try:
            if request.resource == kmock.resource(EVENTS) and request.action == kmock.action.CREATE:
                self.events_posted += 1
                event = dict(request.data or {})
                event.setdefault("metadata", {})["uid"] = str(uuid.uuid4())
                return aiohttp.web.json_response(event, status=201)
            return await super()._handle(request)
        finally:
            self._forget(request)

    def _forget(self, request) -> None:
        """Drop a served request from kmock's request log (kept for test assertions): kmock matches
        every new request against its reactions by scanning that whole log, O(requests so far)."""
        for index in range(len(self._requests) - 1, -1, -1):
            if self._requests[index] is request:
                del self._requests[index]
                return

    def _by_key(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        meta = data.get("metadata") or {}
        key = (request.resource, request.namespace or meta.get("namespace"), request.name or meta.get("name"))
        if key not in self.objects:
            raise kmock.KubernetesError(status=404, reason="NotFound", message=f"{key[2]} not found")
        return self.objects[key]

    async def _serve_fetch(self, request):
        async with self._lock:
            obj = self._by_key(request)
        if obj.deleted:
            raise kmock.KubernetesError(status=404, reason="NotFound", message=f"{request.name} not found")
        return obj.raw

    async def _serve_create(self, request):
        async with self._lock:
            return self._by_key(request).raw

    async def _serve_update(self, request):
        async with self._lock:
            return self._by_key(request).last.raw

    async def _serve_delete(self, request):
        async with self._lock:
            return self._by_key(request).last.raw


def _serve_cluster(pipe) -> None:
    """Child process: the emulated API server and the KFP API double, until told to stop."""

    async def serve() -> None:
        with KfpApiDouble(lambda run: (time.sleep(3600), ("SUCCEEDED", ""))[1]) as kfp:
            async with _BenchApiServer() as server, kmock.Server(server) as http:
                declare_resources(server)
                pipe.send((str(http.url).rstrip("/"), kfp.url))
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, pipe.recv)  # "stop"
                pipe.send(server.events_posted)

    asyncio.run(serve())


async def _bench(count: int) -> None:
    import datetime
    import multiprocessing

    home = tempfile.mkdtemp(prefix="amadeus-bench-home-")
    cache = tempfile.mkdtemp(prefix="amadeus-bench-pipelines-")
    loop = asyncio.get_running_loop()
    baseline = await loop.run_in_executor(None, _baseline, count, home, cache)

    # The API server and KFP live in another process, as they would on a cluster.
    parent, child = multiprocessing.get_context("spawn").Pipe()
    cluster_process = multiprocessing.get_context("spawn").Process(target=_serve_cluster, args=(child,), daemon=True)
    cluster_process.start()
    url, kfp_url = await loop.run_in_executor(None, parent.recv)

    config = fast_config(
        kfp_host=kfp_url, store_home=home, pipeline_cache_dir=cache, poll_interval=2.0, max_poll_interval=20.0
    )
    process = await loop.run_in_executor(None, _start_operator, config, url)
    rss_before = _rss_mb(process.pid)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:
        cluster = Cluster(None, url, session, "")
        created_at: dict[str, float] = {}

        async def create(i: int) -> None:
            started = time.time()
            body = await cluster.apply(
                f"practice-{i:04d}", {"deu": "oboe", "type": "imitation", "audio": [f"s3://takes/oboe-{i}.wav"]}
            )
            created_at[body["metadata"]["uid"]] = started

        async def runs() -> list[dict]:
            async with session.get(f"{kfp_url}/apis/v2beta1/runs") as response:
                return (await response.json()).get("runs", [])

        t0, t0_wall = time.perf_counter(), time.time()
        await asyncio.gather(*(create(i) for i in range(count)))
        create_seconds = time.perf_counter() - t0

        restarted_at = stopped_with = stop_seconds = None
        rss_peak = _rss_mb(process.pid)
        last_report = time.perf_counter()
        while True:
            current = await runs()
            submitted = len({run["display_name"] for run in current})
            rss_peak = max(rss_peak, _rss_mb(process.pid))
            if submitted >= count:
                break
            if restarted_at is None and submitted >= count // 2:
                process.kill()  # a crash: SIGKILL, in-flight submissions and status patches are lost
                await loop.run_in_executor(None, process.join, 30)
                restarted_at = submitted
                stopped_with = len({run["display_name"] for run in await runs()})
                stop_seconds = time.perf_counter() - t0
                process = await loop.run_in_executor(None, _start_operator, config, url)
            if time.perf_counter() - last_report > 5:
                last_report = time.perf_counter()
                print(
                    f"  {last_report - t0:6.1f} s: {submitted}/{count} submitted, "
                    f"operator RSS {_rss_mb(process.pid):.0f} MB",
                    flush=True,
                )
            if time.perf_counter() - t0 > 900:
                print(f"timeout: {submitted} of {count} submitted after 900 s")
                break
            await asyncio.sleep(0.25)
        created_times = [datetime.datetime.fromisoformat(run["created_at"]).timestamp() for run in current]
        total = max(created_times) - t0_wall  # the last run's creation, not when this loop noticed it

        latencies = sorted(
            datetime.datetime.fromisoformat(run["created_at"]).timestamp()
            - created_at[run["display_name"].removeprefix("practice-")]
            for run in current
            if run["display_name"].removeprefix("practice-") in created_at
        )
        phases: dict[str, int] = {}
        while time.perf_counter() - t0 < 900:  # until every Practice shows its run in its status
            async with session.get(f"{url}/apis/amadeus.dev/v1alpha1/namespaces/{NAMESPACE}/practices") as response:
                items = (await response.json())["items"]
            phases = {}
            for item in items:
                phase = (item.get("status") or {}).get("phase", "-")
                phases[phase] = phases.get(phase, 0) + 1
            if phases.get("Running", 0) == count:
                break
            await asyncio.sleep(0.5)
        all_running = time.perf_counter() - t0
        # Duplicates are counted at the very end, not when the 500th distinct run appeared: a
        # restarted operator that re-submits late would otherwise go unseen. Give it a few more
        # reconcile rounds (polls are 1-2 s here) with every Practice Running first.
        await asyncio.sleep(10)
        names = [run["display_name"] for run in await runs()]
        duplicates = len(names) - len(set(names))

    process.terminate()
    await loop.run_in_executor(None, process.join, 30)
    parent.send("stop")
    events_posted = parent.recv() if parent.poll(10) else "?"
    cluster_process.join(10)
    if cluster_process.is_alive():
        cluster_process.terminate()

    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"Practices created at once:            {count} (POSTs took {create_seconds:.2f} s)")
    print(f"all submitted after:                  {total:.2f} s   (target: 60 s)")
    print(
        f"create -> run created, p50 / p99:     {p(0.5):.2f} s / {p(0.99):.2f} s   "
        f"(mean {statistics.mean(latencies):.2f} s)"
    )
    print(f"baseline, {count} runs straight to KFP: {baseline:.2f} s  -> operator / baseline = {total / baseline:.1f}x")
    print(
        f"operator process RSS:                 {rss_before:.0f} MB before, {rss_peak:.0f} MB peak "
        f"(+{rss_peak - rss_before:.0f} MB)"
    )
    print(
        f"operator killed (SIGKILL) after:       {restarted_at} submissions ({stopped_with} when it was gone); "
        f"the new one started at {stop_seconds:.1f} s"
    )
    print(f"duplicate submissions:                {duplicates} (of {len(names)} runs, counted 10 s after all Running)")
    print(f"every status Running after:           {all_running:.2f} s   {phases}")
    print(f"Events posted by the operators:       {events_posted} (acknowledged, not stored)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args(argv)
    asyncio.run(_bench(args.count))


if __name__ == "__main__":
    main()
