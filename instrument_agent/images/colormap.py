"""A perceptually ordered colour map (dark blue → teal → yellow, close to viridis) for heat maps."""

from __future__ import annotations

import numpy as np

__all__ = ["colorize"]

# Anchors of viridis at 0, 0.25, 0.5, 0.75, 1 (RGB 0..1), linearly interpolated between.
_ANCHORS = np.array(
    [
        [0.267, 0.005, 0.329],
        [0.230, 0.322, 0.546],
        [0.128, 0.567, 0.551],
        [0.369, 0.789, 0.383],
        [0.993, 0.906, 0.144],
    ]
)


def colorize(values: np.ndarray, *, low: float | None = None, high: float | None = None) -> np.ndarray:
    """Map ``values`` ([...] floats) to RGB ([..., 3] float 0..1) between ``low`` and ``high``
    (default: their min and max; NaN maps to black)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if low is None and finite.size else (0.0 if low is None else low)
    high = float(finite.max()) if high is None and finite.size else (1.0 if high is None else high)
    scaled = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)
    position = np.nan_to_num(scaled) * (len(_ANCHORS) - 1)
    index = np.minimum(position.astype(int), len(_ANCHORS) - 2)
    fraction = (position - index)[..., None]
    rgb = _ANCHORS[index] * (1.0 - fraction) + _ANCHORS[index + 1] * fraction
    rgb[~np.isfinite(values)] = 0.0
    return rgb
