"""A GRU sequence (Keras ``GRUCell`` maths, ``reset_after=True``) with a hand-written backward pass.

Same weights and result as ``keras.layers.GRU`` (gates z|r|h), faster on a
CPU: the input projection is one large matmul over all frames (done by the
caller), the backward loop carries only ``dh`` (one ``[B, 3G] @ [3G, G]``
matmul per frame), and the recurrent kernel's gradient is one large matmul
after the loop instead of an outer product per frame.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["gru_recurrence"]


def gru_recurrence(xp: tf.Tensor, recurrent_kernel: tf.Tensor, recurrent_bias: tf.Tensor) -> tf.Tensor:
    """Run the GRU recurrence from a zero state.

    Args:
        xp: [T, B, 3G] input projection ``x @ kernel + input_bias`` (time-major).
        recurrent_kernel: [G, 3G]. recurrent_bias: [3G].

    Returns:
        [T, B, G] states.
    """
    # Plain tensors: the custom gradient returns their gradients (no variable capture).
    xp = tf.convert_to_tensor(xp)
    recurrent_kernel = tf.convert_to_tensor(recurrent_kernel)
    recurrent_bias = tf.convert_to_tensor(recurrent_bias)
    units = recurrent_kernel.shape[0]

    @tf.custom_gradient
    def run(xp, kernel, bias):
        batch = tf.shape(xp)[1]
        h0 = tf.zeros([batch, units], xp.dtype)

        def step(carry, xt):
            h, _ = carry
            hr = tf.matmul(h, kernel) + bias
            zr = tf.sigmoid(xt[:, : 2 * units] + hr[:, : 2 * units])
            z, r = zr[:, :units], zr[:, units:]
            hh = tf.tanh(xt[:, 2 * units :] + r * hr[:, 2 * units :])
            return hh + z * (h - hh), hr

        hs, hrs = tf.scan(step, xp, initializer=(h0, tf.zeros([batch, 3 * units], xp.dtype)))

        def grad(dhs):
            h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # [T, B, G]
            zr = tf.sigmoid(xp[..., : 2 * units] + hrs[..., : 2 * units])
            z, r = zr[..., :units], zr[..., units:]
            hr_h = hrs[..., 2 * units :]
            hh = tf.tanh(xp[..., 2 * units :] + r * hr_h)
            a_h = (1.0 - z) * (1.0 - hh * hh)  # dh → d pre_h
            a_z = (h_prev - hh) * z * (1.0 - z)  # dh → d pre_z
            b_r = hr_h * r * (1.0 - r)  # d pre_h → d pre_r
            kernel_t = tf.transpose(kernel)

            def back(carry, inputs):
                dh_next = carry[0]
                g, ah, az, br, zt, rt = inputs
                dh = g + dh_next
                d_pre_h = dh * ah
                d_pre_zr = tf.concat([dh * az, d_pre_h * br], axis=-1)
                dhr = tf.concat([d_pre_zr, d_pre_h * rt], axis=-1)  # [B, 3G]
                return dh * zt + tf.matmul(dhr, kernel_t), dhr, d_pre_h

            zeros_g = tf.zeros_like(h0)
            _, dhrs, d_pre_hs = tf.scan(
                back,
                (dhs, a_h, a_z, b_r, z, r),
                initializer=(zeros_g, tf.zeros([batch, 3 * units], xp.dtype), zeros_g),
                reverse=True,
            )
            dxp = tf.concat([dhrs[..., : 2 * units], d_pre_hs], axis=-1)
            flat_dhr = tf.reshape(dhrs, [-1, 3 * units])
            d_kernel = tf.matmul(tf.reshape(h_prev, [-1, units]), flat_dhr, transpose_a=True)
            return dxp, d_kernel, tf.reduce_sum(flat_dhr, axis=0)

        return hs, grad

    return run(xp, recurrent_kernel, recurrent_bias)
