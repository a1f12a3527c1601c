"""The agent's player: hosts the performance engine behind the virtual MIDI port
and the audio output, hot-swaps personalities without a dropout, records to WAV.

Audio is made block by block by :meth:`PlayerHost.render_block`, called by the
player's :class:`~instrument_agent.live.output.AudioOutput`: a JACK client
``Amadeus <deu>`` when a JACK/PipeWire-JACK server runs (MIDI from its port applied at
each event's frame), else the sound card (PortAudio), else a silent clock thread that
keeps real time so the on-screen keyboard and recording still work.

**Hot swap.** :meth:`PlayerHost.load` builds the new personality's engine off
the audio thread, replays into it what is being held (notes, pitch bends,
controllers, pressure) and hands it to the audio thread, which then renders
both engines for ``crossfade_s`` and crossfades from old to new (equal power by default):
the sound never stops and no sample jumps. A running practice's preview (the
personality-in-training, :mod:`instrument_agent.personality.preview`) swaps in the same way.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

from instrument_agent.agent.swap import HeldState, crossfade_gains
from instrument_agent.engine import Engine

__all__ = ["CROSSFADE_CURVES", "PlayerError", "PlayerHost", "Playing"]


class PlayerError(RuntimeError):
    """The player can't do what was asked (no personality loaded, not recording…)."""


@dataclass(frozen=True)
class Playing:
    """The personality the player plays: a version, or a running practice's preview
    (``preview_step`` > 0: the personality-in-training at that step, not a version)."""

    deu: str
    version: int
    digest: str
    preview_step: int = 0
    preview_generation: int = 0
    practice_id: str = ""

    @property
    def label(self) -> str:
        """``"preview step N"`` or ``"version N"`` (what the Play tab shows)."""
        return f"preview step {self.preview_step}" if self.preview_step else f"version {self.version}"


CROSSFADE_CURVES = ("equal_power", "linear")


class PlayerHost:
    """Plays the current personality from MIDI (virtual port, chosen input, on-screen keys).

    Args:
        sample_rate: output Hz (16000..48000).
        block_size: samples per audio block (32..2048).
        backend: decoder runtime (``auto``, ``numpy``, ``tflite``).
        crossfade_s: length of the old→new crossfade on a hot swap, seconds.
        crossfade_curve: ``"equal_power"`` (cos/sin: the two personalities' voices are not in
            phase, so their powers add) or ``"linear"``.
        warm_s: at most this long (s; as long as the oldest held note has sounded) the incoming
            engine plays the held notes off the audio thread before the crossfade, so its voices
            (their envelopes, the decoder's recurrent state) sound as held ones do, not as new
            notes starting: measured, a random decoder's note needs about 1 s to reach its level.
    """

    latency_frames = 0  # events act at their own frame (the engine's): nothing for a DAW to compensate

    def __init__(
        self,
        *,
        sample_rate: int = 48000,
        block_size: int = 128,
        backend: str = "auto",
        crossfade_s: float = 0.05,
        crossfade_curve: str = "equal_power",
        warm_s: float = 1.0,
    ):
        from instrument_agent.live.output import AudioOutput

        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.backend = backend
        self.crossfade_s = crossfade_s
        self.crossfade = max(1, int(crossfade_s * sample_rate))
        self.warm_s = warm_s
        if crossfade_curve not in CROSSFADE_CURVES:
            raise PlayerError(f"crossfade curve {crossfade_curve!r}: choose one of {', '.join(CROSSFADE_CURVES)}")
        self.crossfade_curve = crossfade_curve
        self._engine: Engine | None = None
        self._incoming: Engine | None = None
        self._fading: tuple[Engine, int] | None = None  # (old engine, samples faded so far)
        self._queue: queue.SimpleQueue[mido.Message] = queue.SimpleQueue()
        self._held = HeldState()
        self._arrived: list[mido.Message] | None = None
        self._loading = threading.Lock()
        self._lock = threading.Lock()  # guards engine hand-over and recording
        self._recording: list[np.ndarray] | None = None
        self._bundle = None
        self.coverage = None  # the CoverageWatch of what plays (instrument_agent.coverage_map)
        self.playing: Playing | None = None
        self.swaps = 0
        self.time = 0  # samples rendered
        self.midi_status = "closed"
        self.midi_input: str | None = None
        self._midi_in = None
        self.output = AudioOutput(self, name="Amadeus agent", sample_rate=self.sample_rate, block_size=self.block_size)

    # -- the personality ---------------------------------------------------
    def load(self, bundle, *, preview=None, practice_id: str = "") -> Playing:
        """Play ``bundle`` (a verified :class:`~instrument_agent.personality.Bundle`) from now on.

        The engine is built here (the caller's thread); the audio thread then crossfades
        to it over ``crossfade_s`` with every held note carried over. Raises the engine's
        errors (DecoderError, EngineConfigError) with the current personality still playing.
        ``preview``: the bundle is that :class:`~instrument_agent.personality.PreviewInfo` of
        practice ``practice_id`` (the personality-in-training), shown as "preview step N".
        """
        with self._loading:  # one load at a time (a preview follower and the sync may both load)
            return self._load(bundle, preview, practice_id)

    def _load(self, bundle, preview, practice_id: str) -> Playing:
        from instrument_agent.coverage_map import CoverageWatch, bundle_coverage

        engine = Engine.from_bundle(bundle, sample_rate=self.sample_rate, backend=self.backend)
        watch = CoverageWatch(bundle_coverage(bundle), engine.mapping)
        self._bundle = bundle
        with self._lock:
            replay, held = self._held.replay(), self._held.held_samples(self.time)
            self._arrived = []  # MIDI the audio thread applies while the new engine warms up
        for msg in replay:
            engine.send(msg)
        warm = min(held, int(self.warm_s * self.sample_rate)) if self._engine is not None else 0
        for _ in range(0, warm, self.block_size):  # off the audio thread: its voices reach their held sound
            engine.render(self.block_size)
        with self._lock:
            self.coverage = watch
            for msg in self._arrived or ():  # a note released (or a bend moved) meanwhile: the new engine hears it
                engine.send(msg)
            self._arrived = None
            if self._engine is None:
                self._engine = engine
            else:
                self._incoming = engine
            self.playing = Playing(
                bundle.deu,
                bundle.version,
                bundle.digest,
                preview_step=preview.step if preview is not None else 0,
                preview_generation=preview.generation if preview is not None else 0,
                practice_id=practice_id if preview is not None else "",
            )
        return self.playing

    def set_sample_rate(self, sample_rate: int) -> None:
        """Play at ``sample_rate`` from now on (a JACK server's): the personality is rebuilt at it."""
        if int(sample_rate) == self.sample_rate:
            return
        self.sample_rate = int(sample_rate)
        self.crossfade = max(1, int(self.crossfade_s * self.sample_rate))
        if self._bundle is not None:
            engine = Engine.from_bundle(self._bundle, sample_rate=self.sample_rate, backend=self.backend)
            with self._lock:
                for msg in self._held.replay():
                    engine.send(msg)
                self._engine, self._incoming, self._fading = engine, None, None

    @property
    def swapping(self) -> bool:
        return self._incoming is not None or self._fading is not None

    # -- MIDI in -----------------------------------------------------------
    def send(self, msg: mido.Message) -> None:
        """Queue a MIDI message; it sounds at the start of the next block (thread-safe)."""
        self._queue.put(msg)

    def note(self, note: int, velocity: int = 100, *, on: bool = True, channel: int = 0) -> None:
        """On-screen keyboard: a note on (or off)."""
        if not 0 <= int(note) <= 127 or not 0 <= int(velocity) <= 127:
            raise PlayerError(f"note {note} / velocity {velocity} out of the MIDI range 0..127")
        kind = "note_on" if on else "note_off"
        self.send(mido.Message(kind, channel=channel, note=int(note), velocity=int(velocity) if on else 0))

    def _on_rtmidi(self, event, data=None) -> None:
        raw, _delta = event
        try:
            self._queue.put(mido.Message.from_bytes(raw))
        except (ValueError, IndexError):
            pass

    # -- audio -------------------------------------------------------------
    def render_block(self, n: int, events=()) -> np.ndarray:
        """Apply the queued MIDI, then ``events`` ((frame offset, message), sorted, from JACK) at
        their frames, and render ``n`` samples ([n] float32, silence when nothing is loaded)."""
        with self._lock:
            if self._incoming is not None:
                self._fading = (self._engine, 0)
                self._engine, self._incoming = self._incoming, None
                self.swaps += 1
            engine, fading = self._engine, self._fading
            watch, now_s = self.coverage, self.time / self.sample_rate
            while True:
                try:
                    msg = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._held.track(msg, self.time)
                if watch is not None:  # notes outside the practice: a warning once per phrase and kind
                    watch.observe(msg, now_s)
                if self._arrived is not None:
                    self._arrived.append(msg)
                if engine is not None:
                    engine.send(msg)
                if fading is not None:
                    fading[0].send(msg)
            for offset, msg in events:
                self._held.track(msg, self.time + offset)
                if watch is not None:
                    watch.observe(msg, (self.time + offset) / self.sample_rate)
                if self._arrived is not None:
                    self._arrived.append(msg)
                for target in (engine, fading[0] if fading is not None else None):
                    if target is not None:
                        target.send(msg, at=target.time + offset)
            if engine is None:
                out = np.zeros(n, dtype=np.float32)
            else:
                out = engine.render(n)
                if fading is not None:
                    old, done = fading
                    ramp = np.clip((done + np.arange(1, n + 1)) / self.crossfade, 0.0, 1.0)
                    gain_new, gain_old = crossfade_gains(ramp, self.crossfade_curve)
                    out = gain_new * out + gain_old * old.render(n)
                    done += n
                    self._fading = None if done >= self.crossfade else (old, done)
            if self._recording is not None:
                self._recording.append(out.copy())
            self.time += n
        return out

    def start_audio(self, *, device: bool = True, backend: str = "auto", name: str | None = None) -> str:
        """Start the audio output: ``backend`` auto (JACK when a server runs, else the sound card),
        jack or portaudio; without a usable one (or ``device=False``) the silent real-time clock.
        ``name``: the JACK client (default ``Amadeus <deu>`` of what plays). Returns the status sentence."""
        if self.output.backend == "stopped":
            self.output.name = name or f"Amadeus {self.playing.deu if self.playing else 'agent'}"
        return self.output.start(backend, device=device)

    @property
    def audio_status(self) -> str:
        return self.output.status

    def stop(self) -> None:
        """Stop audio and close MIDI input."""
        self.close_midi()
        self.output.stop()

    # -- MIDI input ports ----------------------------------------------------
    def midi_inputs(self) -> list[str]:
        """MIDI inputs to choose from: with JACK, the JACK MIDI outputs of other clients (a DAW's
        track, a controller); else this machine's MIDI input ports (empty without a MIDI backend)."""
        if self.output.jack is not None:
            return self.output.jack.midi_sources()
        try:
            import rtmidi

            midi_in = rtmidi.MidiIn()
        except Exception:  # noqa: BLE001 - no backend (e.g. no ALSA sequencer): no ports
            return []
        try:
            return list(midi_in.get_ports())
        finally:
            midi_in.delete()

    def open_midi(self, name: str | None = None, *, virtual_name: str | None = None) -> str:
        """Listen to MIDI input ``name``, or (None) the port a DAW connects to: with JACK our client's
        ``midi_in`` (``name`` is a JACK MIDI output, connected to it), else the virtual port
        ``virtual_name`` (``Amadeus <deu>``). Returns the status sentence; raises
        :class:`~instrument_agent.live.portaudio.MidiBackendError` with the reason and a remedy."""
        from instrument_agent.live.portaudio import LivePerformance, MidiBackendError

        self.close_midi()
        host = self.output.jack
        if host is not None:
            if name:
                try:
                    name = host.connect_midi(name)
                except LookupError as exc:
                    self.midi_status = f"no MIDI input: {exc}"
                    raise MidiBackendError(str(exc)) from None
            else:
                host.disconnect_midi()
            self.midi_input = name or host.midi_port
            self.midi_status = f"listening on {'JACK MIDI output' if name else 'JACK MIDI port'} {self.midi_input!r}"
            return self.midi_status
        deu = (virtual_name or "Amadeus").removeprefix("Amadeus ")
        opener = LivePerformance(None, deu, block_size=self.block_size, midi_port=name)  # its port rules and messages
        try:
            midi_in = opener.open_midi()
        except MidiBackendError as exc:
            self.midi_status = f"no MIDI input: {exc}"
            raise
        midi_in.cancel_callback()
        midi_in.set_callback(self._on_rtmidi)
        self._midi_in = midi_in
        self.midi_input = name or f"Amadeus {deu}"
        self.midi_status = f"listening on {'MIDI input' if name else 'virtual MIDI port'} {self.midi_input!r}"
        return self.midi_status

    def close_midi(self) -> None:
        if self._midi_in is not None:
            self._midi_in.cancel_callback()
            self._midi_in.close_port()
            self._midi_in.delete()
            self._midi_in = None
        self.midi_input = None
        self.midi_status = "closed"

    # -- recording -----------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self._recording is not None

    def start_recording(self) -> None:
        """Start capturing everything the player outputs."""
        with self._lock:
            self._recording = []

    def stop_recording(self, directory: str | Path) -> Path:
        """Stop capturing and write it as ``recording-<time>-<id>.wav`` (float32, atomic) in ``directory``."""
        from instrument_agent.render import write_wav

        with self._lock:
            blocks, self._recording = self._recording, None
        if blocks is None:
            raise PlayerError("not recording: start a recording first")
        audio = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return write_wav(Path(directory) / f"recording-{stamp}-{uuid.uuid4().hex[:6]}.wav", audio, self.sample_rate)

    def status(self) -> dict:
        """A JSON-able summary for the UI and ``amadeus status``."""
        engine = self._engine
        return {
            "playing": None if self.playing is None else {**self.playing.__dict__, "label": self.playing.label},
            **self.output.figures().as_dict(),  # backend, sample_rate, block_size, latency_frames, xruns
            "voices": 0 if engine is None else int(engine.active_voices),
            "audio": self.audio_status,
            "midi": self.midi_status,
            "midi_input": self.midi_input,
            "recording": self.recording,
            "swaps": self.swaps,
            "coverage": None if self.coverage is None else self.coverage.snapshot(),
        }
