import datetime

from . import personality_pb2 as _personality_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AudioFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIO_FORMAT_UNSPECIFIED: _ClassVar[AudioFormat]
    WAV_FLOAT32: _ClassVar[AudioFormat]
    RAW_FLOAT32: _ClassVar[AudioFormat]
AUDIO_FORMAT_UNSPECIFIED: AudioFormat
WAV_FLOAT32: AudioFormat
RAW_FLOAT32: AudioFormat

class PersonalityRef(_message.Message):
    __slots__ = ("deu", "version", "digest")
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    deu: str
    version: int
    digest: str
    def __init__(self, deu: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ...) -> None: ...

class PersonalitySource(_message.Message):
    __slots__ = ("ref", "bundle")
    REF_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    ref: PersonalityRef
    bundle: bytes
    def __init__(self, ref: _Optional[_Union[PersonalityRef, _Mapping]] = ..., bundle: _Optional[bytes] = ...) -> None: ...

class FeedbackRegion(_message.Message):
    __slots__ = ("start_s", "end_s", "label")
    class Label(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        LABEL_UNSPECIFIED: _ClassVar[FeedbackRegion.Label]
        GOOD: _ClassVar[FeedbackRegion.Label]
        BAD: _ClassVar[FeedbackRegion.Label]
    LABEL_UNSPECIFIED: FeedbackRegion.Label
    GOOD: FeedbackRegion.Label
    BAD: FeedbackRegion.Label
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    start_s: float
    end_s: float
    label: FeedbackRegion.Label
    def __init__(self, start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., label: _Optional[_Union[FeedbackRegion.Label, str]] = ...) -> None: ...

class UploadDeclaration(_message.Message):
    __slots__ = ("name", "size", "sha256")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    size: int
    sha256: str
    def __init__(self, name: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ...) -> None: ...

class PracticeHeader(_message.Message):
    __slots__ = ("deu", "type", "base_version", "learner_profile", "player_profile", "audio_uris", "uploads", "performance", "regions", "client_request_id", "feedback_method", "finetune_steps")
    DEU_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    PLAYER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_URIS_FIELD_NUMBER: _ClassVar[int]
    UPLOADS_FIELD_NUMBER: _ClassVar[int]
    PERFORMANCE_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_METHOD_FIELD_NUMBER: _ClassVar[int]
    FINETUNE_STEPS_FIELD_NUMBER: _ClassVar[int]
    deu: str
    type: _personality_pb2.PracticeRecord.Kind
    base_version: int
    learner_profile: _personality_pb2.LearnerProfile
    player_profile: _personality_pb2.PlayerProfile
    audio_uris: _containers.RepeatedScalarFieldContainer[str]
    uploads: _containers.RepeatedCompositeFieldContainer[UploadDeclaration]
    performance: str
    regions: _containers.RepeatedCompositeFieldContainer[FeedbackRegion]
    client_request_id: str
    feedback_method: str
    finetune_steps: int
    def __init__(self, deu: _Optional[str] = ..., type: _Optional[_Union[_personality_pb2.PracticeRecord.Kind, str]] = ..., base_version: _Optional[int] = ..., learner_profile: _Optional[_Union[_personality_pb2.LearnerProfile, _Mapping]] = ..., player_profile: _Optional[_Union[_personality_pb2.PlayerProfile, _Mapping]] = ..., audio_uris: _Optional[_Iterable[str]] = ..., uploads: _Optional[_Iterable[_Union[UploadDeclaration, _Mapping]]] = ..., performance: _Optional[str] = ..., regions: _Optional[_Iterable[_Union[FeedbackRegion, _Mapping]]] = ..., client_request_id: _Optional[str] = ..., feedback_method: _Optional[str] = ..., finetune_steps: _Optional[int] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("name", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    data: bytes
    def __init__(self, name: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class PracticeRequest(_message.Message):
    __slots__ = ("header", "chunk")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    header: PracticeHeader
    chunk: AudioChunk
    def __init__(self, header: _Optional[_Union[PracticeHeader, _Mapping]] = ..., chunk: _Optional[_Union[AudioChunk, _Mapping]] = ...) -> None: ...

class PracticeTicket(_message.Message):
    __slots__ = ("practice_id", "phase", "bytes_received")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    phase: PracticeProgress.Phase
    bytes_received: int
    def __init__(self, practice_id: _Optional[str] = ..., phase: _Optional[_Union[PracticeProgress.Phase, str]] = ..., bytes_received: _Optional[int] = ...) -> None: ...

class WatchPracticeRequest(_message.Message):
    __slots__ = ("practice_id", "follow")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    follow: bool
    def __init__(self, practice_id: _Optional[str] = ..., follow: _Optional[bool] = ...) -> None: ...

class PracticeProgress(_message.Message):
    __slots__ = ("practice_id", "deu", "type", "phase", "stage", "step", "total_steps", "loss", "message", "version", "digest", "metrics", "updated", "preview")
    class Phase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PHASE_UNSPECIFIED: _ClassVar[PracticeProgress.Phase]
        PENDING: _ClassVar[PracticeProgress.Phase]
        RUNNING: _ClassVar[PracticeProgress.Phase]
        SUCCEEDED: _ClassVar[PracticeProgress.Phase]
        FAILED: _ClassVar[PracticeProgress.Phase]
        CANCELLED: _ClassVar[PracticeProgress.Phase]
    PHASE_UNSPECIFIED: PracticeProgress.Phase
    PENDING: PracticeProgress.Phase
    RUNNING: PracticeProgress.Phase
    SUCCEEDED: PracticeProgress.Phase
    FAILED: PracticeProgress.Phase
    CANCELLED: PracticeProgress.Phase
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEU_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    deu: str
    type: _personality_pb2.PracticeRecord.Kind
    phase: PracticeProgress.Phase
    stage: str
    step: int
    total_steps: int
    loss: float
    message: str
    version: int
    digest: str
    metrics: _containers.ScalarMap[str, float]
    updated: _timestamp_pb2.Timestamp
    preview: PracticePreview
    def __init__(self, practice_id: _Optional[str] = ..., deu: _Optional[str] = ..., type: _Optional[_Union[_personality_pb2.PracticeRecord.Kind, str]] = ..., phase: _Optional[_Union[PracticeProgress.Phase, str]] = ..., stage: _Optional[str] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., loss: _Optional[float] = ..., message: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., updated: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., preview: _Optional[_Union[PracticePreview, _Mapping]] = ...) -> None: ...

class PracticePreview(_message.Message):
    __slots__ = ("generation", "step", "loss", "digest")
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    generation: int
    step: int
    loss: float
    digest: str
    def __init__(self, generation: _Optional[int] = ..., step: _Optional[int] = ..., loss: _Optional[float] = ..., digest: _Optional[str] = ...) -> None: ...

class DownloadPracticePreviewRequest(_message.Message):
    __slots__ = ("practice_id", "generation", "chunk_size")
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    practice_id: str
    generation: int
    chunk_size: int
    def __init__(self, practice_id: _Optional[str] = ..., generation: _Optional[int] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class ListPersonalitiesRequest(_message.Message):
    __slots__ = ("deu",)
    DEU_FIELD_NUMBER: _ClassVar[int]
    deu: str
    def __init__(self, deu: _Optional[str] = ...) -> None: ...

class PersonalityVersion(_message.Message):
    __slots__ = ("deu", "version", "digest", "parent_version", "practice", "created", "champion")
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    deu: str
    version: int
    digest: str
    parent_version: int
    practice: str
    created: str
    champion: bool
    def __init__(self, deu: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., parent_version: _Optional[int] = ..., practice: _Optional[str] = ..., created: _Optional[str] = ..., champion: _Optional[bool] = ...) -> None: ...

class ListPersonalitiesResponse(_message.Message):
    __slots__ = ("personalities",)
    PERSONALITIES_FIELD_NUMBER: _ClassVar[int]
    personalities: _containers.RepeatedCompositeFieldContainer[PersonalityVersion]
    def __init__(self, personalities: _Optional[_Iterable[_Union[PersonalityVersion, _Mapping]]] = ...) -> None: ...

class GetPersonalityRequest(_message.Message):
    __slots__ = ("ref",)
    REF_FIELD_NUMBER: _ClassVar[int]
    ref: PersonalityRef
    def __init__(self, ref: _Optional[_Union[PersonalityRef, _Mapping]] = ...) -> None: ...

class PersonalityInfo(_message.Message):
    __slots__ = ("version", "manifest", "packed_size", "packed_sha256")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_FIELD_NUMBER: _ClassVar[int]
    PACKED_SIZE_FIELD_NUMBER: _ClassVar[int]
    PACKED_SHA256_FIELD_NUMBER: _ClassVar[int]
    version: PersonalityVersion
    manifest: _personality_pb2.PersonalityManifest
    packed_size: int
    packed_sha256: str
    def __init__(self, version: _Optional[_Union[PersonalityVersion, _Mapping]] = ..., manifest: _Optional[_Union[_personality_pb2.PersonalityManifest, _Mapping]] = ..., packed_size: _Optional[int] = ..., packed_sha256: _Optional[str] = ...) -> None: ...

class DownloadPersonalityRequest(_message.Message):
    __slots__ = ("ref", "offset", "chunk_size")
    REF_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    ref: PersonalityRef
    offset: int
    chunk_size: int
    def __init__(self, ref: _Optional[_Union[PersonalityRef, _Mapping]] = ..., offset: _Optional[int] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class BundleChunk(_message.Message):
    __slots__ = ("offset", "data", "total_size", "packed_sha256", "digest", "version")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    PACKED_SHA256_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    offset: int
    data: bytes
    total_size: int
    packed_sha256: str
    digest: str
    version: int
    def __init__(self, offset: _Optional[int] = ..., data: _Optional[bytes] = ..., total_size: _Optional[int] = ..., packed_sha256: _Optional[str] = ..., digest: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PerformSetup(_message.Message):
    __slots__ = ("personality", "sample_rate", "block_size", "player_profile", "seed")
    PERSONALITY_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    PLAYER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    personality: PersonalitySource
    sample_rate: int
    block_size: int
    player_profile: _personality_pb2.PlayerProfile
    seed: int
    def __init__(self, personality: _Optional[_Union[PersonalitySource, _Mapping]] = ..., sample_rate: _Optional[int] = ..., block_size: _Optional[int] = ..., player_profile: _Optional[_Union[_personality_pb2.PlayerProfile, _Mapping]] = ..., seed: _Optional[int] = ...) -> None: ...

class MidiEvent(_message.Message):
    __slots__ = ("sample", "data")
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    sample: int
    data: bytes
    def __init__(self, sample: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class PerformEvents(_message.Message):
    __slots__ = ("events", "blocks", "finish")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[MidiEvent]
    blocks: int
    finish: bool
    def __init__(self, events: _Optional[_Iterable[_Union[MidiEvent, _Mapping]]] = ..., blocks: _Optional[int] = ..., finish: _Optional[bool] = ...) -> None: ...

class PerformRequest(_message.Message):
    __slots__ = ("setup", "play")
    SETUP_FIELD_NUMBER: _ClassVar[int]
    PLAY_FIELD_NUMBER: _ClassVar[int]
    setup: PerformSetup
    play: PerformEvents
    def __init__(self, setup: _Optional[_Union[PerformSetup, _Mapping]] = ..., play: _Optional[_Union[PerformEvents, _Mapping]] = ...) -> None: ...

class PerformReady(_message.Message):
    __slots__ = ("deu", "version", "digest", "sample_rate", "block_size", "latency_samples")
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    deu: str
    version: int
    digest: str
    sample_rate: int
    block_size: int
    latency_samples: int
    def __init__(self, deu: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., sample_rate: _Optional[int] = ..., block_size: _Optional[int] = ..., latency_samples: _Optional[int] = ...) -> None: ...

class AudioBlock(_message.Message):
    __slots__ = ("start_sample", "samples", "active_voices", "last")
    START_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_VOICES_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    start_sample: int
    samples: bytes
    active_voices: int
    last: bool
    def __init__(self, start_sample: _Optional[int] = ..., samples: _Optional[bytes] = ..., active_voices: _Optional[int] = ..., last: _Optional[bool] = ...) -> None: ...

class PerformResponse(_message.Message):
    __slots__ = ("ready", "audio")
    READY_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    ready: PerformReady
    audio: AudioBlock
    def __init__(self, ready: _Optional[_Union[PerformReady, _Mapping]] = ..., audio: _Optional[_Union[AudioBlock, _Mapping]] = ...) -> None: ...

class PerformFileRequest(_message.Message):
    __slots__ = ("personality", "midi", "sample_rate", "player_profile", "format", "seed")
    PERSONALITY_FIELD_NUMBER: _ClassVar[int]
    MIDI_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    PLAYER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    personality: PersonalitySource
    midi: bytes
    sample_rate: int
    player_profile: _personality_pb2.PlayerProfile
    format: AudioFormat
    seed: int
    def __init__(self, personality: _Optional[_Union[PersonalitySource, _Mapping]] = ..., midi: _Optional[bytes] = ..., sample_rate: _Optional[int] = ..., player_profile: _Optional[_Union[_personality_pb2.PlayerProfile, _Mapping]] = ..., format: _Optional[_Union[AudioFormat, str]] = ..., seed: _Optional[int] = ...) -> None: ...

class PerformFileResponse(_message.Message):
    __slots__ = ("audio", "format", "sample_rate", "seconds", "deu", "version", "digest", "renderer")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    RENDERER_FIELD_NUMBER: _ClassVar[int]
    audio: bytes
    format: AudioFormat
    sample_rate: int
    seconds: float
    deu: str
    version: int
    digest: str
    renderer: str
    def __init__(self, audio: _Optional[bytes] = ..., format: _Optional[_Union[AudioFormat, str]] = ..., sample_rate: _Optional[int] = ..., seconds: _Optional[float] = ..., deu: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., renderer: _Optional[str] = ...) -> None: ...

class SetChampionRequest(_message.Message):
    __slots__ = ("deu", "version", "rollback")
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROLLBACK_FIELD_NUMBER: _ClassVar[int]
    deu: str
    version: int
    rollback: bool
    def __init__(self, deu: _Optional[str] = ..., version: _Optional[int] = ..., rollback: _Optional[bool] = ...) -> None: ...

class ChampionEvent(_message.Message):
    __slots__ = ("action", "version", "digest", "at", "by")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    action: str
    version: int
    digest: str
    at: str
    by: str
    def __init__(self, action: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., at: _Optional[str] = ..., by: _Optional[str] = ...) -> None: ...

class ChampionReport(_message.Message):
    __slots__ = ("champion", "history")
    CHAMPION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    champion: PersonalityVersion
    history: _containers.RepeatedCompositeFieldContainer[ChampionEvent]
    def __init__(self, champion: _Optional[_Union[PersonalityVersion, _Mapping]] = ..., history: _Optional[_Iterable[_Union[ChampionEvent, _Mapping]]] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class MeterUsage(_message.Message):
    __slots__ = ("meter", "used", "unit", "limited", "limit")
    METER_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    LIMITED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    meter: str
    used: float
    unit: str
    limited: bool
    limit: float
    def __init__(self, meter: _Optional[str] = ..., used: _Optional[float] = ..., unit: _Optional[str] = ..., limited: _Optional[bool] = ..., limit: _Optional[float] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ("ama", "plan", "month", "resets", "meters", "concurrent_practices_limit", "upload_bytes_limit")
    AMA_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    RESETS_FIELD_NUMBER: _ClassVar[int]
    METERS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENT_PRACTICES_LIMIT_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_BYTES_LIMIT_FIELD_NUMBER: _ClassVar[int]
    ama: str
    plan: str
    month: str
    resets: _timestamp_pb2.Timestamp
    meters: _containers.RepeatedCompositeFieldContainer[MeterUsage]
    concurrent_practices_limit: int
    upload_bytes_limit: int
    def __init__(self, ama: _Optional[str] = ..., plan: _Optional[str] = ..., month: _Optional[str] = ..., resets: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., meters: _Optional[_Iterable[_Union[MeterUsage, _Mapping]]] = ..., concurrent_practices_limit: _Optional[int] = ..., upload_bytes_limit: _Optional[int] = ...) -> None: ...
