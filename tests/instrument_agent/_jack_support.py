"""A real JACK server for tests (jackd2, dummy driver, unique name) and a "DAW": one
JACK client sending timed MIDI, one recording audio with JACK frame times."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid

import jack
import numpy as np

JACKD = shutil.which("jackd") or "/usr/bin/jackd"


class JackServer:
    """``jackd -n NAME --no-realtime -d dummy -r RATE -p PERIOD``; ``JACK_DEFAULT_SERVER`` set while it runs."""

    def __init__(self, rate: int = 48000, period: int = 128):
        self.name = f"amadeus-test-{uuid.uuid4().hex[:8]}"
        self.rate, self.period = rate, period
        self.proc: subprocess.Popen | None = None
        self._saved = os.environ.get("JACK_DEFAULT_SERVER")

    def start(self) -> JackServer:
        cmd = [JACKD, "-n", self.name, "--no-realtime", "-d", "dummy", "-r", str(self.rate), "-p", str(self.period)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        deadline = time.time() + 15
        jack.set_error_function(lambda _m: None)
        try:
            while True:
                try:
                    jack.Client("ready-probe", no_start_server=True, servername=self.name).close()
                    return self
                except jack.JackError:
                    if self.proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError(f"jackd did not start: {self.log()}") from None
                    time.sleep(0.05)
        finally:
            jack.set_error_function(None)

    def log(self) -> str:
        if self.proc is None or self.proc.poll() is None:
            return ""
        return self.proc.stdout.read()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._saved is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._saved


class DawMidi:
    """A JACK client with one MIDI output that sends events at absolute JACK frames."""

    def __init__(self, name: str = "daw-midi"):
        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.midi_outports.register("out")
        self._events: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self.late = 0  # events that had to be sent after their frame (the DAW missed a period: xrun)
        self.sent: list[tuple[int, bytes]] = []  # (JACK frame it went out at, bytes)
        self.client.set_process_callback(self._process)
        self.client.activate()

    def schedule(self, events: list[tuple[int, bytes]]) -> None:
        with self._lock:
            self._events = sorted(self._events + list(events))

    def _process(self, frames: int) -> None:
        t0 = self.client.last_frame_time
        self.port.clear_buffer()  # a MIDI output keeps last period's events otherwise
        with self._lock:
            while self._events and self._events[0][0] < t0 + frames:
                frame, data = self._events.pop(0)
                if frame < t0:
                    self.late += 1
                self.port.write_midi_event(max(0, frame - t0), data)
                self.sent.append((max(frame, t0), bytes(data)))

    @property
    def pending(self) -> int:
        return len(self._events)

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


class DawRecorder:
    """A JACK client with two audio inputs recording every period with its JACK frame time."""

    def __init__(self, name: str = "daw-rec"):
        self.client = jack.Client(name, no_start_server=True)
        self.ports = [self.client.inports.register(f"in_{i}") for i in (1, 2)]
        self.blocks: list[tuple[int, np.ndarray]] = []
        self.client.set_process_callback(self._process)
        self.client.activate()

    def _process(self, frames: int) -> None:
        t0 = self.client.last_frame_time
        self.blocks.append((t0, np.stack([p.get_array().copy() for p in self.ports])))

    def audio(self, start: int, n: int) -> np.ndarray:
        """[2, n] recorded from JACK frame ``start`` (zeros where nothing was recorded)."""
        out = np.zeros((2, n), np.float32)
        for t0, block in list(self.blocks):
            lo, hi = max(t0, start), min(t0 + block.shape[1], start + n)
            if lo < hi:
                out[:, lo - start : hi - start] = block[:, lo - t0 : hi - t0]
        return out

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
