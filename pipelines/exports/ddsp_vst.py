"""``amadeus personalities export DEU --format ddsp-vst``: a ``.tflite`` that Magenta's DDSP-VST plays.

The contract, read from magenta/ddsp-vst (``src/util/Constants.h``, ``ModelLibrary.cpp``,
``PredictControlsModel.cpp``) and magenta/ddsp (``ddsp/training/inference.py``
``VSTStatelessPredictControls``, ``ddsp_export.py``):

* a TFLite flatbuffer the plugin's ``BuiltinOpResolver`` runs (no Flex, no custom ops) with
  exactly three float32 inputs ``call_f0_scaled:0`` [1], ``call_pw_scaled:0`` [1],
  ``call_state:0`` [512] and four outputs ``StatefulPartitionedCall:0..3`` (amplitude [1],
  harmonic distribution [60], noise magnitudes [65], state [512]), scaling inside
  (see :mod:`.vst_graph`);
* 16 kHz audio, hop 320 (50 frames/s): the plugin cannot resample a model's frame rate or
  synthesis rate, so a personality at another rate does not fit;
* a ``metadata.json`` zip entry appended to the flatbuffer (what ``tflite_support``'s
  ``MetadataPopulator`` does for ``ddsp_export``): the plugin reads ``export_time`` (its model
  id, so it is unique per export), ``mean_min/max_pitch_note_hz`` and ``mean_min/max_power_note``.

The plugin calls the file by its name without ``.tflite``; it loads any ``*.tflite`` under
``~/Documents/Magenta/DDSP/Models`` (searched recursively), which is the default destination
(:func:`default_vst_path`).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from instrument_agent.personality.atomic import atomic_write

from .power_map import PowerToLoudness, compute_power, fit_power_map
from .vst_graph import VST_HARMONICS, VST_NOISE_BANDS, VST_STATE, PlayerKnobs

__all__ = [
    "VST_INPUTS",
    "VST_OUTPUTS",
    "VstContractError",
    "VstExport",
    "default_vst_path",
    "export_ddsp_vst",
    "measure_power_map",
    "read_vst_metadata",
    "vst_tflite",
]

VST_SAMPLE_RATE = 16000
VST_FRAME_RATE = 50
VST_INPUTS = {"call_f0_scaled:0": 1, "call_pw_scaled:0": 1, "call_state:0": VST_STATE}
VST_OUTPUTS = {
    "StatefulPartitionedCall:0": 1,
    "StatefulPartitionedCall:1": VST_HARMONICS,
    "StatefulPartitionedCall:2": VST_NOISE_BANDS,
    "StatefulPartitionedCall:3": VST_STATE,
}
_SIGNATURE = "call"
_MAX_FIT_SECONDS = 120  # TFLite names signature inputs "<signature>_<argument>:0"


class VstContractError(ValueError):
    """A personality that DDSP-VST's fixed model contract cannot hold; names the constraint."""


@dataclass(frozen=True)
class VstExport:
    """What :func:`export_ddsp_vst` wrote: ``path``, the embedded ``metadata``, the ``power_map`` and what
    it was ``fitted_on``."""

    path: Path
    metadata: dict
    power_map: PowerToLoudness
    fitted_on: str


def default_vst_path(deu: str, version: int, home: Path | None = None) -> Path:
    """``~/Documents/Magenta/DDSP/Models/Amadeus/<deu>-v<version>.tflite``: where the plugin looks."""
    root = (home or Path.home()) / "Documents" / "Magenta" / "DDSP" / "Models" / "Amadeus"
    return root / f"{deu}-v{version}.tflite"


def check_fits(bundle) -> object:
    """The bundle's resolved learnerProfile, after checking it fits the plugin; raises :class:`VstContractError`."""
    from instrument_agent.profiles import resolve_learner_profile

    learner = resolve_learner_profile(bundle.manifest.learner_profile)
    name = f"{bundle.deu} v{bundle.version}"
    sample_rate = bundle.manifest.sample_rate or learner.sample_rate
    frame_rate = bundle.manifest.frame_rate or learner.frame_rate
    problems = []
    if sample_rate != VST_SAMPLE_RATE:
        problems.append(
            f"sample rate {sample_rate} Hz (the plugin's models run at 16000 Hz; resampling a model is not possible)"
        )
    if frame_rate != VST_FRAME_RATE:
        problems.append(f"frame rate {frame_rate}/s (the plugin steps its model every 320 samples: 50/s)")
    if learner.n_harmonics > VST_HARMONICS:
        problems.append(f"{learner.n_harmonics} harmonics (the plugin synthesises at most 60)")
    if learner.n_noise_bands != VST_NOISE_BANDS:
        problems.append(f"{learner.n_noise_bands} noise bands (the plugin's noise filter has exactly 65)")
    if learner.gru_units > VST_STATE:
        problems.append(f"a GRU of {learner.gru_units} units (the plugin carries a state of 512)")
    if not bundle.has_file("decoder.npz"):
        problems.append("no decoder.npz in the bundle")
    if problems:
        raise VstContractError(f"{name} does not fit DDSP-VST: " + "; ".join(problems))
    return learner


def _dry_engine(bundle):
    """The personality as it learned its instrument: default playerProfile knobs, no reverb."""
    from instrument_agent.engine import Engine
    from instrument_agent.profiles import default_player_profile

    dry = default_player_profile()
    dry.configured = True
    dry.reverb_mix = 0.0
    return Engine.from_bundle(bundle, sample_rate=VST_SAMPLE_RATE, backend="numpy", player_profile=dry)


def _recordings(bundle) -> list[Path]:
    """The practice's own recordings when they are still on this disk (local ``audio_uris``)."""
    try:
        uris = json.loads(bundle.manifest.practice.params.get("audio_uris", "[]"))
    except json.JSONDecodeError:
        return []
    return [Path(uri) for uri in uris if isinstance(uri, str) and "://" not in uri and Path(uri).is_file()]


def _fit_on_recordings(paths: list[Path], f0_method: str) -> PowerToLoudness:
    from instrument_agent.audio import read_mono
    from instrument_agent.dsp import hz_to_midi
    from instrument_agent.features import compute_f0, compute_loudness, fill_unvoiced

    powers, loudness, midi = [], [], []
    for path in paths:
        audio = read_mono(path, VST_SAMPLE_RATE).audio[: _MAX_FIT_SECONDS * VST_SAMPLE_RATE]
        f0 = compute_f0(audio, VST_SAMPLE_RATE, VST_FRAME_RATE, method=f0_method)
        f0 = fill_unvoiced(f0[0] if isinstance(f0, tuple) else f0)
        p, ld = (
            compute_power(audio, VST_SAMPLE_RATE, VST_FRAME_RATE),
            compute_loudness(audio, VST_SAMPLE_RATE, VST_FRAME_RATE),
        )
        n = min(len(f0), len(p), len(ld))
        powers.append(p[:n])
        loudness.append(ld[:n])
        midi.append(hz_to_midi(np.maximum(f0[:n], 1e-3)))
    return fit_power_map(np.concatenate(powers), np.concatenate(loudness), np.concatenate(midi))


def _fit_on_own_output(bundle, segment_s: float = 0.4) -> PowerToLoudness:
    from instrument_agent.dsp import hz_to_midi
    from instrument_agent.features import compute_loudness
    from instrument_agent.render import transfer_timbre

    lo, hi = _pitch_range(bundle)
    frames = int(segment_s * VST_FRAME_RATE)
    pitches = np.geomspace(lo, hi, 9)
    levels = np.linspace(-60.0, 0.0, 9)
    f0 = np.repeat(np.tile(pitches, levels.size), frames)
    ld = np.repeat(np.repeat(levels, pitches.size), frames)
    audio = transfer_timbre(_dry_engine(bundle), f0, ld)[: f0.size * (VST_SAMPLE_RATE // VST_FRAME_RATE)]
    power = compute_power(audio, VST_SAMPLE_RATE, VST_FRAME_RATE)
    loudness = compute_loudness(audio, VST_SAMPLE_RATE, VST_FRAME_RATE)
    middle = (np.arange(f0.size) % frames >= frames // 4) & (np.arange(f0.size) % frames < 3 * frames // 4)
    return fit_power_map(power[middle], loudness[middle], hz_to_midi(f0[middle]))


def measure_power_map(bundle) -> tuple[PowerToLoudness, str]:
    """Fit the power -> loudness map, and say on what.

    On the practice's own recordings when they are still on this disk (both measures per frame of
    the instrument itself, pitch from the learnerProfile's f0 method; at most 2 minutes a file).
    Otherwise on the personality's own dry output: held notes over its practised pitch range
    (9 pitches) × 9 levels from -60 to 0 dB, the middle half of each note. The first is the
    relation the plugin's audio input needs; the second approaches it as the personality learns
    its instrument (measured: docs/export.md).
    """
    from instrument_agent.profiles import resolve_learner_profile

    paths = _recordings(bundle)
    if paths:
        method = resolve_learner_profile(bundle.manifest.learner_profile).f0_method or "pyin"
        try:
            fitted = _fit_on_recordings(paths, method)
        except ValueError:  # unreadable now, or too little sound to fit on: use the personality's own output
            pass
        else:
            return fitted, f"the practice's {len(paths)} recording{'s' if len(paths) > 1 else ''}"
    return _fit_on_own_output(bundle), "the personality's own dry output"


def _pitch_range(bundle) -> tuple[float, float]:
    stats = bundle.manifest.feature_stats
    return (stats.f0_hz_min, stats.f0_hz_max) if 0 < stats.f0_hz_min < stats.f0_hz_max else (55.0, 1760.0)


def vst_tflite(
    weights: dict[str, np.ndarray], n_harmonics: int, power_map: PowerToLoudness, knobs: PlayerKnobs = PlayerKnobs()
) -> bytes:
    """The DDSP-VST ``call`` as a TFLite flatbuffer (builtin ops only)."""
    import tensorflow as tf

    from .vst_graph import vst_call

    holder = vst_call(weights, n_harmonics, power_map, knobs)
    with tempfile.TemporaryDirectory(prefix="amadeus-vst-") as tmp:
        tf.saved_model.save(holder, tmp, signatures={_SIGNATURE: holder.call})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[_SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def _metadata(bundle, power_map: PowerToLoudness, fitted_on: str, learner) -> dict:
    from instrument_agent.dsp import hz_to_midi

    stats = bundle.manifest.feature_stats
    lo, hi = _pitch_range(bundle)
    ld_max = stats.loudness_db_max if stats.loudness_db_max or stats.loudness_db_mean else -20.0
    ld_min = max(-80.0, (stats.loudness_db_mean or -40.0) - 2.0 * (stats.loudness_db_std or 10.0))
    mid = float(hz_to_midi(np.sqrt(lo * hi)))
    grid = np.linspace(-80.0, 0.0, 801)
    mapped = power_map.apply(grid, np.full_like(grid, mid))

    def power_for(loudness: float) -> float:  # the power whose mapped loudness is nearest
        return float(grid[int(np.argmin(np.abs(mapped - loudness)))])

    now = datetime.datetime.now(datetime.UTC)
    return {
        "mean_min_pitch_note": float(hz_to_midi(lo)),
        "mean_max_pitch_note": float(hz_to_midi(hi)),
        "mean_min_pitch_note_hz": float(lo),
        "mean_max_pitch_note_hz": float(hi),
        "mean_min_power_note": power_for(ld_min),
        "mean_max_power_note": power_for(ld_max),
        "version": "amadeus",
        "export_time": now.isoformat(timespec="microseconds") + f"-{bundle.digest[:12]}",
        "num_harmonics": VST_HARMONICS,
        "num_noise_amps": VST_NOISE_BANDS,
        "frame_rate": VST_FRAME_RATE,
        "frame_size": 1024,
        "sample_rate": VST_SAMPLE_RATE,
        "amadeus": {
            "deu": bundle.deu,
            "version": bundle.version,
            "digest": bundle.digest,
            "n_harmonics": learner.n_harmonics,
            "gru_units": learner.gru_units,
            "power_to_loudness": {**power_map.to_dict(), "fitted_on": fitted_on},
        },
    }


def _with_metadata(flatbuffer: bytes, metadata: dict) -> bytes:
    """The flatbuffer with a zip archive holding ``metadata.json`` appended (offsets from the file start)."""
    buffer = io.BytesIO(flatbuffer)
    buffer.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps(metadata, indent=1))
    return buffer.getvalue()


def read_vst_metadata(path: str | Path) -> dict:
    """The ``metadata.json`` embedded in a DDSP-VST ``.tflite`` (as the plugin's ``juce::ZipFile`` reads it)."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("metadata.json"))


def export_ddsp_vst(bundle, out_path: str | Path | None = None) -> VstExport:
    """Write the personality as a DDSP-VST model file.

    Args:
        bundle: a verified personality :class:`~instrument_agent.personality.Bundle`.
        out_path: the ``.tflite`` to write (default :func:`default_vst_path`); written atomically.

    Raises:
        VstContractError: the personality does not fit the plugin (says which constraint).
    """
    from instrument_agent.decoder import NumpyDecoder

    learner = check_fits(bundle)
    out = Path(out_path) if out_path is not None else default_vst_path(bundle.deu, bundle.version)
    if out.suffix != ".tflite":
        raise VstContractError(f"{out}: DDSP-VST loads only files named *.tflite")
    NumpyDecoder(bundle.file("decoder.npz"), learner.n_harmonics)  # validates shapes, names the file
    with np.load(bundle.file("decoder.npz"), allow_pickle=False) as data:
        weights = {key: np.asarray(data[key], np.float32) for key in data.files}
    power_map, fitted_on = measure_power_map(bundle)
    metadata = _metadata(bundle, power_map, fitted_on, learner)
    from instrument_agent.profiles import resolve_player_profile

    knobs = PlayerKnobs.from_profile(resolve_player_profile(bundle.manifest.player_profile))
    # The level calibration measured at evaluation (FeatureStats.level_gain_db) is output gain the
    # engine adds to the playerProfile's: the plugin's output carries it too.
    knobs = dataclasses.replace(knobs, gain_db=knobs.gain_db + float(bundle.manifest.feature_stats.level_gain_db))
    metadata["amadeus"]["player_profile"] = dataclasses.asdict(knobs)
    data = _with_metadata(vst_tflite(weights, learner.n_harmonics, power_map, knobs), metadata)
    atomic_write(out, data)
    return VstExport(out, metadata, power_map, fitted_on)
