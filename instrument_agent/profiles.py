"""learnerProfile and playerProfile: defaults, YAML files, overrides, validation.

Both profiles are protobuf messages (``amadeus.v1.LearnerProfile`` and
``amadeus.v1.PlayerProfile``). proto3 scalars have no presence, so a zero
field means "use the default"; :func:`resolve_learner_profile` and
:func:`resolve_player_profile` return complete copies with every default
filled in, and validate ranges.

YAML files use the proto's field names (snake_case or lowerCamelCase)::

    sample_rate: 16000
    steps: 2000
    fft_sizes: [2048, 1024, 512, 256, 128, 64]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from google.protobuf import json_format

from instrument_agent.proto import personality_pb2

if TYPE_CHECKING:
    from google.protobuf.message import Message

_Profile = TypeVar("_Profile", bound="Message")

__all__ = [
    "ProfileError",
    "default_learner_profile",
    "default_player_profile",
    "learner_profile_from_yaml",
    "merge_profile",
    "profile_to_dict",
    "resolve_learner_profile",
    "resolve_player_profile",
]

LearnerProfile = personality_pb2.LearnerProfile
PlayerProfile = personality_pb2.PlayerProfile


class ProfileError(ValueError):
    """A profile file or override is malformed or out of range."""


# Chosen for quality per CPU-minute (see docs/contracts.md and the training
# throughput benchmark): a DDSP-VST-sized decoder at 50 frames/s.
_LEARNER_DEFAULTS: dict[str, Any] = {
    "sample_rate": 16000,
    "frame_rate": 50,
    "n_harmonics": 60,
    "n_noise_bands": 65,
    "reverb": True,
    "reverb_seconds": 0.5,
    "hidden_size": 256,
    "mlp_layers": 1,
    "gru_units": 256,
    "example_seconds": 4.0,
    "batch_size": 8,
    "learning_rate": 3e-3,
    "steps": 1500,
    "checkpoint_every": 100,
    "fft_sizes": [2048, 1024, 512, 256, 128, 64],
    "mag_weight": 1.0,
    "logmag_weight": 1.0,
    "f0_method": "pyin",
    "seed": 1,
    "must_beat_baselines": False,
    "holdout_fraction": 0.1,
    "device": "auto",
    "prior": "auto",
}

_PLAYER_DEFAULTS: dict[str, Any] = {
    "gain_db": 0.0,
    "harmonic_tilt": 0.0,
    "noise_gain_db": 0.0,
    "reverb_mix": 1.0,
    "transpose": 0.0,
    "loudness_offset_db": 0.0,
    "envelope": {"attack_s": 0.01, "decay_s": 0.1, "sustain": 1.0, "release_s": 0.15},
    "mpe": {
        "pitch_bend_range": 48.0,
        "master_pitch_bend_range": 2.0,
        "pressure_db_range": 24.0,
        "velocity_db_range": 30.0,
        "timbre_range": 6.0,
    },
    "max_voices": 16,
    "configured": True,
}

_LEARNER_RANGES: dict[str, tuple[float, float]] = {
    "sample_rate": (16000, 48000),
    "frame_rate": (10, 1000),
    "n_harmonics": (1, 512),
    "n_noise_bands": (2, 512),
    "reverb_seconds": (0.0, 8.0),
    "hidden_size": (8, 4096),
    "mlp_layers": (1, 8),
    "gru_units": (8, 4096),
    "example_seconds": (0.25, 60.0),
    "batch_size": (1, 1024),
    "learning_rate": (1e-6, 1.0),
    "steps": (1, 10_000_000),
    "checkpoint_every": (1, 10_000_000),
    "holdout_fraction": (0.0, 0.5),
    "preview_every": (-1, 10_000_000),  # 0: the trainer's default; -1: no previews
}


def default_learner_profile() -> personality_pb2.LearnerProfile:
    """The complete default learnerProfile (a new message each call)."""
    return json_format.ParseDict(_LEARNER_DEFAULTS, LearnerProfile())


def default_player_profile() -> personality_pb2.PlayerProfile:
    """The complete default playerProfile (a new message each call)."""
    return json_format.ParseDict(_PLAYER_DEFAULTS, PlayerProfile())


def profile_to_dict(profile: Message) -> dict[str, Any]:
    """A profile as a plain dict with snake_case keys (for YAML, MLflow params, logs)."""
    return json_format.MessageToDict(
        profile, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def merge_profile(base: _Profile, overrides: Mapping[str, Any] | None, *, source: str = "overrides") -> _Profile:
    """Return a copy of ``base`` with ``overrides`` (field name → value) applied.

    Nested messages merge field by field; repeated fields are replaced.
    ``None`` values are ignored (handy for unset CLI flags). Raises
    :class:`ProfileError` naming ``source`` on an unknown field or bad type.
    """
    merged = type(base)()
    merged.CopyFrom(base)
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not clean:
        return merged
    for key in clean:
        field = merged.DESCRIPTOR.fields_by_name.get(key) or merged.DESCRIPTOR.fields_by_camelcase_name.get(key)
        if field is None:
            known = ", ".join(sorted(merged.DESCRIPTOR.fields_by_name))
            raise ProfileError(f"{source}: unknown {base.DESCRIPTOR.name} field {key!r} (known: {known})")
        if field.is_repeated:
            merged.ClearField(field.name)
    try:
        json_format.ParseDict(clean, merged)
    except json_format.ParseError as exc:
        raise ProfileError(f"{source}: {exc}") from None
    return merged


def learner_profile_from_yaml(path: str | Path) -> personality_pb2.LearnerProfile:
    """Read a learnerProfile YAML file (a partial profile; defaults fill the rest)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read learnerProfile file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, Mapping):
        raise ProfileError(f"{path}: a learnerProfile file must be a mapping of field: value")
    return resolve_learner_profile(merge_profile(LearnerProfile(), data, source=str(path)))


def resolve_learner_profile(profile: personality_pb2.LearnerProfile | None = None) -> personality_pb2.LearnerProfile:
    """Fill every unset (zero) field of ``profile`` with its default and validate.

    Raises :class:`ProfileError` for a value out of range (for example a
    sample rate outside 16000..48000 Hz, or a frame rate that does not divide
    the sample rate).
    """
    resolved = default_learner_profile()
    if profile is not None:
        for field, value in profile.ListFields():
            if field.is_repeated:
                resolved.ClearField(field.name)
                getattr(resolved, field.name).extend(value)
            else:
                setattr(resolved, field.name, value)
    for name, (low, high) in _LEARNER_RANGES.items():
        value = getattr(resolved, name)
        if not low <= value <= high:
            raise ProfileError(f"learnerProfile.{name}={value} is out of range [{low}, {high}]")
    if resolved.sample_rate % resolved.frame_rate:
        raise ProfileError(
            f"learnerProfile.frame_rate={resolved.frame_rate} must divide "
            f"sample_rate={resolved.sample_rate} (whole samples per control frame)"
        )
    if resolved.f0_method not in ("pyin", "yin"):
        raise ProfileError(f"learnerProfile.f0_method={resolved.f0_method!r}: expected 'pyin' or 'yin'")
    if resolved.device not in ("auto", "cpu", "gpu"):
        raise ProfileError(f"learnerProfile.device={resolved.device!r}: expected 'auto', 'cpu' or 'gpu'")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", resolved.prior):
        raise ProfileError(f"learnerProfile.prior={resolved.prior!r}: expected 'auto', 'none' or a prior's name")
    if any(n < 16 or n & (n - 1) for n in resolved.fft_sizes):
        raise ProfileError(f"learnerProfile.fft_sizes={list(resolved.fft_sizes)}: each must be a power of two >= 16")
    return resolved


def resolve_player_profile(profile: personality_pb2.PlayerProfile | None = None) -> personality_pb2.PlayerProfile:
    """Return a complete playerProfile: ``profile`` itself when it is configured
    (``configured=True``), the defaults otherwise; validates ranges."""
    if profile is not None and profile.configured:
        resolved = PlayerProfile()
        resolved.CopyFrom(profile)
    else:
        resolved = default_player_profile()
    if not 0.0 <= resolved.reverb_mix <= 1.0:
        raise ProfileError(f"playerProfile.reverb_mix={resolved.reverb_mix} must be within [0, 1]")
    if not 1 <= resolved.max_voices <= 128:
        raise ProfileError(f"playerProfile.max_voices={resolved.max_voices} must be within [1, 128]")
    if not 0.0 <= resolved.envelope.sustain <= 1.0:
        raise ProfileError(f"playerProfile.envelope.sustain={resolved.envelope.sustain} must be within [0, 1]")
    if min(resolved.envelope.attack_s, resolved.envelope.decay_s, resolved.envelope.release_s) < 0:
        raise ProfileError("playerProfile.envelope times must be >= 0 s")
    if resolved.mpe.pitch_bend_range <= 0 or resolved.mpe.master_pitch_bend_range <= 0:
        raise ProfileError("playerProfile.mpe pitch bend ranges must be > 0 semitones")
    return resolved
