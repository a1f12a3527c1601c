"""JACK live-play benchmark (issue: "paired with a DAW"). Prints figures; asserts nothing.

    python tests/benchmarks/bench_jack.py [--seconds 20] [--repeats 3]

Needs jackd2 (``apt-get install jackd2 libjack-jackd2-0``). Each measurement starts its own
``jackd --no-realtime -d dummy -r 48000 -p PERIOD`` (as the end-to-end test does) and three
processes on it, none sharing a GIL with another:

- the agent: ``amadeus play --deu cello --live --backend jack`` (tests/benchmarks/_jack_agent.py
  runs the CLI's entry point and, on SIGUSR1, prints the performance's own xrun counter and its
  render's CPU time per period), a random decoder of the default size (hidden 256, GRU 256,
  60 harmonics, 65 noise bands);
- the DAW double (tests/instrument_agent/_jack_daw.py): the MIDI sender and the recorder;
- this measurement's process, with ``xrun-observer``: an idle client (empty process callback)
  that counts the server's xruns and reads the latency the agent's ports report.

Every xrun is reported to every client, so the observer's count and the agent's counter are
the server's xruns: jackd's log says whose they were ("client = NAME was not finished, state =
Triggered": woken, not yet scheduled; "Running": inside its process callback), counted per client.

1. MIDI event -> first audio sample, 64/128/256-frame periods: note-ons the DAW writes in the
   middle of a period, 0.5 s apart; measured on the recording (JACK frames, labelled by the DAW's
   cycle) against the capture latency the agent's outputs report (target: what they report,
   0 frames). A repeat counts when the cycles from one period before its note-on to four after
   were recorded, the period before was silent and the DAW saw no xrun within
   [-3, +6) periods of it. Medians over the repeats, (min-max).
2. Xruns per minute at 64/128/256 frames with 1, 8 and 16 voices (held MPE notes whose pressure
   moves every 10 ms): the observer alone on the server first (the machine's own xruns: the
   dummy driver and any client thread wake late under load), then for as long with the agent
   and the DAW playing; with the agent's own counter, the xruns jackd blames on the agent, and
   the agent's render CPU time per period (thread time: the work, not the wait for a core).

The load average is printed first (and last): on a shared machine the xrun figures measure the
scheduler as much as the agent. Each measurement runs in a fresh process with a timeout and
its children die with it, so a hung JACK call or a failed start costs one figure, not the run.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import mido
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "instrument_agent"
sys.path[:0] = [str(ROOT), str(SUPPORT), str(Path(__file__).resolve().parent)]

from _jack_agent import SNAPSHOT  # noqa: E402
from _jack_support import IdleClient, JackServer  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.decoder import DecoderShape  # noqa: E402
from instrument_agent.live.latency import CAPTURE, LatencyApi  # noqa: E402

RATE = 48000
DEU = "cello"
DEFAULT = DecoderShape(hidden_size=256, mlp_layers=1, gru_units=256, n_harmonics=60, n_noise_bands=65)
_LATE = re.compile(r"client = (.+?) was not finished, state = (\w+)|client (.+?) finished after current callback")


def _env(**extra: str) -> dict[str, str]:
    path = [str(ROOT), str(SUPPORT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), **extra}


def late_clients(log: str) -> collections.Counter:
    """(client, state) -> how many of jackd's xrun lines in ``log`` name it ("finished late": its
    "client NAME finished after current callback")."""
    found: collections.Counter = collections.Counter()
    for match in _LATE.finditer(log):
        late, state, after = match.groups()
        found[(late, state) if late else (after, "finished late")] += 1
    return found


class Agent:
    """``amadeus play --deu cello --live --backend jack`` in its own process (tests/benchmarks/_jack_agent.py)."""

    def __init__(self, home: str, timeout: float = 120.0):
        script = Path(__file__).resolve().parent / "_jack_agent.py"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), DEU],
            env=_env(AMADEUS_HOME=home, PYTHONFAULTHANDLER="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self._expect(lambda line: "playing" in line, timeout)  # its client is active
        except BaseException:
            self.stop()
            raise

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _expect(self, match, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(
                    f"the agent said nothing expected in {timeout:.0f} s: {''.join(self.output)}"
                ) from None
            if line is None:
                raise RuntimeError(f"the agent exited ({self.proc.wait()}): {''.join(self.output)}")
            if match(line):
                return line
            self.output.append(line)

    def snapshot(self) -> dict:
        """The agent's own counters now and its render CPU time since the last snapshot (see _jack_agent.py)."""
        self.proc.send_signal(signal.SIGUSR1)
        return json.loads(self._expect(lambda line: line.startswith(SNAPSHOT), 10.0)[len(SNAPSHOT) :])

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; killed if it has not stopped in 20 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class Daw:
    """The DAW double (tests/instrument_agent/_jack_daw.py) in its own process, playing ``phrase``
    ((frame, MIDI bytes) from the phrase start) to ``client`` and recording its outputs."""

    def __init__(self, client: str, phrase: list[tuple[int, bytes]], folder: Path, *, align: bool = False):
        self.out = folder / "take.npz"
        (folder / "phrase.json").write_text(json.dumps([[f, list(b)] for f, b in phrase]))
        cmd = [sys.executable, str(SUPPORT / "_jack_daw.py"), client, str(folder / "phrase.json"), str(self.out)]
        self.proc = subprocess.Popen(
            cmd + (["--align"] if align else []),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        line = self.proc.stdout.readline()  # a DAW hung before this is the measurement's timeout
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"the DAW double did not start: {line}{self.proc.communicate()[0]}")

    def take(self, timeout: float) -> dict[str, np.ndarray]:
        """The DAW's take (see _jack_daw.py) once the phrase has played."""
        out = self.proc.communicate(timeout=timeout)[0]
        if self.proc.returncode:
            raise RuntimeError(f"the DAW double failed ({self.proc.returncode}): {out}")
        with np.load(self.out) as take:
            return {key: take[key] for key in take.files}

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Window:
    """A stretch of time on the server: the observer's xruns, jackd's lines, the agent's counters."""

    def __init__(self, jackd: JackServer, observer: IdleClient, agent: Agent | None = None):
        self.jackd, self.observer, self.agent = jackd, observer, agent
        self.figures: dict = {}

    def __enter__(self) -> Window:
        first = self.agent.snapshot() if self.agent else None  # also starts its render-time window
        self._start = (time.monotonic(), self.observer.xruns, len(self.jackd.log()), first)
        return self

    def __exit__(self, *exc) -> None:
        t0, seen, log_from, first = self._start
        self.figures = {
            "seconds": time.monotonic() - t0,
            "observer": self.observer.xruns - seen,
            "late": late_clients(self.jackd.log()[log_from:]),
        }
        if self.agent is not None:
            last = self.agent.snapshot()
            self.figures.update(agent=last["xruns"] - first["xruns"], errors=last["errors"], busy_ms=last["busy_ms"])


@contextlib.contextmanager
def _server(period: int):
    """(jackd, the observer on it, an ExitStack that closes what the caller adds before them)."""
    with contextlib.ExitStack() as stack:
        jackd = JackServer(RATE, period).start()
        stack.callback(jackd.stop)  # after every client closed
        observer = IdleClient("xrun-observer")
        stack.callback(observer.close)
        yield jackd, observer, stack


def _audio(take: dict, start: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """([2, n] recorded from JACK frame ``start``, [n] bool: recorded there (not a skipped cycle))."""
    out, have = np.zeros((2, n), np.float32), np.zeros(n, bool)
    for label, block in zip(take["labels"], take["blocks"], strict=True):
        lo, hi = max(int(label), start), min(int(label) + block.shape[1], start + n)
        if lo < hi:
            out[:, lo - start : hi - start] = block[:, lo - label : hi - label]
            have[lo - start : hi - start] = True
    return out, have


def event_to_sound(home: str, period: int, repeats: int) -> dict:
    """measured: frames from each clean repeat's note-on to its first sample; near: the DAW's
    xruns near each repeat's event; skipped: why the others did not count; reported: the agent's
    outputs' capture latency (min, max); session: the Window figures while the DAW played."""
    gap = period * -(-RATE // 2 // period)  # 0.5 s in whole periods
    on = bytes(mido.Message("note_on", note=60, velocity=100).bytes())
    off = bytes(mido.Message("control_change", control=120, value=0).bytes())  # all sound off
    phrase = sorted(e for k in range(repeats) for e in ((k * gap + period // 2, on), (k * gap + RATE // 10, off)))
    with _server(period) as (jackd, observer, stack), tempfile.TemporaryDirectory() as tmp:
        agent = Agent(home)
        stack.callback(agent.stop)
        status = agent.snapshot()
        with Window(jackd, observer, agent) as session:
            daw = Daw(status["client"], phrase, Path(tmp), align=True)
            stack.callback(daw.kill)
            port = observer.client.get_port_by_name(status["audio_ports"][0])
            reported = LatencyApi().get(port, CAPTURE)  # with the DAW connected
            take = daw.take(timeout=60 + repeats * gap / RATE)
    measured, near, skipped = [], [], collections.Counter()
    xrun_frames = take["xrun_frames"]
    for frame, index in take["sent"]:
        if phrase[index][1] != on:
            continue
        near.append(int(np.sum((xrun_frames >= frame - 3 * period) & (xrun_frames < frame + 6 * period))))
        audio, have = _audio(take, int(frame) - period, 5 * period)
        loud = np.flatnonzero(np.abs(audio[0]) > 0)
        if near[-1]:
            skipped["an xrun near it"] += 1
        elif not have.all():
            skipped["a cycle not recorded"] += 1
        elif not loud.size:
            skipped["no sound"] += 1
        elif loud[0] < period:
            skipped["not silent before"] += 1
        else:
            measured.append(int(loud[0]) - period)
    return {"measured": measured, "near": near, "skipped": skipped, "reported": reported, "session": session.figures}


def xruns_per_minute(home: str, period: int, voices: int, seconds: float) -> dict:
    """idle: the observer alone on the server for ``seconds``; played: the same server for as
    long with the agent playing ``voices`` held MPE notes from the DAW (Window figures)."""
    notes = [
        (0, bytes(mido.Message("note_on", channel=1 + v % 15, note=48 + v, velocity=90).bytes())) for v in range(voices)
    ]
    length = int((seconds + 0.6) * RATE)
    moves = [
        (k * RATE // 100, bytes(mido.Message("aftertouch", channel=1 + v % 15, value=40 + (k * 7 + v) % 80).bytes()))
        for k in range(1, length * 100 // RATE)
        for v in range(voices)
    ]
    offs = [(length, bytes(mido.Message("note_off", channel=1 + v % 15, note=48 + v).bytes())) for v in range(voices)]
    with _server(period) as (jackd, observer, stack), tempfile.TemporaryDirectory() as tmp:
        time.sleep(0.3)  # the first cycles after activation are not counted
        with Window(jackd, observer) as idle:
            time.sleep(seconds)
        agent = Agent(home)
        stack.callback(agent.stop)
        status = agent.snapshot()
        daw = Daw(status["client"], notes + moves + offs, Path(tmp))
        stack.callback(daw.kill)
        time.sleep(0.3)  # the phrase starts 0.1 s after "ready": the notes are on
        with Window(jackd, observer, agent) as played:
            time.sleep(seconds)
        daw.take(timeout=60 + seconds)
    return {"idle": idle.figures, "played": played.figures}


def _isolated(function, *args, timeout: float):
    """``function(*args)`` in a fresh process; a sentence instead when it failed or did not return
    within ``timeout`` s (a JACK client call can block for good when the server falls behind)."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(function, *args)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()  # its jackd, agent and DAW die with it
            return f"hung (killed after {timeout:.0f} s)"
        except Exception as exc:  # noqa: BLE001 - one figure lost, the run goes on
            return f"failed: {type(exc).__name__}: {str(exc)[:300]}"


def _fmt(values) -> str:
    values = np.asarray(values, float)
    if not values.size:
        return "n/a"
    return f"{np.median(values):.1f} ({values.min():.1f}-{values.max():.1f})"


def _blamed(late: collections.Counter) -> str:
    return ", ".join(f"{name} {state} {n}" for (name, state), n in late.most_common()) or "none"


def _load() -> str:
    return "load average {:.2f}, {:.2f}, {:.2f} (1, 5, 15 min)".format(*os.getloadavg())


def part_one(home: str, repeats: int) -> None:
    print("\n1. MIDI note-on -> first audio sample (frames; median (min-max) over the clean repeats)\n")
    print("| period | measured | clean repeats | reported | session xruns: observer / agent's counter | jackd blamed |")
    print("|---|---|---|---|---|---|")
    for period in (64, 128, 256):
        result = _isolated(event_to_sound, home, period, repeats, timeout=120 + repeats)
        if isinstance(result, str):
            print(f"| {period} | {result} | | | | |", flush=True)
            continue
        s, lo_hi = result["session"], result["reported"]
        why = ", ".join(f"{n} {reason}" for reason, n in result["skipped"].items())
        print(
            f"| {period} | {_fmt(result['measured'])} | {len(result['measured'])} of {len(result['near'])}"
            f"{f' ({why})' if why else ''} | {lo_hi[1] if lo_hi[0] == lo_hi[1] else lo_hi} "
            f"| {s['observer']} / {s['agent']} in {s['seconds']:.1f} s | {_blamed(s['late'])} |",
            flush=True,
        )


def part_two(home: str, seconds: float, repeats: int) -> None:
    print(f"\n2. Xruns per minute ({seconds:.0f} s each; median (min-max) over {repeats} repeats)\n")
    print(
        "| period | voices | observer alone | observer, agent + DAW playing | agent's counter | blamed on the agent "
        "| render CPU p99, ms (of the period) | jackd blamed (all repeats) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for period in (64, 128, 256):
        for voices in (1, 8, 16):
            runs = [
                _isolated(xruns_per_minute, home, period, voices, seconds, timeout=150 + 3 * seconds)
                for _ in range(repeats)
            ]
            done = [r for r in runs if not isinstance(r, str)]
            lost = "; ".join(r for r in runs if isinstance(r, str))
            if not done:
                print(f"| {period} | {voices} | every repeat {lost} | | | | | |", flush=True)
                continue
            idle = [60 * r["idle"]["observer"] / r["idle"]["seconds"] for r in done]
            played = [r["played"] for r in done]
            late = sum((p["late"] for p in played), collections.Counter())
            errors = sum(p["errors"] for p in played)  # periods the agent's render raised in (silenced)
            if errors:
                lost = "; ".join(filter(None, [lost, f"{errors} render errors"]))
            on_agent = [
                60 * sum(n for (name, _), n in p["late"].items() if name.startswith("Amadeus")) / p["seconds"]
                for p in played
            ]
            print(
                f"| {period} | {voices} | {_fmt(idle)} | {_fmt([60 * p['observer'] / p['seconds'] for p in played])} "
                f"| {_fmt([60 * p['agent'] / p['seconds'] for p in played])} | {_fmt(on_agent)} "
                f"| {_fmt([p['busy_ms'][1] for p in played if p['busy_ms']])} ({1e3 * period / RATE:.2f}) "
                f"| {_blamed(late)}{f'; {lost}' if lost else ''} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each xrun measurement")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each xrun measurement (part 1: at least 8)")
    args = parser.parse_args()
    print(f"{_load()} on {os.cpu_count()} cores; jackd --no-realtime, dummy driver, {RATE} Hz", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = str(make_personality(Path(tmp), deu=DEU, shape=DEFAULT).path.parents[2])
        part_one(home, max(args.repeats, 8))
        part_two(home, args.seconds, args.repeats)
    print(f"\n{_load()} at the end")


if __name__ == "__main__":
    main()
