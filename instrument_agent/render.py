"""Offline performance: a MIDI file, or a monophonic recording (timbre transfer), to a WAV file.

Both run the streaming :class:`~instrument_agent.engine.Engine` block by block
(so offline and live sound the same), show a rich progress bar, and write the
WAV atomically (temporary file + rename): an interrupted or failed render
never leaves a half-written or replaced output file.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from instrument_agent.dsp import hz_to_midi
from instrument_agent.engine import MIN_BLOCK, Engine
from instrument_agent.midi import MidiPerformance, NoteRangeError, read_midi

__all__ = [
    "OFFLINE_BLOCK",
    "AudioInputError",
    "RenderResult",
    "auto_adjust",
    "check_note_range",
    "coverage_warnings",
    "render_midi",
    "render_midi_file",
    "transfer_timbre",
    "transfer_timbre_file",
    "write_wav",
]

_TAIL_LIMIT_S = 5.0
OFFLINE_BLOCK = 8192  # samples per engine call offline: measured 3.5x faster than 256, 8 % faster than 2048


class AudioInputError(ValueError):
    """An input recording is missing, unreadable, empty or silent; ``path`` names it."""

    def __init__(self, path: str | Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = str(path)


@dataclass(frozen=True)
class RenderResult:
    """What a render produced: the file, its length (s), the compute time (s), the peak level and the
    coverage warnings (:class:`~instrument_agent.coverage_map.CoverageWarning`: notes outside the practice)."""

    path: Path
    seconds: float
    compute_seconds: float
    peak: float
    warnings: tuple = field(default=())

    @property
    def realtime_factor(self) -> float:
        """Seconds of audio per second of compute."""
        return self.seconds / max(self.compute_seconds, 1e-9)


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write mono float audio ([n]) as a 32-bit float WAV, atomically (temp file + rename)."""
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        soundfile.write(str(tmp), np.asarray(audio, dtype=np.float32), int(sample_rate), subtype="FLOAT", format="WAV")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def check_note_range(performance: MidiPerformance, engine: Engine) -> None:
    """Raise :class:`NoteRangeError` for a note whose fundamental (transpose applied,
    bends not) is at or above the personality's Nyquist: it would play no harmonic."""
    limit = engine.model_sample_rate / 2.0
    for when, msg in performance.events:
        if msg.type == "note_on" and msg.velocity > 0:
            f0 = float(engine.mapping.f0_hz(msg.note))
            if f0 >= limit:
                raise NoteRangeError(performance.path, msg.note, when, f0, limit)


def coverage_warnings(performance: MidiPerformance, engine: Engine, bundle) -> list:
    """The performance's notes checked against ``bundle``'s coverage map, phrase by phrase
    (:class:`~instrument_agent.coverage_map.CoverageWatch`): one warning per phrase and kind, naming
    every outside note. Empty for a personality without a map."""
    from instrument_agent.coverage_map import CoverageWatch, bundle_coverage

    watch = CoverageWatch(bundle_coverage(bundle), engine.mapping)
    for when, msg in performance.events:
        watch.observe(msg, when)
    return list(watch.warnings)


def _drive(engine: Engine, total: int, block_size: int, progress: Callable[[int], None] | None) -> np.ndarray:
    out = np.empty(total, dtype=np.float32)
    for start in range(0, total, block_size):
        n = min(block_size, total - start)
        out[start : start + n] = engine.render(n)
        if progress is not None:
            progress(n)
    return out


def _progress_bar(show: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        transient=True,
        disable=not show,
    )


def render_midi(
    engine: Engine,
    performance: MidiPerformance,
    *,
    block_size: int = OFFLINE_BLOCK,
    tail: bool = True,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Render a MIDI performance through ``engine`` (from its current state).

    Args:
        engine: a fresh engine (its time 0 is the file's time 0).
        performance: from :func:`~instrument_agent.midi.read_midi`.
        block_size: samples per engine call (the result does not depend on it; larger is
            faster: the engine renders the control frames between two events at once).
        tail: keep rendering after the last event until releases and reverb die away (≤ 5 s).
        progress: called with the number of samples rendered after each block.

    Returns:
        [n] float32 audio at ``engine.sample_rate``.
    """
    if not MIN_BLOCK <= block_size <= 1 << 16:
        raise ValueError(f"block size {block_size} is out of range [{MIN_BLOCK}, {1 << 16}]")
    check_note_range(performance, engine)
    sr = engine.sample_rate
    for when, msg in performance.events:
        engine.send(msg, at=int(round(when * sr)))
    body = int(np.ceil(performance.duration_s * sr)) + 1
    out = _drive(engine, body, block_size, progress)
    if tail:
        extra = min(engine.tail_samples(), int(_TAIL_LIMIT_S * sr))
        out = np.concatenate([out, _drive(engine, extra, block_size, progress)])
    return out


def render_midi_file(
    bundle,
    midi_path: str | Path,
    out_path: str | Path,
    *,
    sample_rate: int = 48000,
    block_size: int = OFFLINE_BLOCK,
    backend: str = "auto",
    player_profile=None,
    show_progress: bool = True,
) -> RenderResult:
    """Render a MIDI file with a personality bundle to a WAV file (progress bar on stderr).

    Raises MidiFileError, NoteRangeError, DecoderError, EngineConfigError; the
    output file is untouched on any error or interrupt.
    """
    performance = read_midi(midi_path)
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate, backend=backend, player_profile=player_profile)
    check_note_range(performance, engine)
    warnings = coverage_warnings(performance, engine, bundle)
    started = time.perf_counter()
    tail_guess = engine.release_samples + engine.tail_samples()
    estimate = (
        int(np.ceil(performance.duration_s * sample_rate)) + 1 + int(min(tail_guess, _TAIL_LIMIT_S * sample_rate))
    )
    with _progress_bar(show_progress) as bar:
        task = bar.add_task(f"{bundle.deu} v{bundle.version} ▸ {Path(out_path).name}", total=estimate)
        audio = render_midi(engine, performance, block_size=block_size, progress=lambda n: bar.advance(task, n))
        bar.update(task, completed=estimate)
    elapsed = time.perf_counter() - started
    write_wav(out_path, audio, sample_rate)
    peak = float(np.abs(audio).max(initial=0.0))
    return RenderResult(Path(out_path), audio.size / sample_rate, elapsed, peak, tuple(warnings))


# -- timbre transfer ---------------------------------------------------------
def _fill_unvoiced(f0_hz: np.ndarray) -> np.ndarray:
    """Unvoiced frames (f0 <= 0 or NaN) take the nearest voiced pitch, so harmonics never glide to 0 Hz."""
    f0 = np.asarray(f0_hz, dtype=np.float64).copy()
    voiced = np.isfinite(f0) & (f0 > 0)
    if not voiced.any():
        return np.full_like(f0, 0.0)
    idx = np.arange(f0.size)
    return np.interp(idx, idx[voiced], f0[voiced])


def transfer_timbre(
    engine: Engine,
    f0_hz: np.ndarray,
    loudness_db: np.ndarray,
    *,
    octave_shift: float = 0.0,
    loudness_shift_db: float = 0.0,
    block_size: int = OFFLINE_BLOCK,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Play f0/loudness curves (one per control frame, at ``engine.frame_rate``) through the personality.

    The adjustments DDSP-VST offers: ``octave_shift`` multiplies f0 by 2^shift;
    ``loudness_shift_db`` is added to the loudness. Returns [n] float32 audio.
    """
    f0 = _fill_unvoiced(f0_hz) * 2.0 ** float(octave_shift)
    ld = np.clip(np.asarray(loudness_db, dtype=np.float64) + loudness_shift_db, -120.0, 0.0)
    engine.play_curves(f0, ld, at=0)
    total = int(np.ceil(f0.size * engine.sample_rate / engine.frame_rate))
    out = _drive(engine, total, block_size, progress)
    extra = min(engine.tail_samples(), int(_TAIL_LIMIT_S * engine.sample_rate))
    return np.concatenate([out, _drive(engine, extra, block_size, progress)])


def auto_adjust(f0_hz: np.ndarray, loudness_db: np.ndarray, feature_stats) -> tuple[float, float]:
    """DDSP-VST style automatic adjustment: the octave shift that brings the
    recording's mean pitch closest to the training data's, and the loudness
    shift that matches their mean loudness (voiced frames). ``(octaves, dB)``."""
    f0 = np.asarray(f0_hz, dtype=np.float64)
    voiced = np.isfinite(f0) & (f0 > 0)
    if not voiced.any():
        return 0.0, 0.0
    octaves = 0.0
    if feature_stats.f0_midi_mean:
        mean_midi = float(np.mean(hz_to_midi(f0[voiced])))
        octaves = float(np.round((feature_stats.f0_midi_mean - mean_midi) / 12.0))
    shift_db = 0.0
    if feature_stats.loudness_db_mean:
        shift_db = float(feature_stats.loudness_db_mean - np.mean(np.asarray(loudness_db)[voiced]))
    return octaves, shift_db


def _extract_features(
    audio: np.ndarray, sample_rate: int, frame_rate: int, f0_method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0 [T] Hz, loudness [T] dB, f0 confidence [T] 0..1) at ``frame_rate``."""
    from instrument_agent import features

    f0 = features.compute_f0(audio, sample_rate, frame_rate, method=f0_method)
    f0, confidence = f0 if isinstance(f0, tuple) else (f0, np.ones_like(f0))
    loudness = features.compute_loudness(audio, sample_rate, frame_rate)
    n = min(len(f0), len(loudness))
    return (
        np.asarray(f0, dtype=np.float64)[:n],
        np.asarray(loudness, dtype=np.float64)[:n],
        np.asarray(confidence, dtype=np.float64)[:n],
    )


def transfer_timbre_file(
    bundle,
    audio_path: str | Path,
    out_path: str | Path,
    *,
    sample_rate: int | None = None,
    octave_shift: float = 0.0,
    loudness_shift_db: float = 0.0,
    auto: bool = False,
    block_size: int = OFFLINE_BLOCK,
    backend: str = "auto",
    player_profile=None,
    show_progress: bool = True,
) -> RenderResult:
    """Timbre transfer from a recording to a WAV file: extract f0 and loudness
    (``instrument_agent.features``, at the personality's rate and frame rate),
    adjust (``auto`` adds :func:`auto_adjust`'s shifts to the given ones), play.

    ``sample_rate`` defaults to the recording's rate (clipped to 16..48 kHz).
    Raises :class:`AudioInputError` for an unreadable, empty or silent recording.
    """
    from instrument_agent.audio import AudioFileError, read_mono, resample

    audio_path = Path(audio_path)
    try:
        recording = read_mono(audio_path)
    except AudioFileError as exc:
        raise AudioInputError(audio_path, exc.problem) from None
    audio, file_rate = recording.audio, recording.sample_rate
    if audio.size < file_rate // 10:
        raise AudioInputError(audio_path, "recording is shorter than 0.1 s")
    engine = Engine.from_bundle(
        bundle,
        sample_rate=int(np.clip(sample_rate or file_rate, 16000, 48000)),
        backend=backend,
        player_profile=player_profile,
    )
    model_rate = engine.model_sample_rate
    if file_rate != model_rate:
        audio = resample(audio, file_rate, model_rate)
    from instrument_agent.profiles import resolve_learner_profile

    method = resolve_learner_profile(bundle.manifest.learner_profile).f0_method
    f0, loudness, confidence = _extract_features(audio.astype(np.float32), model_rate, engine.frame_rate, method)
    if not np.any(np.isfinite(f0) & (f0 > 0)):
        raise AudioInputError(audio_path, "no pitched sound found (is it a monophonic recording?)")
    if auto:
        octaves, shift = auto_adjust(f0, loudness, bundle.manifest.feature_stats)
        octave_shift += octaves
        loudness_shift_db += shift
    from instrument_agent.coverage_map import CoverageWatch, bundle_coverage

    watch = CoverageWatch(bundle_coverage(bundle))  # the curves as played: shifted, before the playerProfile
    from instrument_agent.coverage_map import VOICED_CONFIDENCE

    shifted = np.where(confidence >= VOICED_CONFIDENCE, f0 * 2.0 ** float(octave_shift), 0.0)
    watch.observe_curves(shifted, np.clip(loudness + loudness_shift_db, -120.0, 0.0), engine.frame_rate)
    started = time.perf_counter()
    total = int(np.ceil(f0.size * engine.sample_rate / engine.frame_rate))
    with _progress_bar(show_progress) as bar:
        task = bar.add_task(f"{bundle.deu} v{bundle.version} ◂ {audio_path.name}", total=total)
        out = transfer_timbre(
            engine,
            f0,
            loudness,
            octave_shift=octave_shift,
            loudness_shift_db=loudness_shift_db,
            block_size=block_size,
            progress=lambda n: bar.advance(task, n),
        )
    elapsed = time.perf_counter() - started
    write_wav(out_path, out, engine.sample_rate)
    peak = float(np.abs(out).max(initial=0.0))
    return RenderResult(Path(out_path), out.size / engine.sample_rate, elapsed, peak, tuple(watch.warnings))
