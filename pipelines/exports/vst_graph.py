"""The personality's decoder as DDSP-VST's ``call`` function, in TensorFlow ops from ``decoder.npz``.

DDSP-VST (magenta/ddsp-vst ``src/util/Constants.h``) runs one control frame per call::

    call_f0_scaled:0 [1]   MIDI note / 127
    call_pw_scaled:0 [1]   power_db / 80 + 1   (RMS power of a 1024-sample frame, dB re 1.0)
    call_state:0     [512] GRU state
  -> StatefulPartitionedCall:0 [1]   amplitude            (exp-sigmoid applied)
     StatefulPartitionedCall:1 [60]  harmonic distribution (exp-sigmoid applied; the plugin
                                      zeroes harmonics above 8 kHz and renormalises)
     StatefulPartitionedCall:2 [65]  noise magnitudes      (exp-sigmoid of raw - 5)
     StatefulPartitionedCall:3 [512] new GRU state

The graph is our decoder (pipelines/ddsp/decoders.py, docs/contracts.md) with the playerProfile
knobs that map exactly (:class:`PlayerKnobs`) and three exact transforms: the GRU state of
G <= 512 units is the first G entries of the plugin's 512 (the rest stay 0), a decoder with H < 60
harmonics gets 60 - H zero harmonics, and the power input goes through the fitted
:class:`~.power_map.PowerToLoudness` to the A-weighted loudness our decoder was trained on. The
weights are variables in the SavedModel (so the call is a ``StatefulPartitionedCall``, whose output
names the plugin looks for); the converter freezes them: builtin TFLite ops only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .power_map import PowerToLoudness

__all__ = ["VST_HARMONICS", "VST_NOISE_BANDS", "VST_STATE", "PlayerKnobs", "vst_call"]

VST_STATE = 512
VST_HARMONICS = 60
VST_NOISE_BANDS = 65
_DB_RANGE = 80.0
_NOISE_BIAS = -5.0


@dataclass(frozen=True)
class PlayerKnobs:
    """The playerProfile knobs the graph can carry exactly (the engine's maths, docs/contracts.md):
    ``loudness_offset_db`` added to the loudness (then clipped to <= 0 dB), ``gain_db`` on the amplitude
    and the noise, ``noise_gain_db`` on the noise, ``harmonic_tilt`` (dB/octave) on the distribution
    (the plugin renormalises after removing harmonics above Nyquist, as the engine does)."""

    loudness_offset_db: float = 0.0
    gain_db: float = 0.0
    noise_gain_db: float = 0.0
    harmonic_tilt: float = 0.0

    @classmethod
    def from_profile(cls, profile) -> PlayerKnobs:
        return cls(profile.loudness_offset_db, profile.gain_db, profile.noise_gain_db, profile.harmonic_tilt)


def _exp_sigmoid(x):
    """DDSP's exp_sigmoid: 2 * sigmoid(x) ** ln(10) + 1e-7."""
    return 2.0 * tf.pow(tf.sigmoid(x), float(np.log(10.0))) + 1e-7


def vst_call(
    weights: dict[str, np.ndarray], n_harmonics: int, power_map: PowerToLoudness, knobs: PlayerKnobs = PlayerKnobs()
):
    """A ``tf.Module`` whose ``call(f0_scaled [1], pw_scaled [1], state [512])`` (a ``tf.function``)
    returns the 4-tuple above, for decoder weights in the ``decoder.npz`` layout.

    Args:
        weights: the ``decoder.npz`` arrays (float32).
        n_harmonics: H (<= 60), from the learnerProfile.
        power_map: the power -> loudness map folded into the graph.
        knobs: the playerProfile knobs folded into it.
    """
    # Variables, not constants: a function that reads variables is saved as a StatefulPartitionedCall,
    # which names the outputs the plugin looks for; the converter freezes them (read-only) into constants.
    c = {key: tf.Variable(np.asarray(value, np.float32), trainable=False) for key, value in weights.items()}
    layers = 0
    while f"f0_mlp/{layers}/kernel" in weights:
        layers += 1
    gru_units = int(weights["gru/recurrent_kernel"].shape[0])

    def mlp(x, name):
        for i in range(layers):
            x = tf.matmul(x, c[f"{name}/{i}/kernel"]) + c[f"{name}/{i}/bias"]
            mean = tf.reduce_mean(x, axis=-1, keepdims=True)
            var = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
            x = (x - mean) * tf.math.rsqrt(var + 1e-3) * c[f"{name}/{i}/gamma"] + c[f"{name}/{i}/beta"]
            x = tf.nn.leaky_relu(x, alpha=0.2)
        return x

    @tf.function(
        input_signature=[
            tf.TensorSpec([1], tf.float32, name="f0_scaled"),
            tf.TensorSpec([1], tf.float32, name="pw_scaled"),
            tf.TensorSpec([VST_STATE], tf.float32, name="state"),
        ]
    )
    def call(f0_scaled, pw_scaled, state):
        f0 = tf.reshape(f0_scaled, [1, 1])
        power_db = (tf.reshape(pw_scaled, [1, 1]) - 1.0) * _DB_RANGE
        loudness_db = tf.minimum(power_map.tf_apply(power_db, f0 * 127.0) + knobs.loudness_offset_db, 0.0)
        x = tf.concat([mlp(f0, "f0_mlp"), mlp(loudness_db / _DB_RANGE + 1.0, "ld_mlp")], axis=-1)
        h = tf.reshape(state, [1, VST_STATE])[:, :gru_units]
        g = gru_units
        xp = tf.matmul(x, c["gru/kernel"]) + c["gru/bias"][0]
        hr = tf.matmul(h, c["gru/recurrent_kernel"]) + c["gru/bias"][1]
        z = tf.sigmoid(xp[:, :g] + hr[:, :g])
        r = tf.sigmoid(xp[:, g : 2 * g] + hr[:, g : 2 * g])
        hh = tf.tanh(xp[:, 2 * g :] + r * hr[:, 2 * g :])
        new_h = z * h + (1.0 - z) * hh
        y = mlp(tf.concat([new_h, x], axis=-1), "out_mlp")
        raw = tf.matmul(y, c["dense/kernel"]) + c["dense/bias"]
        gain = float(10.0 ** (knobs.gain_db / 20.0))
        amplitude = _exp_sigmoid(raw[0, :1]) * gain
        harmonics = _exp_sigmoid(raw[0, 1 : 1 + n_harmonics])
        if knobs.harmonic_tilt:
            octaves = np.log2(np.arange(1, n_harmonics + 1, dtype=np.float64))
            harmonics = harmonics * tf.constant((10.0 ** (knobs.harmonic_tilt * octaves / 20.0)).astype(np.float32))
        if n_harmonics < VST_HARMONICS:
            harmonics = tf.concat([harmonics, tf.zeros([VST_HARMONICS - n_harmonics])], axis=0)
        noise = _exp_sigmoid(raw[0, 1 + n_harmonics :] + _NOISE_BIAS) * (
            gain * float(10.0 ** (knobs.noise_gain_db / 20.0))
        )
        new_state = tf.reshape(new_h, [gru_units])
        if gru_units < VST_STATE:
            new_state = tf.concat([new_state, tf.zeros([VST_STATE - gru_units])], axis=0)
        return amplitude, harmonics, noise, new_state

    holder = tf.Module(name="ddsp_vst")
    holder.weights = list(c.values())  # tracked, so the SavedModel holds them
    holder.call = call
    return holder
