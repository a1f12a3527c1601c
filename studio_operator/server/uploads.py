"""Receiving a practice: header validation, chunked uploads, size limits, audio checks."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from instrument_agent.personality.store import InvalidDeuNameError, validate_deu_name
from instrument_agent.proto import personality_pb2, studio_pb2
from studio_operator.crd import FEEDBACK_METHODS, MAX_FINETUNE_STEPS
from studio_operator.server.errors import InvalidRequestError, TooLargeError

__all__ = ["UploadReceiver", "check_audio_file", "validate_header"]

Kind = personality_pb2.PracticeRecord.Kind
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


def validate_header(header: studio_pb2.PracticeHeader, *, max_upload_bytes: int) -> str:
    """Check a PracticeHeader; return the practice type name (imitation | tuning | feedback).

    Raises InvalidRequestError naming the field, or TooLargeError when the
    declared uploads exceed ``max_upload_bytes`` in total.
    """
    try:
        validate_deu_name(header.deu)
    except InvalidDeuNameError as exc:
        raise InvalidRequestError(f"header.deu: {exc}") from None
    if header.type not in (Kind.IMITATION, Kind.TUNING, Kind.FEEDBACK):
        raise InvalidRequestError("header.type: choose IMITATION, TUNING or FEEDBACK")
    kind = Kind.Name(header.type).lower()
    if header.base_version < 0:
        raise InvalidRequestError(f"header.base_version: {header.base_version} must be >= 0 (0 = latest)")
    names = set()
    total = 0
    for i, upload in enumerate(header.uploads):
        if not _FILE_NAME.match(upload.name) or upload.name in names:
            raise InvalidRequestError(f"header.uploads[{i}].name {upload.name!r}: a unique plain file name is required")
        names.add(upload.name)
        if upload.size <= 0:
            raise InvalidRequestError(f"header.uploads[{i}].size: declare the file's size in bytes (> 0)")
        if upload.sha256 and not re.fullmatch(r"[0-9a-f]{64}", upload.sha256):
            raise InvalidRequestError(f"header.uploads[{i}].sha256: 64 lowercase hex digits expected")
        total += upload.size
    if total > max_upload_bytes:
        raise TooLargeError(f"uploads total {total} bytes, over this studio's limit of {max_upload_bytes} bytes")
    audio_count = len(header.audio_uris) + len([n for n in names if n != header.performance])
    if header.type == Kind.IMITATION and audio_count == 0:
        raise InvalidRequestError("an imitation practice needs audio: header.uploads or header.audio_uris")
    if header.type == Kind.TUNING and not (header.learner_profile.ListFields() or header.player_profile.ListFields()):
        raise InvalidRequestError("a tuning practice needs a header.learner_profile or header.player_profile change")
    if header.type == Kind.FEEDBACK:
        if not header.performance or not header.regions:
            raise InvalidRequestError("a feedback practice needs header.performance and header.regions")
        for i, region in enumerate(header.regions):
            if not (0 <= region.start_s < region.end_s) or region.label == studio_pb2.FeedbackRegion.LABEL_UNSPECIFIED:
                raise InvalidRequestError(f"header.regions[{i}]: needs 0 <= start_s < end_s and a GOOD or BAD label")
        _check_method(header)
    elif header.regions or header.feedback_method or header.finetune_steps:
        raise InvalidRequestError(
            "header.regions, header.feedback_method and header.finetune_steps are only allowed on a feedback practice"
        )
    return kind


def _check_method(header: studio_pb2.PracticeHeader) -> None:
    """A feedback header's method (empty = auto) and fine-tune budget (0 = the default)."""
    if header.feedback_method and header.feedback_method not in FEEDBACK_METHODS:
        raise InvalidRequestError(
            f"header.feedback_method {header.feedback_method!r}: choose {', '.join(FEEDBACK_METHODS)} (empty = auto)"
        )
    if not 0 <= header.finetune_steps <= MAX_FINETUNE_STEPS:
        raise InvalidRequestError(
            f"header.finetune_steps {header.finetune_steps}: 1..{MAX_FINETUNE_STEPS} steps (0 = the default budget)"
        )
    if header.finetune_steps and header.feedback_method == "knobs":
        raise InvalidRequestError("header.finetune_steps is the fine-tune's budget: it does not apply to method knobs")


def check_audio_file(path: Path, what: str) -> None:
    """Raise InvalidRequestError unless ``path`` decodes as audio with at least one frame."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except Exception as exc:  # noqa: BLE001 - libsndfile reports every decode failure differently
        raise InvalidRequestError(
            f"{what}: not an audio file soundfile can read ({str(exc).strip() or type(exc).__name__})"
        ) from None
    if info.frames <= 0:
        raise InvalidRequestError(f"{what}: audio file holds no samples")


class UploadReceiver:
    """Writes the AudioChunks of declared uploads into ``directory``.

    Raises InvalidRequestError for a chunk of an undeclared file or a size or
    digest mismatch, TooLargeError when a file grows past its declared size
    or the total past the limit.
    """

    def __init__(self, header: studio_pb2.PracticeHeader, directory: Path, *, max_upload_bytes: int):
        self.declared = {u.name: u for u in header.uploads}
        self.directory = directory
        self.max_upload_bytes = max_upload_bytes
        self.received = 0
        self._sizes = dict.fromkeys(self.declared, 0)
        self._hashes = {name: hashlib.sha256() for name in self.declared}
        self._handles: dict = {}

    def add(self, chunk: studio_pb2.AudioChunk) -> None:
        upload = self.declared.get(chunk.name)
        if upload is None:
            raise InvalidRequestError(f"chunk for {chunk.name!r}, which the header's uploads do not declare")
        size = self._sizes[chunk.name] + len(chunk.data)
        self.received += len(chunk.data)
        if self.received > self.max_upload_bytes:
            raise TooLargeError(f"upload exceeds this studio's limit of {self.max_upload_bytes} bytes")
        if size > upload.size:
            raise TooLargeError(f"upload {chunk.name!r} is larger than its declared {upload.size} bytes")
        handle = self._handles.get(chunk.name)
        if handle is None:
            handle = self._handles[chunk.name] = open(self.directory / chunk.name, "wb")
        handle.write(chunk.data)
        self._hashes[chunk.name].update(chunk.data)
        self._sizes[chunk.name] = size

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def finish(self) -> None:
        """Close the files and check every declared upload arrived whole, and is audio."""
        self.close()
        for name, upload in self.declared.items():
            if self._sizes[name] != upload.size:
                raise InvalidRequestError(
                    f"upload {name!r}: received {self._sizes[name]} of {upload.size} declared bytes"
                )
            if upload.sha256 and self._hashes[name].hexdigest() != upload.sha256:
                raise InvalidRequestError(
                    f"upload {name!r}: sha256 does not match the declared digest (corrupted in transit)"
                )
            check_audio_file(self.directory / name, f"upload {name!r}")
