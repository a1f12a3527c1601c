"""A Ctrl-C that is never lost: the CLI's SIGINT handler remembers it as well as raising it.

Python raises a Ctrl-C as :class:`KeyboardInterrupt` wherever the main thread happens to be. Where
that is a finaliser, a weakref callback or library code with a bare ``except:`` (an optional import
tried at start-up), the interrupt is swallowed and the command runs on: the practice kill test saw
a practice SIGINTed during its start-up publish a version and exit 0. :func:`install` (called by
the CLI's entry point) makes the handler also set a flag, and the long work checks it at its safe
points (:func:`check`: between pipeline steps, between training steps), so a swallowed Ctrl-C still
stops the command there, with a checkpoint and exit 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["check", "install", "pending"]

_requested = threading.Event()


def _in_finaliser(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside a ``__del__`` (where Python would print the KeyboardInterrupt as
    "Exception ignored in ..." with a traceback, and go on)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _handler(signum: int, frame: FrameType | None) -> None:
    _requested.set()
    if _in_finaliser(frame):  # seen in the kill test: TensorFlow's AtomicFunction.__del__ during training
        return  # remembered only: the next check() raises it, outside the finaliser
    raise KeyboardInterrupt


def install() -> Callable[[], None]:
    """Handle SIGINT by remembering it and raising :class:`KeyboardInterrupt` (main thread only; a
    no-op elsewhere). Returns a function that puts the previous handler back and forgets the flag."""
    _requested.clear()
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: Any = signal.signal(signal.SIGINT, _handler)

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)
        _requested.clear()

    return restore


def pending() -> bool:
    """Whether a Ctrl-C arrived since :func:`install` (raised or not)."""
    return _requested.is_set()


def check() -> None:
    """Raise :class:`KeyboardInterrupt` if a Ctrl-C arrived, even one that something swallowed."""
    if _requested.is_set():
        raise KeyboardInterrupt("interrupted")
