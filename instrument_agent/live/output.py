"""Where a :class:`~instrument_agent.live.jack.BlockSource`'s audio goes: a JACK client,
the PortAudio default device, or (no device) a silent clock that keeps real time.

The agent's player (:class:`~instrument_agent.agent.player.PlayerHost`) plays through one
:class:`AudioOutput`; ``auto`` picks JACK when a JACK/PipeWire-JACK server runs, then PortAudio,
then the silent clock, and :meth:`AudioOutput.figures` says which, at what rate and period,
with the latency the ports report and the xruns counted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

from instrument_agent.live.backend import BackendError, choose_backend

__all__ = ["AudioOutput", "OutputFigures"]


@dataclass(frozen=True)
class OutputFigures:
    """What the output plays at now (for the UI's Play tab and ``amadeus status``)."""

    backend: str  # "jack", "portaudio", "none" (silent clock) or "stopped"
    sample_rate: int  # Hz
    block_size: int  # frames per period
    latency_frames: int  # what the instrument adds to MIDI -> audio, as reported on JACK's ports (0: none)
    xruns: int  # JACK xruns, PortAudio under/overruns

    def as_dict(self) -> dict:
        return asdict(self)


class AudioOutput:
    """Plays ``source`` through JACK, PortAudio or the silent clock.

    Args:
        source: a BlockSource (``render_block(n, events) -> [n] float32``, ``set_sample_rate``,
            ``latency_frames``); JACK calls ``set_sample_rate`` with the server's rate.
        name: the JACK client name (``Amadeus <deu>``).
        sample_rate, block_size: PortAudio's and the clock's (JACK plays at the server's).
    """

    def __init__(self, source, *, name: str, sample_rate: int, block_size: int):
        self.source = source
        self.name = name
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.backend = "stopped"
        self.status = "stopped"
        self.jack = None  # the JackHost while the backend is jack
        self._stream = None
        self._underruns = 0
        self._clock: threading.Thread | None = None
        self._clock_stop = threading.Event()

    def start(self, requested: str = "auto", *, device: bool = True) -> str:
        """Start ``requested`` (auto/jack/portaudio); falls back to the silent clock with the
        reason when it can't (``device=False``: the clock). Returns the status sentence."""
        if self.backend != "stopped":
            return self.status
        reason = "audio output disabled"
        if device:
            try:
                chosen = choose_backend(requested)
            except BackendError as exc:
                chosen, reason = None, str(exc)
            if chosen == "jack":
                reason = self._start_jack()
            elif chosen == "portaudio":
                reason = self._start_portaudio()
            if self.backend != "stopped":
                return self.status
        self._clock_stop.clear()
        self._clock = threading.Thread(target=self._run_clock, name="amadeus-silent-clock", daemon=True)
        self._clock.start()
        self.backend = "none"
        self.status = f"silent: {reason}; the keyboard and recording still work"
        return self.status

    def _start_jack(self) -> str:
        import jack

        from instrument_agent.live.jack import JackHost

        host = JackHost(self.name, self.source)
        try:
            status = host.start()
        except jack.JackError as exc:
            return f"could not open the JACK client ({exc})"
        self.jack, self.backend = host, "jack"
        self.sample_rate, self.block_size = status.sample_rate, status.block_size
        self.status = f"playing through JACK as '{status.client}': " + status.describe()
        threading.Thread(target=self._watch_jack, args=(host,), name="amadeus-jack-watch", daemon=True).start()
        return ""

    def _watch_jack(self, host) -> None:
        """When the server goes away, close the client and keep time with the silent clock (a
        recording keeps everything; the UI says why)."""
        host.ended.wait()
        if self.jack is not host:
            return  # stopped by us
        reason = host.ended_reason
        host.stop()
        self.jack, self.backend = None, "stopped"
        self.start(device=False)
        self.status = f"silent: {reason}; the keyboard and recording still work"

    def _start_portaudio(self) -> str:
        try:
            import sounddevice

            stream = sounddevice.OutputStream(
                samplerate=self.sample_rate,
                blocksize=self.block_size,
                channels=1,
                dtype="float32",
                latency="low",
                callback=self._callback,
            )
            stream.start()
        except (ImportError, OSError) as exc:
            return f"PortAudio is missing ({exc})"
        except Exception as exc:  # noqa: BLE001 - sounddevice.PortAudioError, ValueError: no device
            return f"no usable audio output device ({exc})"
        self._stream, self.backend = stream, "portaudio"
        self.status = f"playing on the default audio device ({1000 * self.block_size / self.sample_rate:.1f} ms blocks)"
        return ""

    def _callback(self, outdata, frames, time_info=None, status=None) -> None:
        if status:
            self._underruns += 1
        audio = self.source.render_block(frames)
        outdata[:, 0] = np.clip(audio, -1.0, 1.0)
        if outdata.shape[1] > 1:
            outdata[:, 1:] = outdata[:, :1]

    def _run_clock(self) -> None:
        block = max(self.block_size, 1024)  # no listener: bigger blocks, same timing
        period = block / self.sample_rate
        deadline = time.perf_counter()
        while not self._clock_stop.is_set():
            self.source.render_block(block)
            deadline += period
            delay = deadline - time.perf_counter()
            if delay > 0:
                self._clock_stop.wait(delay)
            elif delay < -1.0:  # fell far behind (suspended laptop): don't catch up in a burst
                deadline = time.perf_counter()

    def figures(self) -> OutputFigures:
        if self.jack is not None:
            status = self.jack.status()
            if status.running:
                return OutputFigures("jack", status.sample_rate, status.block_size, status.latency_frames, status.xruns)
        return OutputFigures(self.backend, self.sample_rate, self.block_size, 0, self._underruns)

    def stop(self) -> None:
        """Stop whichever output plays (safe to call twice)."""
        if self.jack is not None:
            self.jack.stop()
            self.jack = None
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self._clock is not None:
            self._clock_stop.set()
            self._clock.join(timeout=2)
            self._clock = None
        self.backend = self.status = "stopped"
