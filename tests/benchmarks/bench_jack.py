"""JACK live-play benchmark (issue: "paired with a DAW"). Prints figures; asserts nothing.

    python tests/benchmarks/bench_jack.py [--seconds 20] [--repeats 3]

Needs jackd2 (``apt-get install jackd2 libjack-jackd2-0``). Each run starts its own
``jackd --no-realtime -d dummy -r 48000 -p PERIOD`` (as the end-to-end test does), the agent
as the JACK client ``Amadeus cello`` with a random decoder of the default size (hidden 256,
GRU 256, 60 harmonics, 65 noise bands), and a DAW double (tests/instrument_agent/_jack_support.py).

1. MIDI event -> first audio sample, 64/128/256-frame periods: a note-on written by the DAW
   in the middle of a period; measured on the recording (JACK frames, labelled by the DAW's
   cycle) against the latency the agent's ports report (target: <= one period, and exactly
   what the ports report). Medians over the repeats, (min-max).
2. Xruns per minute at 64/128/256 frames with 1, 8 and 16 voices (held MPE notes whose pressure
   moves every 10 ms), next to an idle reference client's on the same server for as long
   (the machine's own xruns: the dummy driver and any client thread wake late under load).

The load average is printed first: on a shared machine the xrun figures measure the scheduler
as much as the agent; the agent's own render CPU time per period is printed with them.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import mido
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "instrument_agent")]

from _jack_support import DawMidi, DawRecorder, JackServer, idle_xruns  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.decoder import DecoderShape  # noqa: E402
from instrument_agent.engine import Engine  # noqa: E402
from instrument_agent.live.latency import CAPTURE, LatencyApi  # noqa: E402
from instrument_agent.live.performance import JackPerformance  # noqa: E402
from instrument_agent.personality import read_bundle  # noqa: E402

RATE = 48000
DEFAULT = DecoderShape(hidden_size=256, mlp_layers=1, gru_units=256, n_harmonics=60, n_noise_bands=65)


def _session(bundle, period: int):
    jackd = JackServer(RATE, period).start()
    performance = JackPerformance(lambda rate: Engine.from_bundle(bundle, sample_rate=rate), bundle.deu)
    status = performance.start()
    daw = DawMidi()
    rec = DawRecorder(clock=lambda: daw.cycle_frame)
    daw.client.connect(daw.port, status.midi_port)
    for ours, theirs in zip(status.audio_ports, rec.ports, strict=True):
        rec.client.connect(ours, theirs)
    return jackd, performance, status, daw, rec


def _close(jackd, performance, daw, rec) -> None:
    rec.close()
    daw.close()
    performance.stop()
    jackd.stop()


def event_to_sound(bundle_path: str, period: int, repeats: int) -> tuple[list[int], int, list[int]]:
    """(measured frames per clean repeat, reported frames, xruns near each repeat's event).

    A repeat counts when every cycle from one period before the note-on to four after it was
    recorded and no xrun was reported within two periods of that window: an xrun elsewhere in
    the run does not touch this measurement (the recording is labelled by the DAW's cycle)."""
    bundle = read_bundle(bundle_path)
    jackd, performance, status, daw, rec = _session(bundle, period)
    try:
        probe = LatencyApi()
        reported = probe.get(rec.client.get_port_by_name(status.audio_ports[0]), CAPTURE)[1]
        measured, xruns = [], []
        for _ in range(repeats):
            start = daw.client.frame_time + RATE // 10
            at = start - start % period + period // 2 + period  # the middle of a period
            daw.schedule([(at, mido.Message("note_on", note=60, velocity=100).bytes())])
            while rec.last < at + 6 * period:
                time.sleep(0.01)
            sent = daw.sent[-1][0]
            audio, have = rec.audio(sent - period, 5 * period)
            loud = np.flatnonzero(np.abs(audio[0]) > 0)
            xruns.append(rec.xruns_between(sent - 3 * period, sent + 6 * period))
            if xruns[-1] == 0 and have.all() and loud.size:
                measured.append(int(loud[0]) - period)
            daw.schedule([(daw.client.frame_time, mido.Message("control_change", control=120, value=0).bytes())])
            time.sleep(0.3)
        return measured, reported, xruns
    finally:
        _close(jackd, performance, daw, rec)


def xruns_per_minute(bundle_path: str, period: int, voices: int, seconds: float) -> tuple[float, float, float]:
    """(idle reference client's xruns/min, the agent's xruns/min, the agent's p99 render CPU ms)."""
    bundle = read_bundle(bundle_path)
    jackd = JackServer(RATE, period).start()
    try:
        idle = idle_xruns(seconds) * 60 / seconds
    finally:
        jackd.stop()
    jackd, performance, status, daw, rec = _session(bundle, period)
    try:
        now = daw.client.frame_time + RATE // 10
        notes = [
            (now, mido.Message("note_on", channel=1 + v % 15, note=48 + v, velocity=90).bytes()) for v in range(voices)
        ]
        moves = [
            (now + k * RATE // 100, mido.Message("aftertouch", channel=1 + v % 15, value=40 + (k * 7 + v) % 80).bytes())
            for k in range(1, int(seconds * 100))
            for v in range(voices)
        ]
        daw.schedule(notes + moves)
        time.sleep(0.2)
        before = rec.xruns
        time.sleep(seconds)
        agent = (rec.xruns - before) * 60 / seconds
        busy = np.array(performance.host.busy_s)
        return idle, agent, 1e3 * float(np.percentile(busy, 99))
    finally:
        _close(jackd, performance, daw, rec)


def _fmt(values) -> str:
    values = np.asarray(values, float)
    if not values.size:
        return "n/a"
    return f"{np.median(values):.1f} ({values.min():.1f}-{values.max():.1f})"


def _isolated(function, *args, timeout: float):
    """``function(*args)`` in a fresh process, or None when it did not return within ``timeout`` s
    (a JACK client call can block for good when the server falls behind on a loaded machine)."""
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        future = pool.submit(function, *args)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each xrun measurement")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = str(make_personality(Path(tmp), shape=DEFAULT).path)
        repeats = max(args.repeats, 8)
        print("1. MIDI note-on -> first audio sample (frames; median (min-max) over clean repeats)")
        for period in (64, 128, 256):
            result = _isolated(event_to_sound, bundle, period, repeats, timeout=60 + repeats * 2)
            if result is None:
                print(f"   {period:4d}-frame periods: a JACK call hung (killed after its timeout)")
                continue
            measured, reported, xruns = result
            print(
                f"   {period:4d}-frame periods: measured {_fmt(measured)} in {len(measured)} of {len(xruns)} repeats "
                f"without an xrun near the event, reported {reported}"
            )
        print(f"2. xruns per minute ({args.seconds:.0f} s each; median (min-max) over {args.repeats} repeats)")
        for period in (64, 128, 256):
            for voices in (1, 8, 16):
                runs = [
                    _isolated(xruns_per_minute, bundle, period, voices, args.seconds, timeout=60 + 3 * args.seconds)
                    for _ in range(args.repeats)
                ]
                done = [r for r in runs if r is not None]
                hung = len(runs) - len(done)
                if not done:
                    print(f"   {period:4d} frames, {voices:2d} voices: every repeat hung in a JACK call")
                    continue
                idle, agent, busy = zip(*done, strict=True)
                print(
                    f"   {period:4d} frames, {voices:2d} voices: agent {_fmt(agent)}/min, "
                    f"idle client {_fmt(idle)}/min; render CPU p99 {_fmt(busy)} ms of {1e3 * period / RATE:.2f}"
                    + (f"; {hung} repeat(s) hung" if hung else "")
                )


if __name__ == "__main__":
    main()
