"""A light client of the Amadeus studio (``amadeus.v1.Studio`` over gRPC).

Used by the CLI and the agent; needs only ``grpcio`` and the generated code
(no TensorFlow). Every call sends ``authorization: Bearer <token>`` when a
token is given; failures raise :class:`StudioClientError` carrying the gRPC
status code and the server's message.

    >>> with StudioClient("localhost:50051", token="...") as studio:
    ...     ticket = studio.practice("cello", audio=["cello.wav"])
    ...     for progress in studio.watch(ticket.practice_id):
    ...         print(progress.phase, progress.step, progress.loss)
    ...     bundle = studio.download("cello", destination="cello-v1")
"""

from __future__ import annotations

import hashlib
import os
import queue
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from instrument_agent.client.perform_stream import (
    END,
    PerformStream,
    StudioClientError,
    midi_event,
    personality_source,
    stream_messages,
    wrap_rpc_error,
)
from instrument_agent.proto import personality_pb2, studio_pb2

__all__ = ["DEFAULT_CHUNK", "PerformStream", "StudioClient", "StudioClientError", "midi_event"]

DEFAULT_CHUNK = 1 << 20
Kind = personality_pb2.PracticeRecord.Kind
_KINDS = {"imitation": Kind.IMITATION, "tuning": Kind.TUNING, "feedback": Kind.FEEDBACK}


class StudioClient:
    """A connection to one studio.

    Args:
        address: ``host:port``.
        token: the ama's bearer token (None: a studio without authentication).
        tls: use TLS; ``root_certificates`` (PEM bytes or a file path) for a private CA.
        timeout: deadline in seconds of each unary call and each download (None: no deadline).
        max_message_bytes: largest message in either direction.
    """

    def __init__(
        self,
        address: str,
        token: str | None = None,
        *,
        tls: bool = False,
        root_certificates=None,
        timeout: float | None = 60.0,
        max_message_bytes: int = 64 << 20,
    ):
        import grpc

        from instrument_agent.proto import studio_pb2_grpc

        options = [
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", max_message_bytes),
        ]
        if tls or root_certificates is not None:
            roots = root_certificates
            if roots is not None and not isinstance(roots, bytes):
                roots = Path(roots).read_bytes()
            self._channel = grpc.secure_channel(
                address, grpc.ssl_channel_credentials(root_certificates=roots), options=options
            )
        else:
            self._channel = grpc.insecure_channel(address, options=options)
        self._stub = studio_pb2_grpc.StudioStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.address = address
        self.timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> StudioClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unary(self, method, request, timeout=None):
        import grpc

        try:
            return method(request, metadata=self._metadata, timeout=timeout or self.timeout)
        except grpc.RpcError as exc:
            raise wrap_rpc_error(exc) from None

    # -- practice ------------------------------------------------------------
    def practice(
        self,
        deu: str,
        practice_type: str = "imitation",
        *,
        audio: Iterable[str | Path] = (),
        audio_uris: Iterable[str] = (),
        base_version: int = 0,
        learner_profile: personality_pb2.LearnerProfile | None = None,
        player_profile: personality_pb2.PlayerProfile | None = None,
        performance: str | Path | None = None,
        regions: Iterable[tuple[float, float, str]] = (),
        feedback_method: str = "",
        finetune_steps: int = 0,
        request_id: str = "",
        chunk_size: int = DEFAULT_CHUNK,
        progress: Callable[[int, int], None] | None = None,
    ) -> studio_pb2.PracticeTicket:
        """Start a practice, uploading local ``audio`` files in chunks.

        ``performance`` (feedback) is a local file (uploaded) or a URI;
        ``regions`` are ``(start_s, end_s, "good" | "bad")``; ``feedback_method`` is ``knobs``,
        ``finetune`` or ``auto`` (empty: the studio's default, auto) and ``finetune_steps`` the
        fine-tune's budget (0: the default); the studio checks both. ``progress(sent, total)``
        is called after each chunk. Returns the ticket with the practice id.
        """
        import grpc

        if practice_type not in _KINDS:
            raise StudioClientError(f"practice type {practice_type!r}: choose imitation, tuning or feedback")
        files = [Path(p) for p in audio]
        performance_name = ""
        if performance is not None and Path(performance).is_file():
            files.append(Path(performance))
            performance_name = Path(performance).name
        elif performance is not None:
            performance_name = str(performance)
        for path in files:
            if not path.is_file():
                raise StudioClientError(f"{path}: no such audio file")
        header = studio_pb2.PracticeHeader(
            deu=deu,
            type=_KINDS[practice_type],
            base_version=base_version,
            audio_uris=list(audio_uris),
            performance=performance_name,
            feedback_method=feedback_method,
            finetune_steps=finetune_steps,
            client_request_id=request_id,
        )
        if learner_profile is not None:
            header.learner_profile.CopyFrom(learner_profile)
        if player_profile is not None:
            header.player_profile.CopyFrom(player_profile)
        for start, end, label in regions:
            header.regions.add(start_s=start, end_s=end, label=studio_pb2.FeedbackRegion.Label.Value(label.upper()))
        total = 0
        for path in files:
            header.uploads.add(name=path.name, size=path.stat().st_size, sha256=_sha256(path))
            total += path.stat().st_size

        def requests():
            yield studio_pb2.PracticeRequest(header=header)
            sent = 0
            for path in files:
                with open(path, "rb") as handle:
                    while data := handle.read(chunk_size):
                        yield studio_pb2.PracticeRequest(chunk=studio_pb2.AudioChunk(name=path.name, data=data))
                        sent += len(data)
                        if progress is not None:
                            progress(sent, total)

        try:
            return self._stub.Practice(requests(), metadata=self._metadata, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise wrap_rpc_error(exc) from None

    def watch(
        self, practice_id: str, *, follow: bool = True, timeout: float | None = None
    ) -> Iterator[studio_pb2.PracticeProgress]:
        """The practice's state, then (``follow``) every change until it ends."""

        yield from stream_messages(
            self._stub.WatchPractice(
                studio_pb2.WatchPracticeRequest(practice_id=practice_id, follow=follow),
                metadata=self._metadata,
                timeout=timeout,
            )
        )

    # -- personalities -------------------------------------------------------
    def list_personalities(self, deu: str = "") -> list[studio_pb2.PersonalityVersion]:
        return list(
            self._unary(self._stub.ListPersonalities, studio_pb2.ListPersonalitiesRequest(deu=deu)).personalities
        )

    def usage(self, month: str = "") -> studio_pb2.UsageReport:
        """Your plan, its limits and what you used in ``month`` (``YYYY-MM``; "" = this month)."""
        return self._unary(self._stub.GetUsage, studio_pb2.GetUsageRequest(month=month))

    def set_champion(self, deu: str, version: int = 0, *, rollback: bool = False) -> studio_pb2.ChampionReport:
        """Promote ``version`` of ``deu`` to champion at the studio, or roll back to the previous one."""
        request = studio_pb2.SetChampionRequest(deu=deu, version=version, rollback=rollback)
        return self._unary(self._stub.SetChampion, request)

    def get_personality(self, deu: str, version: int = 0, digest: str = "") -> studio_pb2.PersonalityInfo:
        ref = studio_pb2.PersonalityRef(deu=deu, version=version, digest=digest)
        return self._unary(self._stub.GetPersonality, studio_pb2.GetPersonalityRequest(ref=ref))

    def download_personality(
        self, deu: str, version: int = 0, digest: str = "", offset: int = 0, chunk_size: int = 0
    ) -> Iterator[studio_pb2.BundleChunk]:
        """The raw chunks of the packed bundle from byte ``offset`` (for callers that store them themselves)."""

        ref = studio_pb2.PersonalityRef(deu=deu, version=version, digest=digest)
        yield from stream_messages(
            self._stub.DownloadPersonality(
                studio_pb2.DownloadPersonalityRequest(ref=ref, offset=offset, chunk_size=chunk_size),
                metadata=self._metadata,
                timeout=self.timeout,
            )
        )

    def download_archive(
        self,
        deu: str,
        archive: str | Path,
        *,
        version: int = 0,
        digest: str = "",
        chunk_size: int = 0,
        progress: Callable[[int, int], None] | None = None,
    ) -> studio_pb2.BundleChunk:
        """Download the packed bundle to ``archive``, resuming from ``archive.part`` if present.

        The partial file grows chunk by chunk (an interrupted download keeps
        what it has); once complete its sha256 is checked against the studio's
        and it is renamed to ``archive``. Returns the last chunk (digest,
        version, sizes; no data). A partial file of another version is discarded.
        """
        import grpc

        archive = Path(archive)
        part = archive.with_name(archive.name + ".part")
        meta = archive.with_name(archive.name + ".part.digest")
        ref = studio_pb2.PersonalityRef(deu=deu, version=version, digest=digest)
        info = self.get_personality(deu, version, digest)
        if not meta.exists() or meta.read_text().strip() != info.packed_sha256:
            part.unlink(missing_ok=True)
        archive.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(info.packed_sha256)
        offset = part.stat().st_size if part.exists() else 0
        if offset > info.packed_size:
            part.unlink()
            offset = 0
        ref.digest = info.version.digest  # pin the version we resume
        ref.version = info.version.version
        last = studio_pb2.BundleChunk(
            total_size=info.packed_size,
            packed_sha256=info.packed_sha256,
            digest=info.version.digest,
            version=info.version.version,
            offset=offset,
        )
        if offset < info.packed_size:
            call = self._stub.DownloadPersonality(
                studio_pb2.DownloadPersonalityRequest(ref=ref, offset=offset, chunk_size=chunk_size),
                metadata=self._metadata,
                timeout=self.timeout,
            )
            try:
                with open(part, "ab") as handle:
                    for chunk in call:
                        if chunk.offset != handle.tell():
                            raise StudioClientError(f"studio sent bytes at {chunk.offset}, expected {handle.tell()}")
                        handle.write(chunk.data)
                        handle.flush()
                        if progress is not None:
                            progress(chunk.offset + len(chunk.data), chunk.total_size)
                        last = chunk
            except grpc.RpcError as exc:
                raise wrap_rpc_error(exc) from None
        if _sha256(part) != info.packed_sha256:
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)  # nothing left to resume (it stayed behind for good)
            raise StudioClientError(f"{archive}: downloaded bundle does not match the studio's sha256; download again")
        os.replace(part, archive)
        meta.unlink(missing_ok=True)
        last.ClearField("data")
        return last

    def download(
        self,
        deu: str,
        destination: str | Path,
        *,
        version: int = 0,
        digest: str = "",
        progress: Callable[[int, int], None] | None = None,
    ):
        """Download and unpack a personality into ``destination`` (a new directory).

        Resumable (see :meth:`download_archive`); the bundle's manifest digest
        and every file digest are verified. Returns the verified ``Bundle``.
        """
        from instrument_agent.personality import unpack_bundle

        destination = Path(destination)
        archive = destination.with_name(destination.name + ".amadeus.tar")
        chunk = self.download_archive(deu, archive, version=version, digest=digest, progress=progress)
        bundle = unpack_bundle(archive.read_bytes(), destination, expected_digest=chunk.digest)
        archive.unlink(missing_ok=True)
        return bundle

    # -- performance ---------------------------------------------------------
    def perform_file(
        self,
        midi: bytes | str | Path,
        *,
        deu: str | None = None,
        version: int = 0,
        digest: str = "",
        bundle: bytes | None = None,
        sample_rate: int = 48000,
        raw: bool = False,
        player_profile: personality_pb2.PlayerProfile | None = None,
        seed: int = 0,
        timeout: float | None = None,
    ) -> studio_pb2.PerformFileResponse:
        """Render a MIDI file (bytes or a path) in the studio; the response holds WAV (or raw float32) bytes."""
        data = midi if isinstance(midi, bytes) else Path(midi).read_bytes()
        request = studio_pb2.PerformFileRequest(
            personality=personality_source(deu, version, digest, bundle),
            midi=data,
            sample_rate=sample_rate,
            seed=seed,
            format=studio_pb2.RAW_FLOAT32 if raw else studio_pb2.WAV_FLOAT32,
        )
        if player_profile is not None:
            request.player_profile.CopyFrom(player_profile)
        return self._unary(self._stub.PerformFile, request, timeout=timeout)

    def perform(
        self,
        *,
        deu: str | None = None,
        version: int = 0,
        digest: str = "",
        bundle: bytes | None = None,
        sample_rate: int = 48000,
        block_size: int = 128,
        player_profile: personality_pb2.PlayerProfile | None = None,
        seed: int = 0,
        timeout: float | None = None,
    ) -> PerformStream:
        """Open a live Perform stream (see :class:`PerformStream`)."""
        import grpc

        setup = studio_pb2.PerformSetup(
            personality=personality_source(deu, version, digest, bundle),
            sample_rate=sample_rate,
            block_size=block_size,
            seed=seed,
        )
        if player_profile is not None:
            setup.player_profile.CopyFrom(player_profile)
        requests: queue.Queue = queue.Queue()
        requests.put(studio_pb2.PerformRequest(setup=setup))

        def iterate():
            while (item := requests.get()) is not END:
                yield item

        call = self._stub.Perform(iterate(), metadata=self._metadata, timeout=timeout)
        try:
            first = next(iter(call))
        except StopIteration:
            raise StudioClientError("studio: the Perform stream ended before it was ready") from None
        except grpc.RpcError as exc:
            requests.put(END)
            raise wrap_rpc_error(exc) from None
        return PerformStream(call, requests, first.ready)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
