"""``amadeus play --live`` through JACK: an engine as a :class:`~instrument_agent.live.jack.BlockSource`.

The PortAudio path is :class:`~instrument_agent.live.portaudio.LivePerformance`;
:func:`open_performance` picks between the two (see :mod:`.backend`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import mido
import numpy as np

from instrument_agent.engine import Engine
from instrument_agent.live.backend import choose_backend
from instrument_agent.live.portaudio import LiveError, LivePerformance, port_name

__all__ = ["NOTE_LATENCY_FRAMES", "EngineSource", "JackPerformance", "open_performance"]

# The engine starts a note (and moves a bend) at its event's own sample: with the event
# queued at its frame the MIDI → audio path adds nothing (tests/instrument_agent/live:
# onsets land on the event's frame through a real JACK server).
NOTE_LATENCY_FRAMES = 0


class EngineSource:
    """Plays one engine, rebuilt by ``make_engine(sample_rate)`` when the server's rate changes."""

    latency_frames = NOTE_LATENCY_FRAMES

    def __init__(self, make_engine: Callable[[int], Engine]):
        self.make_engine = make_engine
        self.engine: Engine | None = None
        self._lock = threading.Lock()

    def set_sample_rate(self, sample_rate: int) -> None:
        if self.engine is not None and self.engine.sample_rate == sample_rate:
            return
        engine = self.make_engine(int(sample_rate))  # built off the process thread
        with self._lock:
            self.engine = engine

    def render_block(self, n: int, events: Sequence[tuple[int, mido.Message]] = ()) -> np.ndarray:
        """[n] float32; each event acts at ``engine.time + offset``."""
        with self._lock:
            engine = self.engine
            for offset, msg in events:
                engine.send(msg, at=engine.time + offset)
            return engine.render(n)


class JackPerformance:
    """Live play through JACK with the same face as :class:`LivePerformance` (start/stop/overruns)."""

    def __init__(self, make_engine: Callable[[int], Engine], deu: str, *, midi_port: str | None = None):
        from instrument_agent.live.jack import JackHost

        self.source = EngineSource(make_engine)
        self.host = JackHost(port_name(deu), self.source)
        self.midi_port = midi_port

    @property
    def ended(self) -> threading.Event:
        return self.host.ended

    @property
    def ended_reason(self) -> str:
        return self.host.ended_reason

    @property
    def overruns(self) -> int:
        return self.host.xruns

    def start(self):
        import jack

        try:
            self.host.start()
        except jack.JackError as exc:
            raise LiveError(f"could not open the JACK client: {exc}") from None
        if self.midi_port:
            try:
                self.host.connect_midi(self.midi_port)
            except LookupError as exc:
                self.host.stop()
                raise LiveError(str(exc)) from None
        return self.host.status()

    def stop(self) -> None:
        self.host.stop()


def open_performance(
    backend: str,
    make_engine: Callable[[int], Engine],
    deu: str,
    *,
    sample_rate: int = 48000,
    block_size: int = 256,
    midi_port: str | None = None,
) -> tuple[str, JackPerformance | LivePerformance]:
    """(chosen backend, a performance to ``start()``) for ``backend`` = auto/jack/portaudio.

    JACK plays at the server's rate and period (``sample_rate``/``block_size`` are PortAudio's).
    """
    chosen = choose_backend(backend)
    if chosen == "jack":
        return chosen, JackPerformance(make_engine, deu, midi_port=midi_port)
    return chosen, LivePerformance(make_engine(sample_rate), deu, block_size=block_size, midi_port=midi_port)


def play_live(
    bundle,
    say: Callable[[str], None],
    *,
    sample_rate: int = 48000,
    block_size: int = 256,
    midi_port: str | None = None,
    decoder: str = "auto",
    backend: str = "auto",
) -> int:
    """``amadeus play --live``: play ``bundle`` until Ctrl-C or the server goes away; returns the exit code.

    ``say`` prints a (rich-markup) line; 2: could not start, 1: the JACK server went away.
    """
    import time

    from instrument_agent.coverage_map import CoverageWatch, bundle_coverage

    coverage = bundle_coverage(bundle)
    watches: list[CoverageWatch] = []  # one watch, made with the first engine's mapping (transpose, velocity → dB)

    def make_engine(rate: int) -> Engine:
        engine = Engine.from_bundle(bundle, sample_rate=rate, backend=decoder)
        if not watches:
            watches.append(CoverageWatch(coverage, engine.mapping))
        engine.observers.append(lambda msg, at: watches[0].observe(msg, at / rate))
        return engine

    try:
        chosen, performance = open_performance(
            backend, make_engine, bundle.deu, sample_rate=sample_rate, block_size=block_size, midi_port=midi_port
        )
        report = performance.start()
    except LiveError as exc:  # carries the full explanation (no device, no MIDI backend, no JACK, Windows)
        say(f"[red]error:[/red] {exc}")
        return 2
    if chosen == "jack":
        say(
            f"[green]playing[/green] {bundle.deu} v{bundle.version} through JACK: connect your DAW's MIDI output to "
            f"'{report.midi_port}' and '{report.audio_ports[0]}', '{report.audio_ports[1]}' to its inputs"
        )
    else:
        say(
            f"[green]playing[/green] {bundle.deu} v{bundle.version} from MIDI port "
            f"'{midi_port or port_name(bundle.deu)}' at {sample_rate} Hz"
        )
    say(report.describe())
    said = 0
    try:
        while not performance.ended.is_set():
            time.sleep(0.2)  # a plain sleep: Ctrl-C interrupts it at once
            warnings = watches[0].warnings if watches else []
            for warning in warnings[said:]:  # outside the practice: once per phrase and kind
                say(f"[yellow]warning:[/yellow] {warning.message} (phrase {warning.phrase})")
            said = len(warnings)
    except KeyboardInterrupt:
        pass
    gone = performance.ended.is_set()
    performance.stop()
    if gone:
        say(f"[yellow]{performance.ended_reason}[/yellow]: stopped cleanly")
    say(f"stopped ({performance.overruns} audio under/overruns)")
    return 1 if gone else 0
