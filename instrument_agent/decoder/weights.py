"""Random decoder weights in the ``decoder.npz`` layout: an untrained personality for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from .protocol import DecoderShape

__all__ = ["random_decoder_weights"]


def random_decoder_weights(shape: DecoderShape, seed: int = 0) -> dict[str, np.ndarray]:
    """Glorot-initialised decoder weights (the ``decoder.npz`` keys) for a decoder of ``shape``.

    An untrained personality: useful to exercise the audio path (tests,
    benchmarks) without training. Save with ``np.savez(path, **weights)``.
    """
    rng = np.random.default_rng(seed)

    def dense(n_in: int, n_out: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)

    weights: dict[str, np.ndarray] = {}
    hidden, gru = shape.hidden_size, shape.gru_units
    for name, first_in in (("f0_mlp", 1), ("ld_mlp", 1), ("out_mlp", gru + 2 * hidden)):
        for i in range(shape.mlp_layers):
            weights[f"{name}/{i}/kernel"] = dense(first_in if i == 0 else hidden, hidden)
            weights[f"{name}/{i}/bias"] = rng.normal(0.0, 0.5, hidden).astype(np.float32)
            weights[f"{name}/{i}/gamma"] = np.ones(hidden, np.float32)
            weights[f"{name}/{i}/beta"] = np.zeros(hidden, np.float32)
    weights["gru/kernel"] = dense(2 * hidden, 3 * gru)
    weights["gru/recurrent_kernel"] = dense(gru, 3 * gru)
    weights["gru/bias"] = rng.normal(0.0, 0.1, (2, 3 * gru)).astype(np.float32)
    weights["dense/kernel"] = dense(hidden, shape.n_controls)
    weights["dense/bias"] = np.zeros(shape.n_controls, np.float32)
    return weights
