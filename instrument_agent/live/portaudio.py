"""Live performance: a virtual MIDI input port in, the default audio device out.

A DAW or controller sends MIDI to the virtual port ``Amadeus <deu>`` (created
with python-rtmidi: ALSA or JACK on Linux, CoreMIDI on macOS). Windows has no
virtual MIDI ports: create one with loopMIDI and pass its name as
``midi_port``. Audio goes to the default output device through sounddevice
(PortAudio).

The MIDI callback only queues messages; the audio callback hands everything
queued so far to the engine at the start of its block and renders the block,
so a MIDI event reaches the audio at the next block boundary. Added latency:
one block (waiting for the next callback) + the output device's own latency;
controller changes (bends, pressure) reach full effect within one more
control frame.
"""

from __future__ import annotations

import queue
import sys
import threading
from dataclasses import dataclass

import mido
import numpy as np

from instrument_agent.engine import MAX_BLOCK, MIN_BLOCK, Engine

__all__ = ["AudioDeviceError", "LatencyReport", "LiveError", "LivePerformance", "MidiBackendError", "port_name"]


class LiveError(RuntimeError):
    """Live performance could not start."""


class AudioDeviceError(LiveError):
    """No audio output: PortAudio missing or no output device."""


class MidiBackendError(LiveError):
    """No MIDI backend, or the virtual/named MIDI port could not be opened."""


_WINDOWS_HELP = (
    "Windows has no virtual MIDI ports: install loopMIDI (https://www.tobias-erichsen.de/software/loopmidi.html), "
    "create a port in it, point your DAW's MIDI output at that port, and run "
    "'amadeus play --deu NAME --live --midi-port \"<the loopMIDI port name>\"'."
)


def port_name(deu: str) -> str:
    """The virtual MIDI port's name for a deu: ``Amadeus <deu>``."""
    return f"Amadeus {deu}"


@dataclass(frozen=True)
class LatencyReport:
    """Latency the agent adds, in seconds."""

    block_s: float
    device_s: float
    control_frame_s: float

    @property
    def note_s(self) -> float:
        """From a note-on to its sound."""
        return self.block_s + self.device_s

    def describe(self) -> str:
        return (
            f"added latency: {1000 * self.note_s:.1f} ms for notes (block {1000 * self.block_s:.1f} ms + "
            f"device {1000 * self.device_s:.1f} ms); pitch bend / pressure / CC reach full effect within "
            f"{1000 * self.control_frame_s:.1f} ms more (one control frame)"
        )


class LivePerformance:
    """Plays ``engine`` from a MIDI input port to an audio output stream.

    Args:
        engine: the engine to play (its sample rate is the stream's).
        deu: names the virtual port (``Amadeus <deu>``).
        block_size: samples per audio callback (32..2048).
        midi_port: open this existing input port instead of a virtual one (Windows: a loopMIDI port).
    """

    def __init__(self, engine: Engine, deu: str, *, block_size: int = 128, midi_port: str | None = None):
        if not MIN_BLOCK <= block_size <= MAX_BLOCK:
            raise LiveError(f"block size {block_size} is out of range [{MIN_BLOCK}, {MAX_BLOCK}]")
        self.engine = engine
        self.deu = deu
        self.block_size = int(block_size)
        self.midi_port = midi_port
        self._queue: queue.SimpleQueue[mido.Message] = queue.SimpleQueue()
        self._midi_in = None
        self._stream = None
        self.overruns = 0
        self.ended = threading.Event()  # set by stop(); the same face as JackPerformance
        self.ended_reason = ""

    # -- the two callbacks (also driven directly by tests) ---------------------
    def on_midi(self, event, data=None) -> None:
        """python-rtmidi callback: ``event`` is ``(bytes, delta_seconds)``; queue the message."""
        raw, _delta = event
        try:
            self._queue.put(mido.Message.from_bytes(raw))
        except (ValueError, IndexError):
            pass  # sysex fragments and malformed bytes are ignored

    def on_audio(self, outdata: np.ndarray, frames: int, time_info=None, status=None) -> None:
        """sounddevice callback: apply queued MIDI at the block start, render ``frames`` samples."""
        if status:
            self.overruns += 1
        while True:
            try:
                self.engine.send(self._queue.get_nowait())
            except queue.Empty:
                break
        audio = self.engine.render(frames)
        outdata[:, 0] = np.clip(audio, -1.0, 1.0)
        if outdata.shape[1] > 1:
            outdata[:, 1:] = outdata[:, :1]

    # -- opening the edges -----------------------------------------------------
    def open_midi(self):
        """Open the virtual port (or ``midi_port``); raises :class:`MidiBackendError`."""
        try:
            import rtmidi
        except ImportError as exc:
            raise MidiBackendError(f"python-rtmidi is not installed ({exc}); pip install 'amadeus[agent]'") from None
        if sys.platform == "win32" and not self.midi_port:
            raise MidiBackendError(_WINDOWS_HELP)
        if not rtmidi.get_compiled_api():
            raise MidiBackendError("python-rtmidi was built without any MIDI backend (ALSA/JACK/CoreMIDI)")
        midi_in = _open_midi_in(rtmidi)
        try:
            if self.midi_port:
                names = midi_in.get_ports()
                matches = [i for i, name in enumerate(names) if self.midi_port in name]
                if not matches:
                    raise MidiBackendError(
                        f"no MIDI input port named {self.midi_port!r} (ports: {', '.join(names) or 'none'})"
                    )
                midi_in.open_port(matches[0])
            else:
                midi_in.open_virtual_port(port_name(self.deu))
        except (rtmidi.InvalidUseError, rtmidi.SystemError, NotImplementedError) as exc:
            midi_in.delete()
            raise MidiBackendError(
                f"could not open the MIDI port: {exc}" + ("; " + _WINDOWS_HELP if sys.platform == "win32" else "")
            ) from None
        midi_in.ignore_types(sysex=True, timing=True, active_sense=True)
        midi_in.set_callback(self.on_midi)
        self._midi_in = midi_in
        return midi_in

    def open_audio(self):
        """Open the default output device; raises :class:`AudioDeviceError`."""
        try:
            import sounddevice
        except ImportError as exc:
            raise AudioDeviceError(f"sounddevice is not installed ({exc}); pip install 'amadeus[agent]'") from None
        except OSError as exc:
            raise AudioDeviceError(
                f"no audio output: the PortAudio library is missing ({exc}); "
                "on Debian/Ubuntu: sudo apt-get install libportaudio2"
            ) from None
        try:
            sounddevice.query_devices(kind="output")
            stream = sounddevice.OutputStream(
                samplerate=self.engine.sample_rate,
                blocksize=self.block_size,
                channels=1,
                dtype="float32",
                latency="low",
                callback=self.on_audio,
            )
        except (sounddevice.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(
                f"no usable audio output device ({exc}); connect one or pick it as the system default"
            ) from None
        self._stream = stream
        return stream

    def latency(self) -> LatencyReport:
        """The latency this performance adds (device part known once audio is open)."""
        device = float(self._stream.latency) if self._stream is not None else 0.0
        return LatencyReport(self.block_size / self.engine.sample_rate, device, 1.0 / self.engine.frame_rate)

    def start(self) -> LatencyReport:
        """Open audio, then MIDI, and start playing; returns the latency report."""
        self.open_audio()
        try:
            self.open_midi()
        except BaseException:
            self._stream.close()
            self._stream = None
            raise
        self._stream.start()
        return self.latency()

    def stop(self) -> None:
        """Stop audio and close the MIDI port."""
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self._midi_in is not None:
            self._midi_in.cancel_callback()
            self._midi_in.close_port()
            self._midi_in.delete()
            self._midi_in = None
        self.ended_reason = self.ended_reason or "stopped"
        self.ended.set()


def _open_midi_in(rtmidi):
    """An ``rtmidi.MidiIn`` on the first MIDI API that starts: the platform's default (ALSA on Linux,
    CoreMIDI, Windows MM), then, on Linux, JACK's (a machine with a JACK server and no ALSA sequencer:
    containers, PipeWire without ``snd-seq``). Raises :class:`MidiBackendError` naming each API's failure."""
    apis = [rtmidi.API_UNSPECIFIED]
    if sys.platform.startswith("linux") and rtmidi.API_UNIX_JACK in rtmidi.get_compiled_api():
        apis.append(rtmidi.API_UNIX_JACK)
    failures = []
    for api in apis:
        try:
            return rtmidi.MidiIn(api)
        except rtmidi.SystemError as exc:
            failures.append(str(exc))
    hint = (
        " (is the ALSA sequencer available? try 'sudo modprobe snd-seq'; or start a JACK server)"
        if sys.platform.startswith("linux")
        else ""
    )
    raise MidiBackendError(f"no MIDI backend could start: {'; '.join(failures)}{hint}")
