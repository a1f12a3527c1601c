"""Streaming convolution reverb with the personality's learned impulse response.

``wet = dry * ir`` (full convolution, no added latency). The first
``partition`` taps are applied directly to each block (head); the rest by a
uniformly partitioned overlap-save convolution in the frequency domain (tail),
whose output for a partition only needs input that is already in the past.
So any block size gives the same output (up to float rounding), and the cost
per sample does not grow with the block's shortness.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Reverb", "resample_impulse_response"]


def resample_impulse_response(ir: np.ndarray, from_rate: float, to_rate: float) -> np.ndarray:
    """Band-limited resampling of an impulse response (FFT zero-padding).

    Keeps the continuous-time response: a 16 kHz IR played at 48 kHz has 3×
    the taps, each a third as large, so the reverb's level is unchanged.

    Args:
        ir: [L] float taps at ``from_rate``.
    Returns:
        [round(L * to_rate / from_rate)] float32 taps at ``to_rate``.
    """
    ir = np.asarray(ir, dtype=np.float64)
    if from_rate == to_rate or ir.size == 0:
        return ir.astype(np.float32)
    n_out = max(1, int(round(ir.size * to_rate / from_rate)))
    spectrum = np.fft.rfft(ir)
    return np.fft.irfft(spectrum, n=n_out).astype(np.float32)


class Reverb:
    """Convolution reverb, streaming.

    Args:
        ir: [L] impulse response at the output rate (see :func:`resample_impulse_response`).
        partition: P, head length and tail partition size, samples.

    Call :meth:`process` with consecutive blocks of any length.
    """

    def __init__(self, ir: np.ndarray, partition: int = 256):
        ir = np.asarray(ir, dtype=np.float32).ravel()
        self.partition = partition = int(partition)
        self._head = ir[:partition].copy()
        tail = ir[partition:]
        self._n_parts = int(np.ceil(tail.size / partition))
        if self._n_parts:
            padded = np.zeros(self._n_parts * partition, dtype=np.float32)
            padded[: tail.size] = tail
            blocks = padded.reshape(self._n_parts, partition)
            self._tail_spectra = np.fft.rfft(blocks, n=2 * partition, axis=-1).astype(np.complex64)  # [K, P+1]
        self.reset()

    def reset(self) -> None:
        """Silence: forget the input history and the pending tail."""
        p = self.partition
        self._head_hist = np.zeros(max(self._head.size - 1, 0), dtype=np.float32)
        self._in = np.zeros(2 * p, dtype=np.float32)  # input partitions q-2, q-1 (for the next FFT)
        self._in_fill = p  # samples of partition q-1 written so far (offset p)
        self._fdl = np.zeros((max(self._n_parts, 1), p + 1), dtype=np.complex64) if self._n_parts else None
        self._fdl_pos = 0
        self._out_tail = np.zeros(p, dtype=np.float32)  # tail output of the current partition
        self._out_pos = 0  # next sample of the current output partition
        self._started = False

    def _head_conv(self, x: np.ndarray) -> np.ndarray:
        taps = self._head.size
        if taps == 0:
            return np.zeros_like(x)
        ext = np.concatenate([self._head_hist, x])
        if x.size > 2048:
            n_fft = 1 << int(np.ceil(np.log2(ext.size + taps - 1)))
            full = np.fft.irfft(np.fft.rfft(ext, n_fft) * np.fft.rfft(self._head, n_fft), n_fft)
            y = full[taps - 1 : taps - 1 + x.size].astype(np.float32)
        else:
            y = np.convolve(ext, self._head, mode="valid").astype(np.float32)
        self._head_hist = ext[ext.size - (taps - 1) :] if taps > 1 else self._head_hist
        return y

    def _next_tail_partition(self) -> None:
        """The input partition just completed: push its spectrum, compute the next output partition."""
        p = self.partition
        spectrum = np.fft.rfft(self._in, n=2 * p).astype(np.complex64)
        self._fdl_pos = (self._fdl_pos - 1) % self._n_parts
        self._fdl[self._fdl_pos] = spectrum
        order = (self._fdl_pos + np.arange(self._n_parts)) % self._n_parts
        acc = np.einsum("kb,kb->b", self._fdl[order], self._tail_spectra)
        self._out_tail = np.fft.irfft(acc, n=2 * p)[p:].astype(np.float32)
        self._in[:p] = self._in[p:]
        self._in_fill = p

    def process(self, x: np.ndarray) -> np.ndarray:
        """Wet signal for the block ``x`` ([n] float32); returns [n] float32."""
        x = np.asarray(x, dtype=np.float32)
        y = self._head_conv(x)
        if not self._n_parts:
            return y
        p = self.partition
        i = 0
        n = x.size
        while i < n:
            take = min(n - i, 2 * p - self._in_fill, p - self._out_pos)
            self._in[self._in_fill : self._in_fill + take] = x[i : i + take]
            self._in_fill += take
            y[i : i + take] += self._out_tail[self._out_pos : self._out_pos + take]
            self._out_pos += take
            i += take
            if self._in_fill == 2 * p:
                self._next_tail_partition()
                self._out_pos = 0
        return y
