"""A Ctrl-C that library code swallows is still honoured at the next safe point."""

from __future__ import annotations

import signal

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
