"""The hand-written GRU backward pass equals TensorFlow's autodiff of keras.layers.GRU."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pipelines.ddsp._gru import gru_recurrence


def test_states_and_gradients_match_keras_gru():
    rng = np.random.default_rng(0)
    batch, frames, inputs, units = 3, 17, 6, 5
    x = tf.constant(rng.standard_normal((batch, frames, inputs)).astype(np.float32))
    weight = tf.constant(rng.standard_normal((batch, frames, units)).astype(np.float32))
    gru = keras.layers.GRU(units, return_sequences=True, reset_after=True)
    gru.build((None, frames, inputs))
    gru.cell.bias.assign(rng.normal(0, 0.5, (2, 3 * units)).astype(np.float32))
    cell = gru.cell
    variables = [cell.kernel, cell.recurrent_kernel, cell.bias]

    with tf.GradientTape() as tape:
        reference = gru(x)
        loss_ref = tf.reduce_sum(reference * weight)
    grads_ref = tape.gradient(loss_ref, variables)

    with tf.GradientTape() as tape:
        xp = tf.matmul(x, cell.kernel) + cell.bias[0]
        states = tf.transpose(
            gru_recurrence(tf.transpose(xp, [1, 0, 2]), cell.recurrent_kernel, cell.bias[1]), [1, 0, 2]
        )
        loss = tf.reduce_sum(states * weight)
    grads = tape.gradient(loss, variables)

    np.testing.assert_allclose(states.numpy(), reference.numpy(), atol=1e-6)
    for got, want in zip(grads, grads_ref, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
