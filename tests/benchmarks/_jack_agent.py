"""The agent for bench_jack, in its own process: ``amadeus play --deu DEU --live --backend jack``.

    AMADEUS_HOME=STORE python tests/benchmarks/_jack_agent.py DEU

It runs the CLI's own entry point (:func:`instrument_agent.cli.main`) with those arguments, so the
JACK client, its engine and its threads are the ones a user's ``amadeus play --live`` has; the
server is ``$JACK_DEFAULT_SERVER``. The only addition is an observer of the performance that
``play_live`` opens (the object itself, unchanged): on SIGUSR1 the main thread prints one line
``SNAPSHOT {json}`` with the agent's own counters (``xruns``: its JACK xrun callback,
``periods``, ``errors``, ``missed_frames``), its client and port names, and its render's CPU time
per period (``busy_ms``: p50, p99, max, ms of thread time) over the periods since the previous
snapshot. SIGINT stops it as Ctrl-C stops the CLI ("stopped (N audio under/overruns)", exit 0).
It dies with its parent (a benchmark measurement killed after its timeout leaves no client).
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys

from instrument_agent.cli import main

SNAPSHOT = "SNAPSHOT "
_PR_SET_PDEATHSIG = 1


class Observer:
    """Keeps the performance ``play_live`` opens and prints its counters on SIGUSR1."""

    def __init__(self) -> None:
        from instrument_agent.live import performance as live_performance

        self.performance = None
        self.counted = 0  # periods covered by earlier snapshots
        self._open = live_performance.open_performance
        live_performance.open_performance = self._opened  # play_live looks it up at call time

    def _opened(self, *args, **kwargs):
        chosen, performance = self._open(*args, **kwargs)
        self.performance = performance
        return chosen, performance

    def snapshot(self, _signum=None, _frame=None) -> None:
        import numpy as np

        performance = self.performance
        if performance is None or not hasattr(performance, "host"):
            sys.stdout.write(SNAPSHOT + "null\n")
            sys.stdout.flush()
            return
        host = performance.host
        xruns, periods, errors, missed = performance.overruns, host.periods, host.errors, host.missed_frames
        busy = list(host.busy_s)
        new = max(0, min(periods - self.counted, len(busy)))
        self.counted = periods
        ms = 1e3 * np.asarray(busy[len(busy) - new :], float)
        figures = {
            "xruns": xruns,
            "periods": periods,
            "errors": errors,
            "missed_frames": missed,
            "client": host.client.name if host.client is not None else host.name,
            "midi_port": host.midi_port,
            "audio_ports": list(host.audio_ports),
            "busy_periods": int(ms.size),
            "busy_ms": [float(v) for v in np.percentile(ms, [50, 99, 100])] if ms.size else None,
        }
        sys.stdout.write(SNAPSHOT + json.dumps(figures) + "\n")
        sys.stdout.flush()


def run(deu: str) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before prctl
        return 1
    # The app first, as `amadeus` loads it: it sets OPENBLAS_NUM_THREADS=1 before numpy is imported
    # (imported here first, numpy's BLAS ran multi-threaded: p99 render time = the period, measured).
    importlib.import_module("instrument_agent.cli.app")
    observer = Observer()
    signal.signal(signal.SIGUSR1, observer.snapshot)
    return main(["play", "--deu", deu, "--live", "--backend", "jack"])


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
