"""Performing in the studio: engine sessions for the Perform stream and whole-file renders.

The in-process path runs the agent's streaming :class:`~instrument_agent.engine.Engine`
(the same code a laptop runs). Rendering happens in worker threads, block by
block, and stops as soon as the call is cancelled (client gone, deadline passed).
"""

from __future__ import annotations

import io
import tempfile
import threading
from pathlib import Path

import numpy as np

from instrument_agent.engine import MAX_BLOCK, MIN_BLOCK, Engine, EngineConfigError
from instrument_agent.midi import MidiFileError, read_midi
from instrument_agent.profiles import resolve_player_profile
from instrument_agent.proto import studio_pb2
from studio_operator.server.backends.embedded.runner import merge_overrides
from studio_operator.server.errors import InvalidRequestError

__all__ = ["Cancelled", "PerformSession", "encode_audio", "make_engine", "parse_midi_bytes", "render_file"]

DEFAULT_SAMPLE_RATE = 48000
DEFAULT_BLOCK = 128
MAX_BLOCKS_PER_MESSAGE = 4096
_TAIL_LIMIT_S = 5.0


class Cancelled(Exception):
    """The call ended while rendering (client gone or deadline passed)."""


def make_engine(bundle, sample_rate: int, player_profile, seed: int = 0) -> Engine:
    """An engine for ``bundle``; ``player_profile`` (when set) is merged over the bundle's."""
    sample_rate = sample_rate or DEFAULT_SAMPLE_RATE
    profile = resolve_player_profile(bundle.manifest.player_profile)
    if player_profile is not None and player_profile.ListFields():
        profile = resolve_player_profile(merge_overrides(profile, player_profile))
    try:
        return Engine.from_bundle(bundle, sample_rate=sample_rate, player_profile=profile, seed=seed)
    except EngineConfigError as exc:
        raise InvalidRequestError(f"sample_rate: {exc}") from None


def parse_midi_bytes(data: bytes):
    """A :class:`~instrument_agent.midi.MidiPerformance` from Standard MIDI File bytes (INVALID_ARGUMENT otherwise)."""
    if not data:
        raise InvalidRequestError("midi: empty; send the bytes of a Standard MIDI File")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "request.mid"
        path.write_bytes(data)
        try:
            return read_midi(path)
        except MidiFileError as exc:
            problem = str(exc).removeprefix(f"{path}: ")
            raise InvalidRequestError(f"midi: {problem}") from None


def encode_audio(audio: np.ndarray, sample_rate: int, fmt: int) -> bytes:
    """[n] float32 audio as a 32-bit float WAV file or bare little-endian float32."""
    audio = np.asarray(audio, dtype="<f4")
    if fmt == studio_pb2.RAW_FLOAT32:
        return audio.tobytes()
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, audio, int(sample_rate), subtype="FLOAT", format="WAV")
    return buffer.getvalue()


def render_file(engine: Engine, performance, cancelled: threading.Event, block_size: int = 1024) -> np.ndarray:
    """Render a whole MIDI performance (with its tail) through ``engine``; [n] float32.

    Raises :class:`Cancelled` at the next block once ``cancelled`` is set.
    """
    from instrument_agent.render import render_midi

    def check(_n: int) -> None:
        if cancelled.is_set():
            raise Cancelled()

    try:
        return render_midi(engine, performance, block_size=block_size, progress=check)
    except ValueError as exc:
        if isinstance(exc, Cancelled):
            raise
        raise InvalidRequestError(f"midi: {exc}") from None


def _parse_event(i: int, event: studio_pb2.MidiEvent):
    import mido

    if event.sample < 0:
        raise InvalidRequestError(f"play.events[{i}].sample: {event.sample} must be >= 0")
    if not event.data or event.data[0] == 0xF0:
        raise InvalidRequestError(f"play.events[{i}].data: a channel MIDI message is required (no sysex)")
    try:
        return mido.Message.from_bytes(list(event.data))
    except (ValueError, TypeError, IndexError) as exc:
        raise InvalidRequestError(f"play.events[{i}].data {event.data.hex()}: not a MIDI message ({exc})") from None


class PerformSession:
    """One Perform stream: queue timed MIDI events, render fixed-size blocks."""

    def __init__(self, engine: Engine, block_size: int):
        block_size = block_size or DEFAULT_BLOCK
        if not MIN_BLOCK <= block_size <= MAX_BLOCK:
            raise InvalidRequestError(f"block_size: {block_size} is out of range [{MIN_BLOCK}, {MAX_BLOCK}]")
        self.engine = engine
        self.block_size = block_size
        self.cancelled = threading.Event()

    def queue(self, events) -> None:
        messages = [(_parse_event(i, e), e.sample) for i, e in enumerate(events)]
        for message, sample in messages:
            self.engine.send(message, at=sample)

    def render(self, blocks: int) -> list[studio_pb2.AudioBlock]:
        if not 0 <= blocks <= MAX_BLOCKS_PER_MESSAGE:
            raise InvalidRequestError(f"play.blocks: {blocks} is out of range [0, {MAX_BLOCKS_PER_MESSAGE}]")
        out = []
        for _ in range(blocks):
            if self.cancelled.is_set():
                raise Cancelled()
            start = self.engine.time
            audio = self.engine.render(self.block_size)
            out.append(
                studio_pb2.AudioBlock(
                    start_sample=start,
                    samples=audio.astype("<f4").tobytes(),
                    active_voices=self.engine.active_voices,
                )
            )
        return out

    def tail(self) -> list[studio_pb2.AudioBlock]:
        """Blocks until releases and reverb die away (at most 5 s), the last one marked ``last``."""
        n = min(self.engine.tail_samples(), int(_TAIL_LIMIT_S * self.engine.sample_rate))
        blocks = self.render(max(1, -(-n // self.block_size)))
        blocks[-1].last = True
        return blocks
