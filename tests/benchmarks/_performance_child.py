"""One codebase's figures for bench_performance (run as a script with that codebase first on sys.path).

    python tests/benchmarks/_performance_child.py BUNDLE SECONDS [CASE ...]

It uses only the engine API both the current and the old code have (``read_bundle``,
``Engine.from_bundle``, ``send(message, at=sample)``, ``render(n)``) and prints one JSON
object: per case, the per-block compute of one run (this thread's CPU time, and wall time)
as fractions of the block period, or the × real time of an offline render.
Cases: ``stream:BACKEND:VOICES:BLOCK`` and ``offline:KIND:VOICES:RATE`` (KIND ``held``/``mpe``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import mido  # noqa: E402
import numpy as np  # noqa: E402

sys.path.append(str(Path(__file__).resolve().parents[1] / "instrument_agent"))
from _mpe_performance import mpe_performance  # noqa: E402

from instrument_agent.engine import Engine  # noqa: E402
from instrument_agent.personality import read_bundle  # noqa: E402

_WARMUP_S = 0.3  # notes entering, caches warming: not counted
_RATE = 375  # controller messages per second per dimension (a Seaboard/Linnstrument stream)


def _held(voices: int, seconds: float, sample_rate: int) -> list[tuple[int, mido.Message]]:
    events = []
    for v in range(voices):
        events.append((int(0.001 * v * sample_rate), mido.Message("note_on", note=40 + 2 * v, velocity=100)))
        events.append((int((seconds - 0.3) * sample_rate), mido.Message("note_off", note=40 + 2 * v)))
    return sorted(events, key=lambda e: e[0])


def _stream_once(bundle, backend: str, voices: int, block: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-block CPU and wall seconds of a live engine playing the scripted MPE performance, each
    note's bend, pressure and CC74 sent once a block at its own offset inside the block."""
    sample_rate = 48000
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate, backend=backend)
    events = mpe_performance(voices, seconds + _WARMUP_S + 0.35, sample_rate, period=block)
    end = int((seconds + _WARMUP_S) * sample_rate)
    warm = int(_WARMUP_S * sample_rate)
    cpu, wall, i = [], [], 0
    for t0 in range(0, end, block):
        batch = []
        while i < len(events) and events[i][0] < t0 + block:
            batch.append(events[i])
            i += 1
        c, w = time.thread_time(), time.perf_counter()
        for at, message in batch:  # the MIDI thread's messages, handed over at the block's start
            engine.send(message, at=at)
        engine.render(block)
        if t0 >= warm:
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - w)
    return np.asarray(cpu), np.asarray(wall)


def stream(bundle, backend: str, voices: int, block: int, seconds: float) -> dict[str, list[float]]:
    """Per-block CPU and wall time as fractions of the block period (one run)."""
    cpu, wall = _stream_once(bundle, backend, voices, block, seconds)
    period = block / 48000
    return {"cpu": [round(float(c), 4) for c in cpu / period], "wall": [round(float(w), 4) for w in wall / period]}


def offline(bundle, kind: str, voices: int, sample_rate: int, seconds: float, block: int = 8192) -> dict[str, float]:
    """× real time (CPU, wall) of an offline render in the engine calls ``amadeus play`` makes."""
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate)
    if kind == "held":
        events = _held(voices, seconds, sample_rate)
    else:
        events = mpe_performance(voices, seconds, sample_rate, period=sample_rate // _RATE)
    for at, message in events:
        engine.send(message, at=at)
    total = int(seconds * sample_rate)
    c, w = time.thread_time(), time.perf_counter()
    for i in range(0, total, block):
        engine.render(min(block, total - i))
    return {"x": seconds / (time.thread_time() - c), "wall x": seconds / (time.perf_counter() - w)}


def main() -> None:
    bundle = read_bundle(sys.argv[1])
    seconds = float(sys.argv[2])
    results = {}
    for case in sys.argv[3:]:
        what, a, b, c = case.split(":")
        if what == "stream":
            results[case] = stream(bundle, a, int(b), int(c), seconds)
        else:
            results[case] = offline(bundle, a, int(b), int(c), 2 * seconds)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
