"""The paper's RNN-FC decoder (Engel et al. 2020), exactly as in docs/contracts.md.

Per control frame::

    x_f = MLP_f0(hz_to_midi(f0_hz) / 127)              [.., hidden]
    x_l = MLP_ld(loudness_db / 80 + 1)                 [.., hidden]
    h   = GRU(concat[x_f, x_l])                        [.., gru_units]  (reset_after=True, gates z|r|h)
    y   = MLP_out(concat[h, x_f, x_l])                 [.., hidden]
    raw = Dense(1 + H + N)(y)
    amplitude = exp_sigmoid(raw[:1]); harmonic_distribution = exp_sigmoid(raw[1:1+H]);
    noise_magnitudes = exp_sigmoid(raw[1+H:] - 5)

``MLP = mlp_layers × (Dense(hidden) → LayerNorm(eps=1e-3) → leaky_relu(0.2))``.

:class:`RnnFcDecoder` runs whole sequences (the ``keras.layers.GRU``'s weights
through :func:`._gru.gru_recurrence`, which has a faster backward pass);
:meth:`RnnFcDecoder.step` runs one frame with the GRU state as an explicit
input and output (the same ``GRUCell`` weights), which is what the streaming
TFLite export and the agent use.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ._gru import gru_recurrence
from .core import DB_RANGE, exp_sigmoid, hz_to_midi

__all__ = ["DecoderWeightsError", "RnnFcDecoder"]

_NOISE_BIAS = -5.0
_MLP_NAMES = ("f0_mlp", "ld_mlp", "out_mlp")


class DecoderWeightsError(ValueError):
    """Decoder weights (``decoder.npz``) that are missing keys or do not fit the decoder's sizes."""


class _Mlp(keras.layers.Layer):
    """``layers`` × (Dense(hidden) → LayerNorm(eps=1e-3) → leaky_relu(0.2)). [..., in] → [..., hidden]."""

    def __init__(self, hidden_size: int, layers: int, **kwargs):
        super().__init__(**kwargs)
        self.dense = [keras.layers.Dense(hidden_size, name=f"dense_{i}") for i in range(layers)]
        self.norm = [keras.layers.LayerNormalization(epsilon=1e-3, name=f"norm_{i}") for i in range(layers)]

    def build(self, input_shape):
        shape = input_shape[-1]
        for dense, norm in zip(self.dense, self.norm, strict=True):
            dense.build((None, shape))
            norm.build((None, dense.units))
            shape = dense.units
        self.built = True

    def call(self, x):
        for dense, norm in zip(self.dense, self.norm, strict=True):
            x = tf.nn.leaky_relu(norm(dense(x)), alpha=0.2)
        return x


class RnnFcDecoder(keras.layers.Layer):
    """f0 and loudness curves → synthesizer controls.

    Args:
        hidden_size: units per MLP layer.
        mlp_layers: layers per MLP stack.
        gru_units: G, GRU state size.
        n_harmonics: H.
        n_noise_bands: N.

    Call:
        ``f0_hz [B, T]`` (Hz), ``loudness_db [B, T]`` (dB) → dict of
        ``amplitude [B, T, 1]``, ``harmonic_distribution [B, T, H]``,
        ``noise_magnitudes [B, T, N]`` and ``controls [B, T, 1+H+N]``
        (the three concatenated), all linear and positive.
    """

    def __init__(
        self, hidden_size: int, mlp_layers: int, gru_units: int, n_harmonics: int, n_noise_bands: int, **kwargs
    ):
        super().__init__(**kwargs)
        self.hidden_size = int(hidden_size)
        self.mlp_layers = int(mlp_layers)
        self.gru_units = int(gru_units)
        self.n_harmonics = int(n_harmonics)
        self.n_noise_bands = int(n_noise_bands)
        self.f0_mlp = _Mlp(self.hidden_size, self.mlp_layers, name="f0_mlp")
        self.ld_mlp = _Mlp(self.hidden_size, self.mlp_layers, name="ld_mlp")
        self.gru = keras.layers.GRU(self.gru_units, return_sequences=True, reset_after=True, name="gru")
        self.out_mlp = _Mlp(self.hidden_size, self.mlp_layers, name="out_mlp")
        self.dense = keras.layers.Dense(self.n_controls, name="dense")

    @property
    def n_controls(self) -> int:
        """1 + H + N."""
        return 1 + self.n_harmonics + self.n_noise_bands

    def build(self, input_shape=None):
        hidden = self.hidden_size
        self.f0_mlp.build((None, 1))
        self.ld_mlp.build((None, 1))
        self.gru.build((None, None, 2 * hidden))
        self.out_mlp.build((None, self.gru_units + 2 * hidden))
        self.dense.build((None, hidden))
        self.built = True

    def _inputs(self, f0_hz, loudness_db):
        f0 = hz_to_midi(f0_hz)[..., None] / 127.0
        ld = tf.cast(loudness_db, tf.float32)[..., None] / DB_RANGE + 1.0
        return self.f0_mlp(f0), self.ld_mlp(ld)

    def _controls(self, raw):
        h = self.n_harmonics
        amplitude = exp_sigmoid(raw[..., :1])
        distribution = exp_sigmoid(raw[..., 1 : 1 + h])
        noise = exp_sigmoid(raw[..., 1 + h :] + _NOISE_BIAS)
        return amplitude, distribution, noise

    def call(self, f0_hz, loudness_db):
        x_f, x_l = self._inputs(f0_hz, loudness_db)
        state = self._gru_sequence(tf.concat([x_f, x_l], axis=-1))
        y = self.out_mlp(tf.concat([state, x_f, x_l], axis=-1))
        amplitude, distribution, noise = self._controls(self.dense(y))
        return {
            "amplitude": amplitude,
            "harmonic_distribution": distribution,
            "noise_magnitudes": noise,
            "controls": tf.concat([amplitude, distribution, noise], axis=-1),
        }

    def _gru_sequence(self, x):
        """``self.gru`` over [B, T, 2*hidden] → [B, T, G], with the fast backward pass of :mod:`._gru`."""
        cell = self.gru.cell
        bias = tf.convert_to_tensor(cell.bias)
        xp = tf.matmul(x, tf.convert_to_tensor(cell.kernel)) + bias[0]  # [B, T, 3G]
        states = gru_recurrence(tf.transpose(xp, [1, 0, 2]), tf.convert_to_tensor(cell.recurrent_kernel), bias[1])
        return tf.transpose(states, [1, 0, 2])

    def step(self, f0_hz, loudness_db, state):
        """One control frame with an explicit GRU state (same weights as :meth:`call`).

        Args:
            f0_hz: [V, 1] Hz. loudness_db: [V, 1] dB. state: [V, G] (zeros for a fresh voice).

        Returns:
            (controls [V, 1+H+N] = amplitude | harmonic_distribution | noise_magnitudes, new state [V, G]).
        """
        x_f, x_l = self._inputs(f0_hz[..., 0], loudness_db[..., 0])
        new_state, _ = self.gru.cell(tf.concat([x_f, x_l], axis=-1), [state])
        y = self.out_mlp(tf.concat([new_state, x_f, x_l], axis=-1))
        amplitude, distribution, noise = self._controls(self.dense(y))
        return tf.concat([amplitude, distribution, noise], axis=-1), new_state

    # -- weights in the decoder.npz layout ---------------------------------------------------

    def weights_dict(self) -> dict[str, np.ndarray]:
        """All weights under the ``decoder.npz`` keys of docs/contracts.md (float32 numpy)."""
        out: dict[str, np.ndarray] = {}
        for name in _MLP_NAMES:
            mlp = getattr(self, name)
            for i, (dense, norm) in enumerate(zip(mlp.dense, mlp.norm, strict=True)):
                out[f"{name}/{i}/kernel"] = np.asarray(dense.kernel, np.float32)
                out[f"{name}/{i}/bias"] = np.asarray(dense.bias, np.float32)
                out[f"{name}/{i}/gamma"] = np.asarray(norm.gamma, np.float32)
                out[f"{name}/{i}/beta"] = np.asarray(norm.beta, np.float32)
        cell = self.gru.cell
        out["gru/kernel"] = np.asarray(cell.kernel, np.float32)
        out["gru/recurrent_kernel"] = np.asarray(cell.recurrent_kernel, np.float32)
        out["gru/bias"] = np.asarray(cell.bias, np.float32)
        out["dense/kernel"] = np.asarray(self.dense.kernel, np.float32)
        out["dense/bias"] = np.asarray(self.dense.bias, np.float32)
        return out

    def _variables_by_key(self) -> dict[str, keras.Variable]:
        out = {}
        for name in _MLP_NAMES:
            mlp = getattr(self, name)
            for i, (dense, norm) in enumerate(zip(mlp.dense, mlp.norm, strict=True)):
                out[f"{name}/{i}/kernel"] = dense.kernel
                out[f"{name}/{i}/bias"] = dense.bias
                out[f"{name}/{i}/gamma"] = norm.gamma
                out[f"{name}/{i}/beta"] = norm.beta
        cell = self.gru.cell
        out["gru/kernel"] = cell.kernel
        out["gru/recurrent_kernel"] = cell.recurrent_kernel
        out["gru/bias"] = cell.bias
        out["dense/kernel"] = self.dense.kernel
        out["dense/bias"] = self.dense.bias
        return out

    def set_weights_dict(self, weights, source: str = "decoder weights") -> None:
        """Load weights given under the ``decoder.npz`` keys.

        Raises :class:`DecoderWeightsError` naming ``source`` and the key when a key
        is missing or its shape differs; nothing is assigned unless every key fits.
        """
        targets = self._variables_by_key()
        arrays = {}
        for key, variable in targets.items():
            if key not in weights:
                raise DecoderWeightsError(f"{source}: missing decoder weight {key!r}")
            value = np.asarray(weights[key], np.float32)
            if tuple(value.shape) != tuple(variable.shape):
                raise DecoderWeightsError(
                    f"{source}: {key!r} has shape {tuple(value.shape)}, the decoder needs {tuple(variable.shape)} "
                    "(a different learnerProfile model size?)"
                )
            arrays[key] = value
        for key, variable in targets.items():
            variable.assign(arrays[key])

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_size": self.hidden_size,
            "mlp_layers": self.mlp_layers,
            "gru_units": self.gru_units,
            "n_harmonics": self.n_harmonics,
            "n_noise_bands": self.n_noise_bands,
        }
