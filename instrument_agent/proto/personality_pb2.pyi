import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LearnerProfile(_message.Message):
    __slots__ = ("sample_rate", "frame_rate", "n_harmonics", "n_noise_bands", "reverb", "reverb_seconds", "hidden_size", "mlp_layers", "gru_units", "example_seconds", "batch_size", "learning_rate", "steps", "checkpoint_every", "fft_sizes", "mag_weight", "logmag_weight", "f0_method", "seed", "max_eval_loss", "must_beat_baselines", "holdout_fraction", "device", "max_train_seconds", "preview_every", "prior")
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    N_HARMONICS_FIELD_NUMBER: _ClassVar[int]
    N_NOISE_BANDS_FIELD_NUMBER: _ClassVar[int]
    REVERB_FIELD_NUMBER: _ClassVar[int]
    REVERB_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MLP_LAYERS_FIELD_NUMBER: _ClassVar[int]
    GRU_UNITS_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_EVERY_FIELD_NUMBER: _ClassVar[int]
    FFT_SIZES_FIELD_NUMBER: _ClassVar[int]
    MAG_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    LOGMAG_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    F0_METHOD_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MAX_EVAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    MUST_BEAT_BASELINES_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FRACTION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    MAX_TRAIN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_EVERY_FIELD_NUMBER: _ClassVar[int]
    PRIOR_FIELD_NUMBER: _ClassVar[int]
    sample_rate: int
    frame_rate: int
    n_harmonics: int
    n_noise_bands: int
    reverb: bool
    reverb_seconds: float
    hidden_size: int
    mlp_layers: int
    gru_units: int
    example_seconds: float
    batch_size: int
    learning_rate: float
    steps: int
    checkpoint_every: int
    fft_sizes: _containers.RepeatedScalarFieldContainer[int]
    mag_weight: float
    logmag_weight: float
    f0_method: str
    seed: int
    max_eval_loss: float
    must_beat_baselines: bool
    holdout_fraction: float
    device: str
    max_train_seconds: float
    preview_every: int
    prior: str
    def __init__(self, sample_rate: _Optional[int] = ..., frame_rate: _Optional[int] = ..., n_harmonics: _Optional[int] = ..., n_noise_bands: _Optional[int] = ..., reverb: _Optional[bool] = ..., reverb_seconds: _Optional[float] = ..., hidden_size: _Optional[int] = ..., mlp_layers: _Optional[int] = ..., gru_units: _Optional[int] = ..., example_seconds: _Optional[float] = ..., batch_size: _Optional[int] = ..., learning_rate: _Optional[float] = ..., steps: _Optional[int] = ..., checkpoint_every: _Optional[int] = ..., fft_sizes: _Optional[_Iterable[int]] = ..., mag_weight: _Optional[float] = ..., logmag_weight: _Optional[float] = ..., f0_method: _Optional[str] = ..., seed: _Optional[int] = ..., max_eval_loss: _Optional[float] = ..., must_beat_baselines: _Optional[bool] = ..., holdout_fraction: _Optional[float] = ..., device: _Optional[str] = ..., max_train_seconds: _Optional[float] = ..., preview_every: _Optional[int] = ..., prior: _Optional[str] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("attack_s", "decay_s", "sustain", "release_s")
    ATTACK_S_FIELD_NUMBER: _ClassVar[int]
    DECAY_S_FIELD_NUMBER: _ClassVar[int]
    SUSTAIN_FIELD_NUMBER: _ClassVar[int]
    RELEASE_S_FIELD_NUMBER: _ClassVar[int]
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    def __init__(self, attack_s: _Optional[float] = ..., decay_s: _Optional[float] = ..., sustain: _Optional[float] = ..., release_s: _Optional[float] = ...) -> None: ...

class MpeSettings(_message.Message):
    __slots__ = ("pitch_bend_range", "master_pitch_bend_range", "pressure_db_range", "velocity_db_range", "timbre_range")
    PITCH_BEND_RANGE_FIELD_NUMBER: _ClassVar[int]
    MASTER_PITCH_BEND_RANGE_FIELD_NUMBER: _ClassVar[int]
    PRESSURE_DB_RANGE_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_DB_RANGE_FIELD_NUMBER: _ClassVar[int]
    TIMBRE_RANGE_FIELD_NUMBER: _ClassVar[int]
    pitch_bend_range: float
    master_pitch_bend_range: float
    pressure_db_range: float
    velocity_db_range: float
    timbre_range: float
    def __init__(self, pitch_bend_range: _Optional[float] = ..., master_pitch_bend_range: _Optional[float] = ..., pressure_db_range: _Optional[float] = ..., velocity_db_range: _Optional[float] = ..., timbre_range: _Optional[float] = ...) -> None: ...

class PlayerProfile(_message.Message):
    __slots__ = ("gain_db", "harmonic_tilt", "noise_gain_db", "reverb_mix", "transpose", "loudness_offset_db", "envelope", "mpe", "max_voices", "configured")
    GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    HARMONIC_TILT_FIELD_NUMBER: _ClassVar[int]
    NOISE_GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    REVERB_MIX_FIELD_NUMBER: _ClassVar[int]
    TRANSPOSE_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_OFFSET_DB_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    MPE_FIELD_NUMBER: _ClassVar[int]
    MAX_VOICES_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    gain_db: float
    harmonic_tilt: float
    noise_gain_db: float
    reverb_mix: float
    transpose: float
    loudness_offset_db: float
    envelope: Envelope
    mpe: MpeSettings
    max_voices: int
    configured: bool
    def __init__(self, gain_db: _Optional[float] = ..., harmonic_tilt: _Optional[float] = ..., noise_gain_db: _Optional[float] = ..., reverb_mix: _Optional[float] = ..., transpose: _Optional[float] = ..., loudness_offset_db: _Optional[float] = ..., envelope: _Optional[_Union[Envelope, _Mapping]] = ..., mpe: _Optional[_Union[MpeSettings, _Mapping]] = ..., max_voices: _Optional[int] = ..., configured: _Optional[bool] = ...) -> None: ...

class FileEntry(_message.Message):
    __slots__ = ("path", "sha256", "size")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    path: str
    sha256: str
    size: int
    def __init__(self, path: _Optional[str] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class FeatureStats(_message.Message):
    __slots__ = ("f0_hz_min", "f0_hz_max", "f0_midi_mean", "f0_midi_std", "loudness_db_mean", "loudness_db_std", "loudness_db_max", "voiced_fraction", "loudness_db_typical", "level_gain_db")
    F0_HZ_MIN_FIELD_NUMBER: _ClassVar[int]
    F0_HZ_MAX_FIELD_NUMBER: _ClassVar[int]
    F0_MIDI_MEAN_FIELD_NUMBER: _ClassVar[int]
    F0_MIDI_STD_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_DB_MEAN_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_DB_STD_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_DB_MAX_FIELD_NUMBER: _ClassVar[int]
    VOICED_FRACTION_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_DB_TYPICAL_FIELD_NUMBER: _ClassVar[int]
    LEVEL_GAIN_DB_FIELD_NUMBER: _ClassVar[int]
    f0_hz_min: float
    f0_hz_max: float
    f0_midi_mean: float
    f0_midi_std: float
    loudness_db_mean: float
    loudness_db_std: float
    loudness_db_max: float
    voiced_fraction: float
    loudness_db_typical: float
    level_gain_db: float
    def __init__(self, f0_hz_min: _Optional[float] = ..., f0_hz_max: _Optional[float] = ..., f0_midi_mean: _Optional[float] = ..., f0_midi_std: _Optional[float] = ..., loudness_db_mean: _Optional[float] = ..., loudness_db_std: _Optional[float] = ..., loudness_db_max: _Optional[float] = ..., voiced_fraction: _Optional[float] = ..., loudness_db_typical: _Optional[float] = ..., level_gain_db: _Optional[float] = ...) -> None: ...

class PracticeRecord(_message.Message):
    __slots__ = ("kind", "practice_id", "started", "finished", "data_digests", "params", "runner")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[PracticeRecord.Kind]
        IMITATION: _ClassVar[PracticeRecord.Kind]
        TUNING: _ClassVar[PracticeRecord.Kind]
        FEEDBACK: _ClassVar[PracticeRecord.Kind]
    KIND_UNSPECIFIED: PracticeRecord.Kind
    IMITATION: PracticeRecord.Kind
    TUNING: PracticeRecord.Kind
    FEEDBACK: PracticeRecord.Kind
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    DATA_DIGESTS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    kind: PracticeRecord.Kind
    practice_id: str
    started: _timestamp_pb2.Timestamp
    finished: _timestamp_pb2.Timestamp
    data_digests: _containers.RepeatedScalarFieldContainer[str]
    params: _containers.ScalarMap[str, str]
    runner: str
    def __init__(self, kind: _Optional[_Union[PracticeRecord.Kind, str]] = ..., practice_id: _Optional[str] = ..., started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data_digests: _Optional[_Iterable[str]] = ..., params: _Optional[_Mapping[str, str]] = ..., runner: _Optional[str] = ...) -> None: ...

class Coverage(_message.Message):
    __slots__ = ("pitch_low", "pitch_step", "pitch_bins", "loudness_low_db", "loudness_step_db", "loudness_bins", "seconds", "total_seconds")
    PITCH_LOW_FIELD_NUMBER: _ClassVar[int]
    PITCH_STEP_FIELD_NUMBER: _ClassVar[int]
    PITCH_BINS_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_LOW_DB_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_STEP_DB_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_BINS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    pitch_low: float
    pitch_step: float
    pitch_bins: int
    loudness_low_db: float
    loudness_step_db: float
    loudness_bins: int
    seconds: _containers.RepeatedScalarFieldContainer[float]
    total_seconds: float
    def __init__(self, pitch_low: _Optional[float] = ..., pitch_step: _Optional[float] = ..., pitch_bins: _Optional[int] = ..., loudness_low_db: _Optional[float] = ..., loudness_step_db: _Optional[float] = ..., loudness_bins: _Optional[int] = ..., seconds: _Optional[_Iterable[float]] = ..., total_seconds: _Optional[float] = ...) -> None: ...

class PersonalityManifest(_message.Message):
    __slots__ = ("schema_version", "deu", "version", "parent_version", "parent_digest", "practice", "learner_profile", "player_profile", "feature_stats", "metrics", "files", "created", "sample_rate", "frame_rate", "coverage", "prior_name", "prior_digest")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEU_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PARENT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    PRACTICE_FIELD_NUMBER: _ClassVar[int]
    LEARNER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    PLAYER_PROFILE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_STATS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    PRIOR_NAME_FIELD_NUMBER: _ClassVar[int]
    PRIOR_DIGEST_FIELD_NUMBER: _ClassVar[int]
    schema_version: int
    deu: str
    version: int
    parent_version: int
    parent_digest: str
    practice: PracticeRecord
    learner_profile: LearnerProfile
    player_profile: PlayerProfile
    feature_stats: FeatureStats
    metrics: _containers.ScalarMap[str, float]
    files: _containers.RepeatedCompositeFieldContainer[FileEntry]
    created: _timestamp_pb2.Timestamp
    sample_rate: int
    frame_rate: int
    coverage: Coverage
    prior_name: str
    prior_digest: str
    def __init__(self, schema_version: _Optional[int] = ..., deu: _Optional[str] = ..., version: _Optional[int] = ..., parent_version: _Optional[int] = ..., parent_digest: _Optional[str] = ..., practice: _Optional[_Union[PracticeRecord, _Mapping]] = ..., learner_profile: _Optional[_Union[LearnerProfile, _Mapping]] = ..., player_profile: _Optional[_Union[PlayerProfile, _Mapping]] = ..., feature_stats: _Optional[_Union[FeatureStats, _Mapping]] = ..., metrics: _Optional[_Mapping[str, float]] = ..., files: _Optional[_Iterable[_Union[FileEntry, _Mapping]]] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sample_rate: _Optional[int] = ..., frame_rate: _Optional[int] = ..., coverage: _Optional[_Union[Coverage, _Mapping]] = ..., prior_name: _Optional[str] = ..., prior_digest: _Optional[str] = ...) -> None: ...
