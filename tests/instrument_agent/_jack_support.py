"""A real JACK server for tests (jackd2, dummy driver, unique name) and a "DAW": one
JACK client sending timed MIDI, one recording audio, both labelling every graph cycle
with the same JACK frame time.

**Why one label per cycle.** JACK2's ``jack_last_frame_time`` reads the server's frame
timer when it is called, not a value saved for the cycle: a client that runs late (the
graph missed the driver's next tick, an xrun) reads a later cycle's time than the
clients before it in the same cycle. Buffers travel through the graph with the cycle,
so the DAW's MIDI client (first in the graph) reads the frame time once and the
recorder (last) files what it records under that same frame.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import jack
import numpy as np

JACKD = shutil.which("jackd") or "/usr/bin/jackd"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    # A test process that crashes must not leave jackd running (each one ticks every period,
    # and JACK2 allows 8 servers per machine: "Too many servers already active").
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class JackServer:
    """``jackd -n NAME --no-realtime -d dummy -r RATE -p PERIOD``; ``JACK_DEFAULT_SERVER`` set while it runs.

    jackd's output (its xrun lines name the late client) goes to a file, :meth:`log` reads it.
    """

    def __init__(self, rate: int = 48000, period: int = 128):
        self.name = ""
        self.rate, self.period = rate, period
        self.proc: subprocess.Popen | None = None
        self._saved = os.environ.get("JACK_DEFAULT_SERVER")
        self._out = tempfile.NamedTemporaryFile("w+", prefix="jackd-", suffix=".log")  # noqa: SIM115

    def start(self) -> JackServer:
        # Names from a small pool: JACK2 keeps 8 server slots in /dev/shm/jack-shm-registry and frees a
        # dead server's slot only when a server of the same name starts, so unique names leak a slot
        # per jackd that did not exit cleanly ("Too many servers already active", measured).
        for i in range(8):
            self.name = f"amadeus-test-{i}"
            try:
                return self._start()
            except FileExistsError:
                continue
        raise RuntimeError(f"no free JACK server name: {self.log()}")

    def _start(self) -> JackServer:
        self._out.seek(0)
        self._out.truncate()
        cmd = [JACKD, "-n", self.name, "--no-realtime", "-d", "dummy", "-r", str(self.rate), "-p", str(self.period)]
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
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
                        self.stop()
                        if "is already running" in self.log() or "already active" in self.log():
                            raise FileExistsError(self.name) from None  # another test's server has the name
                        raise RuntimeError(f"jackd did not start: {self.log()}") from None
                    time.sleep(0.05)
        finally:
            jack.set_error_function(None)

    def log(self) -> str:
        with open(self._out.name) as f:
            return f.read()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)  # SIGKILL leaves its registry slot and shared memory behind
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._saved is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._saved


class IdleClient:
    """A JACK client with an empty process callback: the xruns the machine has without any work."""

    def __init__(self, name: str = "idle-reference"):
        self.client = jack.Client(name, no_start_server=True)
        self.xruns = 0
        self.client.set_process_callback(lambda _frames: None)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()

    def _xrun(self, _delay: float) -> None:
        self.xruns += 1

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


def idle_xruns(seconds: float) -> int:
    """Xruns the running server reports in ``seconds`` with only an idle client on it."""
    idle = IdleClient()
    try:
        time.sleep(0.3)  # the first cycles after activation are not counted
        before = idle.xruns
        time.sleep(seconds)
        return idle.xruns - before
    finally:
        idle.close()


class DawMidi:
    """A JACK client with one MIDI output that writes events at absolute JACK frames.

    Events are written by the process callback into the period buffer of the cycle their
    frame falls in (so they travel with that cycle through the graph and cannot be lost);
    one whose period the graph skipped goes out at offset 0 of the next cycle (``late``).
    ``cycle_frame`` is this cycle's JACK frame time, the label of the cycle for the clients after it.
    """

    def __init__(self, name: str = "daw-midi"):
        self.client = jack.Client(name, no_start_server=True)
        self.port = self.client.midi_outports.register("out")
        self._events: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        self.cycle_frame = 0
        self.late = 0
        self.sent: list[tuple[int, bytes]] = []  # (JACK frame it went out at: cycle_frame + offset, bytes)
        self.client.set_process_callback(self._process)
        self.client.activate()

    def schedule(self, events: list[tuple[int, bytes]]) -> None:
        with self._lock:
            self._events = sorted(self._events + list(events))

    def _process(self, frames: int) -> None:
        t0 = self.cycle_frame = self.client.last_frame_time
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
    """A JACK client with two audio inputs recording every period under its cycle's JACK frame.

    Args:
        clock: the cycle's label (the DAW MIDI client's ``cycle_frame``); default this client's
            own ``last_frame_time``.
    """

    def __init__(self, name: str = "daw-rec", clock=None):
        self.client = jack.Client(name, no_start_server=True)
        self.ports = [self.client.inports.register(f"in_{i}") for i in (1, 2)]
        self.blocks: dict[int, np.ndarray] = {}
        self.last = 0
        self._clock = clock or (lambda: self.client.last_frame_time)
        self.xruns = 0
        self.xrun_frames: list[int] = []  # the JACK frame time when each xrun was reported
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()

    def _xrun(self, _delay: float) -> None:
        self.xruns += 1
        self.xrun_frames.append(self.client.frame_time)

    def xruns_between(self, start: int, stop: int) -> int:
        """Xruns reported while the JACK frame time was in ``[start, stop)``."""
        return sum(start <= f < stop for f in self.xrun_frames)

    def _process(self, frames: int) -> None:
        t0 = self._clock()
        self.blocks[t0] = np.stack([p.get_array().copy() for p in self.ports])
        self.last = t0

    def audio(self, start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """([2, n] recorded from JACK frame ``start``, [n] bool: recorded there (not a skipped cycle))."""
        out = np.zeros((2, n), np.float32)
        have = np.zeros(n, bool)
        for t0, block in list(self.blocks.items()):
            lo, hi = max(t0, start), min(t0 + block.shape[1], start + n)
            if lo < hi:
                out[:, lo - start : hi - start] = block[:, lo - t0 : hi - t0]
                have[lo - start : hi - start] = True
        return out, have

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()
