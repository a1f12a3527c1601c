"""A Ctrl-C that something swallowed stops an in-process practice before its next step."""

from __future__ import annotations

import pytest
from _faults import swallowed_ctrl_c

from instrument_agent import interrupts
from pipelines.practice.embedded import _interruptible


def test_no_pipeline_step_starts_after_a_swallowed_ctrl_c():
    restore = interrupts.install()
    try:
        assert _interruptible(lambda: {"ran": 1}, {}) == {"ran": 1}
        swallowed_ctrl_c()
        ran = []
        with pytest.raises(KeyboardInterrupt):
            _interruptible(lambda: ran.append(1) or {}, {})
        assert ran == []
    finally:
        restore()
