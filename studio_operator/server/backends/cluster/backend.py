"""The cluster backend: Practice custom resources through the Kubernetes API,
personalities and practice audio in S3 / MinIO.

Stateless: a practice *is* its ``Practice`` object (``amadeus.dev/v1alpha1``,
one namespace per ama, :func:`.practice_resources.namespace_for`) and its audio
in the bucket (:mod:`.cluster_store`); personalities are the ama's registry
in the bucket. Any number of studio instances answer the same requests.

* **Practice**: the uploads (received and checked in a local staging
  directory) go to ``s3://<bucket>/<prefix>/tenants/<ama>/practices/<id>/``,
  then the Practice is created, named by the practice id (derived from the
  client's request id when it gives one, so a retried call finds the same
  practice). The object is validated against the CRD's schema and CEL rules
  before anything is uploaded; if the create fails, the uploaded audio is removed.
* **WatchPractice**: a GET, then a Kubernetes watch on that one object
  (``fieldSelector=metadata.name=…``, from its ``resourceVersion``); every status
  change (phase, conditions, version, metrics) is one ``PracticeProgress``. A
  watch that ends (server timeout, 410 Gone, a dropped connection) is resumed
  after a fresh GET, which also reports an unreachable API as UNAVAILABLE.
* **Personalities / Perform**: :class:`.cluster_store.TenantStore` over
  :class:`pipelines.registry.S3Registry`.

Kubernetes failures map to gRPC codes (:mod:`.kube`): unreachable API or 5xx →
UNAVAILABLE (naming the API server), 401/403 → UNAVAILABLE (the studio's own
credentials or RBAC), a Practice the API server rejects → INVALID_ARGUMENT, a
missing namespace or CRD → FAILED_PRECONDITION.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
import shutil
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.crd import GROUP, PLURAL, VERSION
from studio_operator.server.backends.cluster.kube import KubeCalls, KubeConflict, KubeNotFound, kube_api_client
from studio_operator.server.backends.cluster.practice_resources import (
    namespace_for,
    practice_body,
    progress_of,
    validate_practice_name,
)
from studio_operator.server.backends.cluster.store import ClusterObjectStore, TenantStore
from studio_operator.server.errors import (
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
    UnavailableError,
)
from studio_operator.server.interceptor import current_ama

__all__ = ["ClusterBackend"]

Phase = studio_pb2.PracticeProgress.Phase
Kind = personality_pb2.PracticeRecord.Kind
_TERMINAL = (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)
_ACTIVE_PHASES = ("", "Pending", "Running")


def _deleted(last: studio_pb2.PracticeProgress) -> studio_pb2.PracticeProgress:
    """The last progress of a Practice that was deleted (which cancels its run)."""
    gone = studio_pb2.PracticeProgress()
    gone.CopyFrom(last)
    gone.phase = Phase.CANCELLED
    gone.message = "the Practice resource was deleted"
    gone.updated.GetCurrentTime()
    return gone


class ClusterBackend:
    """Practices as ``Practice`` resources, personalities in S3 (see the module docstring); implements
    :class:`~studio_operator.server.backend.StudioBackend` and :class:`~studio_operator.server.backend.PracticeWatcher`.

    Args:
        home: local scratch: upload staging and the verified personality cache.
        namespace: the namespace of a single-user studio, and the stem of the
            per-ama namespaces (``<namespace>-<ama>``).
        kubeconfig: kubeconfig file (None: in-cluster, then ``$KUBECONFIG``).
        s3_*: the object store (endpoint ``host:port`` or URL, bucket, prefix, credentials).
        request_timeout: seconds for one Kubernetes API call.
        watch_timeout: seconds one watch request lasts before it is renewed.
        api_client: an existing ``kubernetes.client.ApiClient`` (instead of ``kubeconfig``).
    """

    name = "cluster"

    def __init__(
        self,
        home: str | Path,
        *,
        namespace: str = "amadeus",
        kubeconfig: str | Path | None = None,
        metrics=None,
        s3_endpoint: str | None = None,
        s3_bucket: str = "amadeus",
        s3_prefix: str = "",
        s3_access_key: str | None = None,
        s3_secret_key: str | None = None,
        s3_secure: bool = True,
        request_timeout: float = 15.0,
        watch_timeout: float = 60.0,
        api_client=None,
        device: str = "cpu",
    ):
        if not s3_endpoint:
            raise ValueError(
                "the cluster backend needs --s3-endpoint: the S3 / MinIO API holding personalities and practice audio"
            )
        from kubernetes import client

        self.home = Path(home)
        self.namespace = namespace
        self.metrics = metrics
        self.device = device
        self.objects = ClusterObjectStore(
            s3_endpoint,
            bucket=s3_bucket,
            prefix=s3_prefix,
            access_key=s3_access_key,
            secret_key=s3_secret_key,
            secure=s3_secure,
            cache_home=self.home / "cache" / "cluster",
        )
        self._api_client = api_client or kube_api_client(kubeconfig)
        self._custom = client.CustomObjectsApi(self._api_client)
        self.api_host = self._api_client.configuration.host
        self.request_timeout = request_timeout
        self._kube = KubeCalls(self.api_host, request_timeout)
        self.watch_timeout = watch_timeout

    # -- naming ------------------------------------------------------------------
    def namespace_of(self, ama: str) -> str:
        return namespace_for(ama, self.namespace)

    # -- the Kubernetes API ------------------------------------------------------
    def _read(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return self._kube(
                f"read Practice {namespace}/{name}",
                self._custom.get_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                name,
            )
        except KubeNotFound:
            raise NotFoundError(f"no practice {name!r} for this ama") from None

    def _progress(self, ama: str, obj: dict[str, Any]) -> studio_pb2.PracticeProgress:
        """The progress of a Practice object, with the produced version's digest from the registry."""
        status = obj.get("status") or {}
        digest = ""
        version = int(status.get("version") or 0)
        if version and status.get("phase") == "Succeeded":
            with contextlib.suppress(Exception):  # the digest is a courtesy; the version is the answer
                digest = self.objects.store(ama).info(obj["spec"]["deu"], version).digest
        return progress_of(obj, digest)

    # -- personalities -------------------------------------------------------------
    def store(self, ama: str) -> TenantStore:
        """The ama's personalities (S3 registry + local verified cache)."""
        return self.objects.store(ama)

    # -- practices -------------------------------------------------------------------
    def check_audio_uri(self, uri: str, field: str) -> None:
        """Audio by reference: an existing object under the (current) ama's own prefix."""
        self.objects.check_audio_uri(current_ama.get(), uri, field)

    def staging(self, ama: str) -> Path:
        path = self.home / "cache" / "incoming" / uuid.uuid4().hex / "uploads"
        path.mkdir(parents=True)
        return path

    def discard(self, staging_uploads: Path) -> None:
        shutil.rmtree(Path(staging_uploads).parent, ignore_errors=True)

    def existing(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress | None:
        try:
            return self.progress(ama, practice_id)
        except NotFoundError:
            return None

    def progress(self, ama: str, practice_id: str) -> studio_pb2.PracticeProgress:
        name = validate_practice_name(practice_id)
        return self._progress(ama, self._read(self.namespace_of(ama), name))

    def practice_seconds(self, ama: str, practice_id: str) -> float | None:
        """``status.startTime`` → ``completionTime`` (the operator's, from the Job / KFP run); 0.0: never started."""
        status = self._read(self.namespace_of(ama), validate_practice_name(practice_id)).get("status") or {}
        if not (status.get("startTime") and status.get("completionTime")):
            return None if status.get("startTime") else 0.0
        started, finished = (
            _dt.datetime.fromisoformat(str(status[k]).replace("Z", "+00:00")) for k in ("startTime", "completionTime")
        )
        return max(0.0, (finished - started).total_seconds())

    def active_practices(self, ama: str) -> int:
        """Practices of the ama not yet Succeeded / Failed / Cancelled (whoever created them)."""
        namespace = self.namespace_of(ama)
        try:
            listing = self._kube(
                f"list Practices in {namespace}",
                self._custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
            )
        except KubeNotFound:
            return 0
        return sum(
            1 for item in listing.get("items", ()) if ((item.get("status") or {}).get("phase") or "") in _ACTIVE_PHASES
        )

    async def submit(
        self, ama: str, header: studio_pb2.PracticeHeader, kind: str, staging_uploads: Path, practice_id: str
    ) -> str:
        try:
            return await asyncio.to_thread(self._submit, ama, header, Path(staging_uploads), practice_id)
        finally:
            self.discard(staging_uploads)

    def _submit(self, ama: str, header: studio_pb2.PracticeHeader, staging: Path, practice_id: str) -> str:
        from studio_operator.operator.validation import practice_errors

        namespace = self.namespace_of(ama)
        name = validate_practice_name(practice_id)
        folder = self.objects.practice_uri(ama, name)
        uris = {d.name: f"{folder}/{d.name}" for d in header.uploads}
        audio = [uri for upload, uri in uris.items() if upload != header.performance] + list(header.audio_uris)
        performance = uris.get(header.performance, header.performance) if header.type == Kind.FEEDBACK else ""
        body = practice_body(
            header,
            name=name,
            namespace=namespace,
            ama=ama,
            audio=audio,
            performance_uri=performance,
            uploads_uri=folder if uris else "",
        )
        errors = practice_errors(body)
        if errors:
            raise InvalidRequestError("the practice is not a valid Practice resource: " + "; ".join(errors))
        self.objects.upload_practice_audio(
            ama,
            name,
            {d.name: staging / d.name for d in header.uploads},
            {d.name: d.sha256 for d in header.uploads},
        )
        try:
            self._kube(
                f"create Practice {namespace}/{name}",
                self._custom.create_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                body,
            )
        except KubeConflict:
            return name  # the same request id again (a retried call): the practice already exists
        except KubeNotFound as exc:
            self.objects.remove_practice_audio(ama, name)
            raise PreconditionError(
                f"cannot create Practice {namespace}/{name}: {exc}; the namespace {namespace} must exist "
                "(one per ama) and the Practice CRD (practices.amadeus.dev) be installed"
            ) from None
        except BaseException:
            self.objects.remove_practice_audio(ama, name)
            raise
        return name

    async def watch(
        self, ama: str, practice_id: str, *, follow: bool = True
    ) -> AsyncIterator[studio_pb2.PracticeProgress]:
        """``PracticeProgress`` now, then (``follow``) on every change until the practice ends.

        A deleted Practice ends the stream with CANCELLED (deleting a Practice
        cancels its run).
        """
        namespace, name = self.namespace_of(ama), validate_practice_name(practice_id)
        obj = await asyncio.to_thread(self._read, namespace, name)
        last = await asyncio.to_thread(self._progress, ama, obj)
        yield last
        if not follow or last.phase in _TERMINAL:
            return
        version = (obj.get("metadata") or {}).get("resourceVersion", "")
        while True:
            async for kind, changed in self._events(namespace, name, version):
                version = (changed.get("metadata") or {}).get("resourceVersion", version)
                if kind == "DELETED":
                    yield _deleted(last)
                    return
                progress = await asyncio.to_thread(self._progress, ama, changed)
                if progress != last:
                    yield progress
                    last = progress
                if progress.phase in _TERMINAL:
                    return
            await asyncio.sleep(0.2)
            try:  # catch up; UNAVAILABLE when the API is gone
                obj = await asyncio.to_thread(self._read, namespace, name)
            except NotFoundError:  # deleted while no watch was open
                yield _deleted(last)
                return
            version = (obj.get("metadata") or {}).get("resourceVersion", "")
            progress = await asyncio.to_thread(self._progress, ama, obj)
            if progress != last:
                yield progress
                last = progress
            if progress.phase in _TERMINAL:
                return

    async def _events(self, namespace: str, name: str, resource_version: str):
        """``(type, object)`` of each watch event on one Practice until the watch ends.

        The blocking watch response is read on a thread of its own; leaving the
        generator (client gone, practice ended) shuts its socket down so the
        thread ends at once.
        """
        # watch="true" as kubectl sends it (the client would send str(True) = "True")
        kwargs = dict(
            watch="true",
            field_selector=f"metadata.name={name}",
            timeout_seconds=int(self.watch_timeout),
            allow_watch_bookmarks=False,
            _preload_content=False,
            request_timeout=(5.0, self.watch_timeout + 30.0),
        )
        if resource_version:
            kwargs["resource_version"] = resource_version
        try:
            response = await asyncio.to_thread(
                self._kube,
                f"watch Practice {namespace}/{name}",
                self._custom.list_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                **kwargs,
            )
        except (KubeNotFound, UnavailableError):
            return  # the caller's GET reports it
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue = asyncio.Queue()

        def put(item) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone (server shut down)
                loop.call_soon_threadsafe(lines.put_nowait, item)

        def pump() -> None:
            from kubernetes.watch.watch import iter_resp_lines

            try:
                for line in iter_resp_lines(response):
                    put(line)
            except Exception:  # noqa: BLE001 - a dropped watch is resumed by the caller
                pass
            finally:
                put(None)

        thread = threading.Thread(target=pump, name=f"practice-watch-{name}", daemon=True)
        thread.start()
        try:
            while (line := await lines.get()) is not None:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":  # e.g. 410 Gone: the resourceVersion is too old
                    return
                if (obj.get("metadata") or {}).get("name") != name:
                    continue  # an API server that ignores the field selector
                yield event.get("type", ""), obj
        finally:
            with contextlib.suppress(Exception):
                response.shutdown()
            with contextlib.suppress(Exception):
                response.close()
            await asyncio.to_thread(thread.join, 5.0)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Nothing to start: all state is in Kubernetes and the bucket."""

    async def stop(self, grace: float = 10.0) -> None:
        with contextlib.suppress(Exception):
            self._api_client.close()
