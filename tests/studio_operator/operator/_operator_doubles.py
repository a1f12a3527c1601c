"""Doubles at the true edges of the operator: the Kubernetes API server and the KFP API.

- :class:`ApiServer`: kmock's ``KubernetesEmulator`` plus what a real API server
  does to every object and that kopf relies on (uid, resourceVersion,
  generation bumped on spec changes only, creationTimestamp, generateName,
  the status subresource's write split).
- :class:`KfpApiDouble`: a real HTTP server on loopback implementing the
  ``/apis/v2beta1`` endpoints ``kfp.Client`` calls (healthz, experiments,
  runs: create/list/get/terminate). A run is executed by a configurable
  ``executor(run) -> (state, message)`` in a thread, so the state moves
  PENDING → RUNNING → SUCCEEDED/FAILED (or CANCELED) like a real backend.

Shared by the operator tests and ``tests/benchmarks/bench_operator.py``.
"""

from __future__ import annotations

import copy
import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import attrs
import jsonpatch
import kmock
from kmock._internal import dicts as _kmock_dicts

from studio_operator.crd import GROUP, KIND, PLURAL, SINGULAR, VERSION

__all__ = ["ApiServer", "KfpApiDouble", "declare_resources", "kubeconfig_for"]


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.define(kw_only=True)
class ApiServer(kmock.KubernetesEmulator):
    """``KubernetesEmulator`` with the API server's metadata bookkeeping."""

    _rv: int = attrs.field(default=0, init=False)
    status_subresources: set = attrs.field(factory=set)

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _stamp(self, request) -> None:
        data = request.data
        meta = data.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if request.namespace and not meta.get("namespace"):
            meta["namespace"] = request.namespace
        meta["uid"] = str(uuid.uuid4())
        meta["resourceVersion"] = self._next_rv()
        meta["generation"] = 1
        meta["creationTimestamp"] = _now()

    def _bump(self, request) -> None:
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return
        old = self.objects[key].raw
        data = request.data  # parsed JSON, mutated in place (the request object itself is frozen)
        has_status = request.resource in self.status_subresources
        if isinstance(data, dict):
            if has_status and request.subresource == "status":
                for key in [k for k in data if k not in ("status", "metadata")]:
                    del data[key]
            elif has_status:
                data.pop("status", None)
        try:
            new = _kmock_dicts.patch_dict(copy.deepcopy(old), copy.deepcopy(data))
        except jsonpatch.JsonPatchException as exc:  # e.g. a stale resourceVersion in a "test" op
            raise kmock.KubernetesError(
                status=422, reason="Invalid", message=f"the patch does not apply: {exc}"
            ) from None
        rv = self._next_rv()
        generation = int(old.get("metadata", {}).get("generation", 1))
        if new.get("spec") != old.get("spec"):
            generation += 1
        if isinstance(data, dict):
            data.setdefault("metadata", {})
            data["metadata"]["resourceVersion"] = rv
            data["metadata"]["generation"] = generation
        elif isinstance(data, list):  # a JSON patch: its test ops run against the old object first
            data.extend(
                [
                    {"op": "add", "path": "/metadata/resourceVersion", "value": rv},
                    {"op": "add", "path": "/metadata/generation", "value": generation},
                ]
            )

    async def _serve_watch(self, request):
        """Like the emulator's, but faithful to ``?resourceVersion=`` and race-free.

        kmock takes the snapshot first and subscribes after yielding it, so a
        change made while the client reads the snapshot is never streamed; and
        it replays every object as ADDED although the client listed them. A
        real API server streams only what changed after the list's
        resourceVersion: here, the objects changed since then (latest state)
        and then every change, subscribed under the same lock as the snapshot.
        """
        yield b""
        bus = self._buses[request.resource]

        def wanted(obj) -> bool:
            meta = obj.get("metadata", {})
            return (request.namespace is None or meta.get("namespace") == request.namespace) and (
                request.name is None or meta.get("name") == request.name
            )

        since = request.params.get("resourceVersion", "")
        since_rv = int(since) if since.isdigit() else None

        def changed(obj) -> bool:  # the client listed everything up to since_rv already
            return since_rv is None or int(obj.get("metadata", {}).get("resourceVersion") or 0) > since_rv

        async with self._lock:
            mark = await bus.mark()
            snapshot = [
                {"type": "ADDED" if since_rv is None else "MODIFIED", "object": obj.raw}
                for (resource, _, _), obj in self.objects.items()
                if resource == request.resource and not obj.deleted and wanted(obj.raw) and changed(obj.raw)
            ]
        try:
            for event in snapshot:
                yield event
            async for event in bus.stream(since=mark):
                if wanted(event.get("object", {})):
                    yield event
        finally:
            await bus.unmark(mark)

    async def _serve_list(self, request):
        payload = await super()._serve_list(request)
        payload["metadata"] = {"resourceVersion": str(self._rv)}
        return payload

    async def _handle(self, request):
        if request.resource is not None and request.data is not None:
            if request.action == kmock.action.CREATE and isinstance(request.data, dict):
                self._stamp(request)
            elif request.action == kmock.action.UPDATE and request.name is not None:
                self._bump(request)
        return await super()._handle(request)


PRACTICES = f"{GROUP}/{VERSION}/{PLURAL}"
JOBS = "batch/v1/jobs"
EVENTS = "v1/events"


def declare_resources(server: ApiServer) -> None:
    """The resources this cluster serves: Practices (with /status), Jobs, Events, Namespaces."""
    server.resources[PRACTICES] = kmock.ResourceInfo(
        kind=KIND,
        singular=SINGULAR,
        shortnames={"prac"},
        namespaced=True,
        subresources={"status"},
        verbs={"list", "watch", "get", "patch", "create", "delete", "update"},
    )
    server.resources[JOBS] = kmock.ResourceInfo(
        kind="Job",
        singular="job",
        namespaced=True,
        subresources={"status"},
        verbs={"list", "watch", "get", "patch", "create", "delete"},
    )
    server.resources[EVENTS] = kmock.ResourceInfo(
        kind="Event", singular="event", namespaced=True, verbs={"create", "list", "get"}
    )
    server.resources["v1/namespaces"] = kmock.ResourceInfo(
        kind="Namespace", singular="namespace", namespaced=False, verbs={"list", "watch", "get"}
    )
    server.status_subresources = {r for r in server.resources if r.plural in (PLURAL, "jobs")}


def kubeconfig_for(url: str, path) -> str:
    """Write a kubeconfig whose current context points at ``url``; returns its path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulator", "cluster": {"server": url.rstrip("/")}}],
        "users": [{"name": "tester", "user": {"token": "emulator-token"}}],
        "contexts": [
            {"name": "emulator", "context": {"cluster": "emulator", "user": "tester", "namespace": "default"}}
        ],
        "current-context": "emulator",
    }
    path.write_text(json.dumps(config))
    return str(path)


# -- KFP ----------------------------------------------------------------------

Executor = Callable[[dict[str, Any]], tuple[str, str]]


def _succeed(run: dict[str, Any]) -> tuple[str, str]:
    return "SUCCEEDED", ""


class KfpApiDouble:
    """The KFP v2beta1 REST API on 127.0.0.1 (``url`` once started; use as a context manager).

    Attributes:
        created: every run created, in order (the duplicate-submission check).
        executor: ``run -> (final state, error message)``, run in a thread per run.
        down: when set, every request answers 503 (an API that is up but failing).
    """

    def __init__(self, executor: Executor = _succeed, *, port: int = 0):
        self.executor = executor
        self.experiments: dict[str, dict[str, Any]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.created: list[dict[str, Any]] = []
        self.terminated: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.down = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _dispatch(self, method: str) -> None:
                parsed = urlparse(self.path)
                double.requests.append((method, parsed.path))
                if double.down.is_set():
                    self._send(503, {"code": 14, "message": "service unavailable"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                code, payload = double._route(method, parsed.path, query, body)
                self._send(code, payload)

            def do_GET(self):
                self._dispatch("GET")

            def do_POST(self):
                self._dispatch("POST")

            def do_DELETE(self):
                self._dispatch("DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> KfpApiDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- API ------------------------------------------------------------------
    @staticmethod
    def _display_name_filter(query: dict[str, str]) -> str | None:
        if not query.get("filter"):
            return None
        for predicate in json.loads(query["filter"]).get("predicates", []):
            if predicate.get("key") == "display_name" and predicate.get("operation") in ("EQUALS", 1):
                return predicate.get("string_value", predicate.get("stringValue"))
        return None

    def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = "/apis/v2beta1/"
        if not path.startswith(prefix):
            return 404, {"code": 5, "message": f"no route {path}"}
        tail = path[len(prefix) :]
        with self._lock:
            if method == "GET" and tail == "healthz":
                return 200, {"multi_user": False}
            if tail == "experiments":
                if method == "POST":
                    return self._create_experiment(body)
                name = self._display_name_filter(query)
                found = [e for e in self.experiments.values() if name is None or e["display_name"] == name]
                return 200, ({"experiments": found, "total_size": len(found)} if found else {})
            if tail == "runs":
                if method == "POST":
                    return self._create_run(body)
                name = self._display_name_filter(query)
                found = [
                    r
                    for r in self.runs.values()
                    if (name is None or r["display_name"] == name)
                    and (not query.get("experiment_id") or r["experiment_id"] == query["experiment_id"])
                ]
                found.sort(key=lambda r: r["created_at"])
                return 200, ({"runs": [self._public(r) for r in found], "total_size": len(found)} if found else {})
            if tail.startswith("runs/"):
                run_id, _, verb = tail[len("runs/") :].partition(":")
                run = self.runs.get(run_id)
                if run is None:
                    return 404, {"code": 5, "message": f"run {run_id} not found"}
                if method == "GET" and not verb:
                    return 200, self._public(run)
                if method == "POST" and verb == "terminate":
                    self.terminated.append(run_id)
                    if run["state"] not in ("SUCCEEDED", "FAILED", "CANCELED"):
                        run["state"] = "CANCELED"
                        run["finished_at"] = _now()
                    return 200, {}
        return 404, {"code": 5, "message": f"no route {method} {path}"}

    def _create_experiment(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not body.get("display_name"):
            return 400, {"code": 3, "message": "experiment display_name is required"}
        experiment = {
            "experiment_id": str(uuid.uuid4()),
            "display_name": body["display_name"],
            "namespace": body.get("namespace") or "",
            "created_at": _now(),
            "storage_state": "AVAILABLE",
        }
        self.experiments[experiment["experiment_id"]] = experiment
        return 200, experiment

    def _create_run(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        spec = body.get("pipeline_spec") or {}
        ir = spec.get("pipeline_spec", spec)  # {pipeline_spec, platform_spec} when kfp-kubernetes settings exist
        if not body.get("display_name") or "root" not in ir or "pipelineInfo" not in ir:
            return 400, {"code": 3, "message": "a run needs display_name and a pipeline_spec (KFP IR)"}
        if body.get("experiment_id") not in self.experiments:
            return 404, {"code": 5, "message": f"experiment {body.get('experiment_id')} not found"}
        declared = set(ir["root"].get("inputDefinitions", {}).get("parameters", {}))
        given = set((body.get("runtime_config") or {}).get("parameters") or {})
        if given - declared:
            return 400, {"code": 3, "message": f"unknown pipeline parameters: {sorted(given - declared)}"}
        run = {
            "run_id": str(uuid.uuid4()),
            "display_name": body["display_name"],
            "experiment_id": body["experiment_id"],
            "pipeline_spec": spec,
            "runtime_config": body.get("runtime_config") or {},
            "service_account": body.get("service_account") or "",
            "state": "PENDING",
            "created_at": datetime.datetime.now(tz=datetime.UTC).isoformat(),
            "storage_state": "AVAILABLE",
            "_created_perf": time.perf_counter(),  # for latency figures; not part of the API
        }
        self.runs[run["run_id"]] = run
        self.created.append(run)
        thread = threading.Thread(target=self._execute, args=(run,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return 200, self._public(run)

    @staticmethod
    def _public(run: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in run.items() if not k.startswith("_")}

    def _execute(self, run: dict[str, Any]) -> None:
        with self._lock:
            if run["state"] == "CANCELED":
                return
            run["state"] = "RUNNING"
        try:
            state, message = self.executor(copy.deepcopy(run))
        except Exception as exc:  # the run's own failure
            state, message = "FAILED", f"{type(exc).__name__}: {exc}"
        with self._lock:
            if run["state"] == "CANCELED":
                return
            run["state"] = state
            run["finished_at"] = _now()
            if message:
                run["error"] = {"code": 2, "message": message}
