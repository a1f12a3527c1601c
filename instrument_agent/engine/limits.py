"""The engine's ranges of sample rate and block size, and its configuration error."""

from __future__ import annotations

__all__ = ["MAX_BLOCK", "MAX_SAMPLE_RATE", "MIN_BLOCK", "MIN_SAMPLE_RATE", "EngineConfigError"]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 16000, 48000
MIN_BLOCK, MAX_BLOCK = 32, 2048


class EngineConfigError(ValueError):
    """An engine setting (sample rate, decoder/profile mismatch) is out of range."""
