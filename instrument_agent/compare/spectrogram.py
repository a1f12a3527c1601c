"""Two renders' spectrograms side by side on one dB scale, as one RGB picture (A left, B right).

The spectrogram maths and the colour map are :mod:`instrument_agent.images`'; this module only
lays the pair out.
"""

from __future__ import annotations

import numpy as np

from instrument_agent.images import spectrogram_images

__all__ = ["side_by_side"]


def side_by_side(
    a: np.ndarray,
    b: np.ndarray,
    sample_rate: int,
    *,
    gap: int = 8,
    height: int = 200,
    width: int = 400,
    max_hz: float = 8000.0,
) -> np.ndarray:
    """Both renders' spectrograms (``a``, ``b``: [n] float audio at ``sample_rate``) on one dB
    scale (the louder one's peak is the brightest colour), 0..``max_hz`` up, each ``width``
    columns over its whole length, with a white ``gap`` between.

    Returns:
        [height, 2 × width + gap, 3] float RGB in 0..1.
    """
    left, right = spectrogram_images([a, b], sample_rate, height=height, width=width, max_hz=max_hz)
    white = np.ones((height, gap, 3))
    return np.concatenate([left, white, right], axis=1)
