"""JACK's latency range API (``jack_port_{get,set}_latency_range``, ``jack_set_latency_callback``).

JACK-Client 0.5 does not wrap it, so it is declared here with cffi (JACK-Client's own
dependency) against the same ``libjack`` JACK-Client loaded, and called with the
client/port pointers JACK-Client holds.

A port's *capture* latency is how long ago (frames) the data in its buffer entered
the graph from a physical input; its *playback* latency is how long until the data
leaves through a physical output. A client reports both for every port from its
latency callback, adding its own processing latency (JACK's latency docs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cffi
import jack

__all__ = ["CAPTURE", "PLAYBACK", "LatencyApi"]

CAPTURE, PLAYBACK = 0, 1  # jack_latency_callback_mode_t: JackCaptureLatency, JackPlaybackLatency

_CDEF = """
typedef struct { uint32_t min; uint32_t max; } jack_latency_range_t;
typedef void (*JackLatencyCallback)(int mode, void *arg);
int jack_set_latency_callback(void *client, JackLatencyCallback cb, void *arg);
void jack_port_get_latency_range(void *port, int mode, jack_latency_range_t *range);
void jack_port_set_latency_range(void *port, int mode, jack_latency_range_t *range);
int jack_recompute_total_latencies(void *client);
"""


class LatencyApi:
    """The latency calls on JACK-Client's clients and ports (one per process is enough)."""

    def __init__(self) -> None:
        self.ffi = cffi.FFI()
        self.ffi.cdef(_CDEF)
        self.lib = self.ffi.dlopen(jack._libname)
        self._keep: list[Any] = []  # cffi callbacks must outlive the client

    def _ptr(self, obj: jack.Client | jack.Port) -> Any:
        return self.ffi.cast("void *", int(jack._ffi.cast("uintptr_t", obj._ptr)))

    def get(self, port: jack.Port, mode: int) -> tuple[int, int]:
        """(min, max) frames of ``port``'s capture or playback latency."""
        rng = self.ffi.new("jack_latency_range_t *")
        self.lib.jack_port_get_latency_range(self._ptr(port), mode, rng)
        return int(rng.min), int(rng.max)

    def set(self, port: jack.Port, mode: int, lo: int, hi: int) -> None:
        """Report ``port``'s capture or playback latency as (lo, hi) frames (from the latency callback)."""
        rng = self.ffi.new("jack_latency_range_t *")
        rng.min, rng.max = int(lo), int(hi)
        self.lib.jack_port_set_latency_range(self._ptr(port), mode, rng)

    def set_callback(self, client: jack.Client, callback: Callable[[int], None]) -> None:
        """Call ``callback(mode)`` whenever the graph's latencies are recomputed (before activate)."""

        @self.ffi.callback("JackLatencyCallback")
        def _cb(mode, _arg):
            try:
                callback(int(mode))
            except Exception:  # noqa: BLE001 - an exception must not cross into libjack
                pass

        self._keep.append(_cb)
        if self.lib.jack_set_latency_callback(self._ptr(client), _cb, self.ffi.NULL):
            raise jack.JackError("jack_set_latency_callback failed")

    def recompute(self, client: jack.Client) -> None:
        """Ask the server to recompute every port's latency (after ours changed)."""
        self.lib.jack_recompute_total_latencies(self._ptr(client))
