import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StudioRegistration(_message.Message):
    __slots__ = ("name", "address", "tls", "token", "root_certificate_path")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TLS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ROOT_CERTIFICATE_PATH_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    tls: bool
    token: str
    root_certificate_path: str
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., tls: _Optional[bool] = ..., token: _Optional[str] = ..., root_certificate_path: _Optional[str] = ...) -> None: ...

class CurrentPersonality(_message.Message):
    __slots__ = ("deu", "version", "digest", "studio", "synced")
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    STUDIO_FIELD_NUMBER: _ClassVar[int]
    SYNCED_FIELD_NUMBER: _ClassVar[int]
    deu: str
    version: int
    digest: str
    studio: str
    synced: _timestamp_pb2.Timestamp
    def __init__(self, deu: _Optional[str] = ..., version: _Optional[int] = ..., digest: _Optional[str] = ..., studio: _Optional[str] = ..., synced: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InstrumentSettings(_message.Message):
    __slots__ = ("sample_rate", "block_size", "audio_device", "midi_port_name", "sync_interval_s", "ui_port")
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    BLOCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_DEVICE_FIELD_NUMBER: _ClassVar[int]
    MIDI_PORT_NAME_FIELD_NUMBER: _ClassVar[int]
    SYNC_INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    UI_PORT_FIELD_NUMBER: _ClassVar[int]
    sample_rate: int
    block_size: int
    audio_device: str
    midi_port_name: str
    sync_interval_s: int
    ui_port: int
    def __init__(self, sample_rate: _Optional[int] = ..., block_size: _Optional[int] = ..., audio_device: _Optional[str] = ..., midi_port_name: _Optional[str] = ..., sync_interval_s: _Optional[int] = ..., ui_port: _Optional[int] = ...) -> None: ...

class InstrumentState(_message.Message):
    __slots__ = ("schema_version", "studios", "selected_studio", "data_path", "current", "selected_deu", "settings")
    class CurrentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: CurrentPersonality
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[CurrentPersonality, _Mapping]] = ...) -> None: ...
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    STUDIOS_FIELD_NUMBER: _ClassVar[int]
    SELECTED_STUDIO_FIELD_NUMBER: _ClassVar[int]
    DATA_PATH_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    SELECTED_DEU_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    studios: _containers.RepeatedCompositeFieldContainer[StudioRegistration]
    selected_studio: str
    data_path: str
    current: _containers.MessageMap[str, CurrentPersonality]
    selected_deu: str
    settings: InstrumentSettings
    def __init__(self, schema_version: _Optional[int] = ..., studios: _Optional[_Iterable[_Union[StudioRegistration, _Mapping]]] = ..., selected_studio: _Optional[str] = ..., data_path: _Optional[str] = ..., current: _Optional[_Mapping[str, CurrentPersonality]] = ..., selected_deu: _Optional[str] = ..., settings: _Optional[_Union[InstrumentSettings, _Mapping]] = ...) -> None: ...
