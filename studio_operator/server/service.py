"""The ``amadeus.v1.Studio`` servicer (grpc.aio).

Stateless: every answer comes from the backend (store, practice work
directories or Kubernetes) or from the request itself. The ama is the
authenticated tenant (:data:`.interceptor.current_ama`); every lookup is made
in that ama's namespace, so another tenant's deu or practice is NOT_FOUND.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import re
import threading
import time
from pathlib import Path

from instrument_agent.engine import Engine
from instrument_agent.personality import Bundle, pack_bundle, sha256_bytes
from instrument_agent.proto import personality_pb2, studio_pb2, studio_pb2_grpc
from studio_operator.server.backend import PracticePreviewer, PracticeWatcher, StudioBackend
from studio_operator.server.backends.embedded.practices import new_practice_id
from studio_operator.server.errors import (
    InvalidRequestError,
    NotFoundError,
    PreconditionError,
    TooLargeError,
    UnimplementedError,
)
from studio_operator.server.interceptor import current_ama, current_plan
from studio_operator.server.metering import UsageMeter
from studio_operator.server.perform.sessions import (
    Cancelled,
    PerformSession,
    encode_audio,
    make_engine,
    parse_midi_bytes,
    render_file,
)
from studio_operator.server.personalities import PersonalityResolver, version_proto
from studio_operator.server.tenancy import METERS, PlanBook, Quotas, month_of, next_month_start
from studio_operator.server.uploads import UploadReceiver, validate_header

__all__ = ["StudioServicer"]

Phase = studio_pb2.PracticeProgress.Phase
Kind = personality_pb2.PracticeRecord.Kind
_TERMINAL = (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)
_DEFAULT_CHUNK = 1 << 20
_MAX_CHUNK = 4 << 20
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# meter -> (the plan's limit on it, its factor to the meter's unit)
_LIMITS = {
    "practice_cpu_seconds": ("practice_cpu_minutes", 60.0),
    "practice_gpu_seconds": ("practice_gpu_minutes", 60.0),
    "render_audio_seconds": ("render_minutes", 60.0),
    "stored_bytes": ("stored_bytes", 1.0),
}


def _engine_for(bundle: Bundle, request: studio_pb2.PerformSetup | studio_pb2.PerformFileRequest) -> Engine:
    """The bundle's engine as a Perform setup or a PerformFile request asks: its sample rate (0: the default),
    its player profile when it sets one (merged over the bundle's), its noise seed."""
    player_profile = request.player_profile if request.HasField("player_profile") else None
    return make_engine(bundle, request.sample_rate, player_profile, request.seed)


class StudioServicer(studio_pb2_grpc.StudioServicer):
    """Args: the backend (any :class:`StudioBackend`), the studio home, limits, optional TF Serving renderer;
    the plans, their quotas (checked at the door of Practice, PerformFile and Perform) and the usage meter."""

    def __init__(
        self,
        backend: StudioBackend,
        home: str | Path,
        *,
        max_upload_bytes: int,
        max_practices_per_tenant: int,
        plans: PlanBook,
        quotas: Quotas,
        meter: UsageMeter,
        tf_serving=None,
        watch_interval: float = 0.2,
    ):
        self.backend = backend
        self.resolver = PersonalityResolver(backend, home)
        self.max_upload_bytes = max_upload_bytes
        self.max_practices_per_tenant = max_practices_per_tenant
        self.tf_serving = tf_serving
        self.watch_interval = watch_interval
        self.plans, self.quotas, self.meter = plans, quotas, meter

    # -- practice ------------------------------------------------------------
    async def Practice(self, request_iterator, context):
        ama = current_ama.get()
        requests = request_iterator.__aiter__()
        try:
            first = await requests.__anext__()
        except StopAsyncIteration:
            raise InvalidRequestError("Practice: the stream was empty; send a header first") from None
        if first.WhichOneof("part") != "header":
            raise InvalidRequestError("Practice: the first message must be a header")
        header = first.header
        kind = validate_header(header, max_upload_bytes=self.max_upload_bytes)
        for i, uri in enumerate(header.audio_uris):  # in a thread: the cluster backend asks the object store
            await asyncio.to_thread(self.backend.check_audio_uri, uri, f"header.audio_uris[{i}]")
        if header.type == Kind.FEEDBACK and header.performance not in {u.name for u in header.uploads}:
            await asyncio.to_thread(self.backend.check_audio_uri, header.performance, "header.performance")
        if header.type != Kind.IMITATION or header.base_version:
            ref = studio_pb2.PersonalityRef(deu=header.deu, version=header.base_version)
            await asyncio.to_thread(self.resolver.info, ama, ref)  # NOT_FOUND: nothing to tune / continue from
        practice_id = new_practice_id(ama, header.client_request_id)
        if header.client_request_id:
            existing = await asyncio.to_thread(self.backend.existing, ama, practice_id)
            if existing is not None:
                async for _ in requests:  # drain: the practice already has its audio
                    pass
                return studio_pb2.PracticeTicket(practice_id=practice_id, phase=existing.phase)
        active = await asyncio.to_thread(self.backend.active_practices, ama)
        if active >= self.max_practices_per_tenant:
            raise TooLargeError(
                f"{active} practices are already queued or running for this ama "
                f"(limit {self.max_practices_per_tenant}); "
                "wait for one to finish"
            )
        plan = self.plans[current_plan.get()]
        declared = sum(upload.size for upload in header.uploads)
        await asyncio.to_thread(
            self.quotas.check_practice, ama, plan, active=active, device=self.meter.device, upload_bytes=declared
        )
        await asyncio.to_thread(self.meter.ledger.admit, ama, practice_id, self.meter.device)
        staging = self.backend.staging(ama)
        receiver = UploadReceiver(header, staging, max_upload_bytes=self.max_upload_bytes)
        try:
            async for request in requests:
                if request.WhichOneof("part") != "chunk":
                    raise InvalidRequestError("Practice: only audio chunks may follow the header")
                receiver.add(request.chunk)
            await asyncio.to_thread(receiver.finish)
            await self.backend.submit(ama, header, kind, staging, practice_id)
        except BaseException:
            receiver.close()
            self.backend.discard(staging)
            raise
        await asyncio.to_thread(self.meter.stored_uploads, ama, plan.name, practice_id, receiver.received)
        return studio_pb2.PracticeTicket(practice_id=practice_id, phase=Phase.PENDING, bytes_received=receiver.received)

    async def WatchPractice(self, request, context):
        ama = current_ama.get()
        if not request.practice_id:
            raise InvalidRequestError("practice_id: name the practice to watch")
        if isinstance(
            self.backend, PracticeWatcher
        ):  # the backend streams changes itself (cluster: a Kubernetes watch)
            async for progress in self.backend.watch(ama, request.practice_id, follow=request.follow):
                yield progress
            return
        last = None
        while True:
            progress = await asyncio.to_thread(self.backend.progress, ama, request.practice_id)
            if (
                last is None
                or progress.updated != last.updated
                or progress.phase != last.phase
                or progress.preview.generation != last.preview.generation
            ):
                yield progress
                last = progress
            if not request.follow or progress.phase in _TERMINAL:
                return
            await asyncio.sleep(self.watch_interval)

    # -- personalities -------------------------------------------------------
    async def ListPersonalities(self, request, context):
        store = self.backend.store(current_ama.get())

        def rows():
            deus = [request.deu] if request.deu else store.deus()
            found = []
            for deu in deus:
                rows = store.versions(deu)
                champion = store.champion(deu) if rows else None
                found.extend(version_proto(info, champion) for info in rows)
            if request.deu and not found:
                raise NotFoundError(f"no deu {request.deu!r} for this ama")
            return found

        return studio_pb2.ListPersonalitiesResponse(personalities=await asyncio.to_thread(rows))

    async def GetPersonality(self, request, context):
        ama = current_ama.get()
        row, _path, archive_sha = await asyncio.to_thread(self.resolver.packed, ama, request.ref)
        bundle = await asyncio.to_thread(self.resolver.bundle, ama, request.ref)
        champion = await asyncio.to_thread(self.backend.store(ama).champion, row.deu)
        return studio_pb2.PersonalityInfo(
            version=version_proto(row, champion),
            manifest=bundle.manifest,
            packed_size=_path.stat().st_size,
            packed_sha256=archive_sha,
        )

    async def DownloadPersonality(self, request, context):
        ama = current_ama.get()
        row, path, archive_sha = await asyncio.to_thread(self.resolver.packed, ama, request.ref)
        size = path.stat().st_size
        if not 0 <= request.offset <= size:
            raise InvalidRequestError(f"offset: {request.offset} is outside the packed bundle (0..{size} bytes)")
        chunk = request.chunk_size or _DEFAULT_CHUNK
        if not 0 < chunk <= _MAX_CHUNK:
            raise InvalidRequestError(f"chunk_size: {chunk} is out of range (1..{_MAX_CHUNK})")
        offset = request.offset
        sent = 0
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                while True:
                    data = handle.read(chunk)
                    yield studio_pb2.BundleChunk(
                        offset=offset,
                        data=data,
                        total_size=size,
                        packed_sha256=archive_sha,
                        digest=row.digest,
                        version=row.version,
                    )
                    offset += len(data)
                    sent += len(data)
                    if offset >= size:
                        return
        finally:
            if sent:
                await asyncio.to_thread(self.meter.download, ama, current_plan.get(), sent, f"{row.deu} v{row.version}")

    async def DownloadPracticePreview(self, request, context):
        ama = current_ama.get()
        if not request.practice_id:
            raise InvalidRequestError("practice_id: name the practice whose preview to download")
        if not isinstance(self.backend, PracticePreviewer):
            raise UnimplementedError(
                f"this studio ({self.backend.name} backend) does not expose practice previews; "
                "the practice's published version arrives by sync when it finishes"
            )
        chunk = request.chunk_size or _DEFAULT_CHUNK
        if not 0 < chunk <= _MAX_CHUNK:
            raise InvalidRequestError(f"chunk_size: {chunk} is out of range (1..{_MAX_CHUNK})")
        await asyncio.to_thread(self.backend.progress, ama, request.practice_id)  # NOT_FOUND for another ama's
        bundle = await asyncio.to_thread(self.backend.preview, ama, request.practice_id, request.generation)
        data = await asyncio.to_thread(pack_bundle, bundle)
        packed = sha256_bytes(data)
        for offset in range(0, max(len(data), 1), chunk):
            yield studio_pb2.BundleChunk(
                offset=offset,
                data=data[offset : offset + chunk],
                total_size=len(data),
                packed_sha256=packed,
                digest=bundle.digest,
                version=0,
            )

    # -- performance ---------------------------------------------------------
    async def Perform(self, request_iterator, context):
        ama = current_ama.get()
        requests = request_iterator.__aiter__()
        try:
            first = await requests.__anext__()
        except StopAsyncIteration:
            return
        if first.WhichOneof("part") != "setup":
            raise InvalidRequestError("Perform: the first message must be a setup")
        setup = first.setup
        plan = self.plans[current_plan.get()]
        await asyncio.to_thread(self.quotas.check_render, ama, plan)
        rendered, started = 0, time.perf_counter()
        with self.resolver.open(ama, setup.personality) as bundle:
            engine = await asyncio.to_thread(_engine_for, bundle, setup)
            session = PerformSession(engine, setup.block_size)
            yield studio_pb2.PerformResponse(
                ready=studio_pb2.PerformReady(
                    deu=bundle.deu,
                    version=bundle.version,
                    digest=bundle.digest,
                    sample_rate=engine.sample_rate,
                    block_size=session.block_size,
                    latency_samples=engine.latency_samples,
                )
            )
            try:
                async for request in requests:
                    if request.WhichOneof("part") != "play":
                        raise InvalidRequestError("Perform: only play messages may follow the setup")
                    play = request.play
                    session.queue(play.events)
                    if play.blocks:
                        for block in await asyncio.to_thread(session.render, play.blocks):
                            rendered += len(block.samples) // 4
                            yield studio_pb2.PerformResponse(audio=block)
                    if play.finish:
                        for block in await asyncio.to_thread(session.tail):
                            rendered += len(block.samples) // 4
                            yield studio_pb2.PerformResponse(audio=block)
                        return
            finally:
                session.cancelled.set()
                if rendered:
                    seconds, subject = rendered / engine.sample_rate, f"{bundle.deu} v{bundle.version} live"
                    compute = time.perf_counter() - started
                    await asyncio.to_thread(self.meter.render, ama, plan.name, seconds, compute, subject)

    async def PerformFile(self, request, context):
        ama = current_ama.get()
        performance = parse_midi_bytes(request.midi)
        plan = self.plans[current_plan.get()]
        await asyncio.to_thread(self.quotas.check_render, ama, plan)
        cancelled = threading.Event()
        started = time.perf_counter()
        with self.resolver.open(ama, request.personality) as bundle:
            engine = await asyncio.to_thread(_engine_for, bundle, request)
            try:
                if self.tf_serving is not None:
                    audio = await asyncio.to_thread(self.tf_serving.render, bundle, performance, engine, ama)
                    renderer = "tf-serving"
                else:
                    audio = await asyncio.to_thread(render_file, engine, performance, cancelled)
                    renderer = "engine"
            except Cancelled:
                raise asyncio.CancelledError() from None
            finally:
                cancelled.set()
            seconds, compute = audio.size / engine.sample_rate, time.perf_counter() - started
            subject = f"{bundle.deu} v{bundle.version} file"
            await asyncio.to_thread(self.meter.render, ama, plan.name, seconds, compute, subject)
            fmt = request.format or studio_pb2.WAV_FLOAT32
            return studio_pb2.PerformFileResponse(
                audio=encode_audio(audio, engine.sample_rate, fmt),
                format=fmt,
                sample_rate=engine.sample_rate,
                seconds=audio.size / engine.sample_rate,
                deu=bundle.deu,
                version=bundle.version,
                digest=bundle.digest,
                renderer=renderer,
            )

    # -- the champion ---------------------------------------------------------
    async def SetChampion(self, request, context):
        from instrument_agent.personality import NoChampionError

        ama = current_ama.get()
        if not request.deu:
            raise InvalidRequestError("deu: name the deu")
        if request.rollback == (request.version > 0) or request.version < 0:
            raise InvalidRequestError("give a version to promote (>= 1) or rollback, not both")
        store = self.backend.store(ama)
        by = f"studio: {ama or 'local'}"

        def change():
            try:
                if request.rollback:
                    event = store.rollback(request.deu, by=by)
                else:
                    event = store.promote(request.deu, request.version, by=by)
            except NoChampionError as exc:
                raise PreconditionError(str(exc)) from None
            row = store.info(request.deu, event.version)
            return studio_pb2.ChampionReport(
                champion=version_proto(row, event),
                history=[studio_pb2.ChampionEvent(**e.to_dict()) for e in store.champion_history(request.deu)],
            )

        return await asyncio.to_thread(change)

    # -- usage ---------------------------------------------------------------
    async def GetUsage(self, request, context):
        ama, plan = current_ama.get(), self.plans[current_plan.get()]
        month = request.month or month_of(_dt.datetime.now(_dt.UTC))
        if not _MONTH.match(month):
            raise InvalidRequestError(f"month {month!r}: expected YYYY-MM")
        usage = await asyncio.to_thread(self.meter.ledger.usage, ama, month)
        report = studio_pb2.UsageReport(
            ama=ama,
            plan=plan.name,
            month=month,
            concurrent_practices_limit=plan.concurrent_practices or 0,
            upload_bytes_limit=plan.upload_bytes or 0,
        )
        report.resets.FromDatetime(next_month_start(month))
        for meter in METERS:
            row = report.meters.add(meter=meter, used=usage[meter], unit="B" if meter.endswith("_bytes") else "s")
            limit_name, factor = _LIMITS.get(meter, ("", 1.0))
            allowed = getattr(plan, limit_name) if limit_name else None
            if allowed is not None:
                row.limited, row.limit = True, float(allowed) * factor
        return report
