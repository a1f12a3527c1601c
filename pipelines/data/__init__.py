"""Data preparation for practice: audio loading, silence trimming, resampling,
features with a cache, and example cutting with a time-based held-out split.

numpy/soundfile/soxr only at import; librosa loads when f0 is computed.
"""

from .audio import SILENCE_DB, LoadedAudio, load_audio, resample, trim_silence
from .cache import FEATURES_VERSION, FeatureCache, FrameFeatures, compute_features, default_cache_dir
from .errors import AudioReadError, AudioTooShortError, DataError, NoVoicedFramesError, SilentAudioError
from .examples import VOICED_CONFIDENCE, Examples, feature_stats, split_examples
from .prepare import (
    MIN_VOICED_FRACTION,
    check_voiced,
    example_frames,
    file_sha256,
    load_for_practice,
    recording_features,
)

__all__ = [
    "FEATURES_VERSION",
    "MIN_VOICED_FRACTION",
    "SILENCE_DB",
    "VOICED_CONFIDENCE",
    "AudioReadError",
    "AudioTooShortError",
    "DataError",
    "Examples",
    "FeatureCache",
    "FrameFeatures",
    "LoadedAudio",
    "NoVoicedFramesError",
    "SilentAudioError",
    "check_voiced",
    "compute_features",
    "default_cache_dir",
    "example_frames",
    "feature_stats",
    "file_sha256",
    "load_audio",
    "load_for_practice",
    "recording_features",
    "resample",
    "split_examples",
    "trim_silence",
]
