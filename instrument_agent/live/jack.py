"""Live play through JACK (or PipeWire's JACK API): one client ``Amadeus <deu>`` with a
MIDI input port and stereo audio outputs, for pairing with a DAW.

**Sample-accurate MIDI.** The process callback reads the period's MIDI events with
their frame offsets and hands them to the :class:`BlockSource` with the period; an
engine queues each at ``engine.time + offset`` (its absolute sample), so a note
starts at the frame the DAW sent it, not at the next period.

**Latency.** Note-ons and pitch bends act at their own sample, so the instrument adds
``source.latency_frames`` (0 for the engine) to the MIDI → audio path; the latency
callback reports it on the ports (outputs' capture latency = MIDI input's + ours; MIDI
input's playback latency = the outputs' + ours), so a DAW compensates exactly what
is there. Pressure and CC reach the decoder within one control frame
(``Engine.latency_samples``): a smoothing of controller moves, not a delay to compensate.

**Server changes.** The client renders at the server's sample rate (the source is told
before activation and on every change) and whatever period JACK asks for; xruns are
counted; when the server goes away :attr:`JackHost.ended` is set with the reason,
and the owner decides what to do (the agent's player falls back to its silent clock,
so an ongoing recording keeps everything).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import jack
import mido
import numpy as np

from instrument_agent.live.latency import CAPTURE, PLAYBACK, LatencyApi

__all__ = ["BlockSource", "JackHost", "JackStatus", "TimedMessage"]

TimedMessage = tuple[int, mido.Message]  # (frame offset inside the period, message)


class BlockSource(Protocol):
    """What a :class:`JackHost` plays: renders periods with their timed MIDI."""

    latency_frames: int

    def render_block(self, n: int, events: Sequence[TimedMessage] = ()) -> np.ndarray:
        """[n] float32 audio; ``events`` act at their frame offsets (sorted, 0 <= offset < n)."""

    def set_sample_rate(self, sample_rate: int) -> None:
        """Render at ``sample_rate`` Hz from now on (called off the process thread)."""


@dataclass(frozen=True)
class JackStatus:
    """What the JACK client looks like now (for the CLI and the UI)."""

    client: str
    sample_rate: int
    block_size: int
    latency_frames: int  # what the instrument adds, reported on its ports
    playback_frames: tuple[int, int]  # our outputs' playback latency range (to the speakers)
    xruns: int
    midi_port: str
    audio_ports: tuple[str, ...]
    running: bool
    ended_reason: str

    def describe(self) -> str:
        ms = 1000.0 / self.sample_rate
        lo, hi = self.playback_frames
        return (
            f"JACK client '{self.client}' at {self.sample_rate} Hz, {self.block_size}-frame periods "
            f"({self.block_size * ms:.1f} ms); notes sound at their own frame: {self.latency_frames} frames added "
            f"(reported on the ports), {hi * ms:.1f} ms more to the speakers"
            + ("" if lo == hi else f" (min {lo * ms:.1f} ms)")
        )


def _quiet(_msg: str) -> None:
    """libjack's own error lines ("Cannot connect to server socket") are replaced by ours."""


class JackHost:
    """One JACK client playing ``source``.

    Args:
        name: the client name (``Amadeus <deu>``; JACK makes it unique if taken).
        source: renders the periods (:class:`BlockSource`).
        server: JACK server name (default: ``$JACK_DEFAULT_SERVER`` or ``default``).
    """

    def __init__(self, name: str, source: BlockSource, *, server: str | None = None):
        self.name = name
        self.source = source
        self.server = server
        self.xruns = 0
        self.errors = 0  # exceptions in the process callback (the period was silenced)
        self.last_error = ""
        self.ended = threading.Event()
        self.first_frame: int | None = None  # JACK frame time of the source's sample 0
        self.missed_frames = 0  # frames of periods JACK skipped for us (xruns); the source was kept in step
        self.cycle_frame = 0  # JACK frame time of the period being played (last_frame_time)
        self.periods_played: deque[int] = deque(maxlen=1 << 14)  # JACK frame of each period played, latest last
        self._next_frame: int | None = None
        # CPU time of each period's render (thread time: preemption excluded; skipped periods' catch-up not counted)
        self.busy_s: deque[float] = deque(maxlen=1 << 14)
        self.periods = 0
        self.ended_reason = ""
        self._client: jack.Client | None = None
        self._latency = LatencyApi()
        self._block_size = 0
        self._sample_rate = 0
        self._port_names: tuple[str, tuple[str, ...]] = ("", ())

    # -- life cycle ----------------------------------------------------------
    def start(self) -> JackStatus:
        """Open the client, register the ports, activate. Raises :class:`jack.JackOpenError` without a server."""
        jack.set_error_function(_quiet)
        try:
            client = jack.Client(self.name, no_start_server=True, servername=self.server)
        finally:
            jack.set_error_function(None)
        self._client = self._jack = client  # _jack: for the process thread, also while stop() closes
        self._midi_in = client.midi_inports.register("midi_in")
        self._outs = [client.outports.register(side) for side in ("out_L", "out_R")]
        self._port_names = (self._midi_in.name, tuple(port.name for port in self._outs))
        self._sample_rate, self._block_size = client.samplerate, client.blocksize
        self.source.set_sample_rate(client.samplerate)
        client.set_process_callback(self._process)
        client.set_xrun_callback(self._xrun)
        client.set_shutdown_callback(self._shutdown)
        client.set_samplerate_callback(self._samplerate)
        client.set_blocksize_callback(self._blocksize)
        self._latency.set_callback(client, self._report_latency)
        client.activate()
        return self.status()

    def stop(self) -> None:
        """Deactivate (while the server runs) and close the client; safe to call twice.

        The client is closed even after the server went away: libjack still holds its
        shared memory and threads, and leaving them to ``jack.Client.__del__`` at garbage
        collection crashed the process (SIGSEGV) once another server had started
        (tests/instrument_agent/live/test_jack.py::test_server_going_away_leaves_the_process_healthy).
        """
        client, self._client = self._client, None
        if client is None:
            return
        if not self.ended.is_set():
            try:
                client.deactivate()
            except jack.JackError:
                pass
        self.ended_reason = self.ended_reason or "stopped"
        self.ended.set()
        client.close()  # jack_client_close: ignores a dead server's errors
        self._jack = None

    # -- JACK callbacks --------------------------------------------------------
    def _process(self, frames: int) -> None:
        now = self._jack.last_frame_time
        if self.first_frame is None:
            self.first_frame = now
        elif now != self._next_frame and 0 < now - self._next_frame <= self._sample_rate:
            # JACK skipped periods for us (an xrun): render them unheard so the source's sample
            # clock stays on JACK's and later events still land on their frames.
            gap = now - self._next_frame
            self.missed_frames += gap
            try:
                self.source.render_block(gap, ())
            except Exception:  # noqa: BLE001 - reported by the period's own render below
                pass
        self._next_frame = now + frames
        self.cycle_frame = now
        self.periods_played.append(now)
        events = []
        for offset, data in self._midi_in.incoming_midi_events():
            try:
                events.append((int(offset), mido.Message.from_bytes(bytes(data))))
            except (ValueError, IndexError):
                pass  # sysex and malformed bytes are ignored
        left, right = (port.get_array() for port in self._outs)
        busy = time.thread_time()
        try:
            audio = self.source.render_block(frames, events)
            np.clip(audio, -1.0, 1.0, out=left)
        except Exception as exc:  # noqa: BLE001 - a failing period is silence, never a dead client
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            left.fill(0.0)
        right[:] = left
        self.periods += 1
        self.busy_s.append(time.thread_time() - busy)

    def _xrun(self, _delayed_usecs: float) -> None:
        self.xruns += 1

    def _shutdown(self, _status: jack.Status, reason: str) -> None:
        # Called from a JACK thread with the client already dead: only record it.
        self.ended_reason = f"the JACK server went away ({reason or 'no reason given'})"
        self.ended.set()

    def _samplerate(self, sample_rate: int) -> None:
        if sample_rate != self._sample_rate:
            self.source.set_sample_rate(sample_rate)
            self._sample_rate = sample_rate

    def _blocksize(self, block_size: int) -> None:
        self._block_size = block_size

    def _report_latency(self, mode: int) -> None:
        own = int(self.source.latency_frames)
        if mode == CAPTURE:
            lo, hi = self._latency.get(self._midi_in, CAPTURE)
            for port in self._outs:
                self._latency.set(port, CAPTURE, lo + own, hi + own)
        else:
            ranges = [self._latency.get(port, PLAYBACK) for port in self._outs]
            lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
            self._latency.set(self._midi_in, PLAYBACK, lo + own, hi + own)

    # -- ports ---------------------------------------------------------------
    @property
    def client(self) -> jack.Client | None:
        return self._client

    @property
    def midi_port(self) -> str:
        """Our MIDI input's full name (``Amadeus <deu>:midi_in``)."""
        return self._port_names[0]

    @property
    def audio_ports(self) -> tuple[str, ...]:
        """Our audio outputs' full names (left, right)."""
        return self._port_names[1]

    def midi_sources(self) -> list[str]:
        """JACK MIDI output ports another client offers (a DAW's track output, a controller)."""
        if self._client is None or self.ended.is_set():
            return []
        own = self._client.name + ":"
        return [p.name for p in self._client.get_ports(is_midi=True, is_output=True) if not p.name.startswith(own)]

    def connect_midi(self, name: str) -> str:
        """Connect the MIDI output port whose name contains ``name`` to our input; returns its full name."""
        matches = [port for port in self.midi_sources() if name in port]
        if not matches:
            raise LookupError(
                f"no JACK MIDI output port named {name!r} (ports: {', '.join(self.midi_sources()) or 'none'})"
            )
        for current in self._midi_in.connections:
            if current.name != matches[0]:
                self._client.disconnect(current, self._midi_in)
        if not self._midi_in.is_connected_to(matches[0]):
            self._client.connect(matches[0], self._midi_in)
        return matches[0]

    def disconnect_midi(self) -> None:
        """Disconnect every MIDI output from our input (a DAW connects to it again itself)."""
        if self._client is None or self.ended.is_set():
            return
        for current in self._midi_in.connections:
            self._client.disconnect(current, self._midi_in)

    def status(self) -> JackStatus:
        running = self._client is not None and not self.ended.is_set()
        playback = (0, 0)
        if running:
            ranges = [self._latency.get(port, PLAYBACK) for port in self._outs]
            playback = (min(r[0] for r in ranges), max(r[1] for r in ranges))
        return JackStatus(
            client=self._client.name if self._client is not None else self.name,
            sample_rate=self._sample_rate,
            block_size=self._block_size,
            latency_frames=int(self.source.latency_frames),
            playback_frames=playback,
            xruns=self.xruns,
            midi_port=self.midi_port,
            audio_ports=self.audio_ports,
            running=running,
            ended_reason=self.ended_reason,
        )
