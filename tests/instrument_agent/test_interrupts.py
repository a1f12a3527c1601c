"""A Ctrl-C that library code swallows is still honoured at the next safe point."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

import pytest
from _faults import swallowed_ctrl_c

from instrument_agent import interrupts


def test_a_swallowed_ctrl_c_is_remembered_and_raised_at_the_next_check():
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job, Python's handler otherwise
    restore = interrupts.install()
    try:
        assert not interrupts.pending()
        interrupts.check()  # nothing pending: returns
        swallowed_ctrl_c()
        assert interrupts.pending()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    finally:
        restore()
    assert not interrupts.pending()
    assert signal.getsignal(signal.SIGINT) is before


def test_without_install_nothing_is_pending():
    swallowed_ctrl_c()  # pytest's own handler raises, the bare except swallows; no flag
    assert not interrupts.pending()
    interrupts.check()


class _Finalised:
    """An object whose finaliser is running when the Ctrl-C lands (as TensorFlow's functions are)."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.5)  # the handler runs here, inside the finaliser


def test_a_ctrl_c_inside_a_finaliser_is_only_remembered(monkeypatch):
    """Raised there, Python would print "Exception ignored in ... __del__" with a traceback and go on."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    restore = interrupts.install()
    try:
        obj = _Finalised()
        del obj
        gc.collect()
        assert unraisable == [] and interrupts.pending()
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    finally:
        restore()
