"""Streaming convolution reverb with the personality's learned impulse response.

``wet = dry * ir`` (full convolution, no added latency). The first
``partition`` taps are applied directly to each block (head); the rest by
uniformly partitioned overlap-save convolutions in the frequency domain, in
levels of growing partition size (``partition``, 4×, 16×, ... up to
``max_partition``): level ``P`` covers taps ``[P, 4P)`` (the last level the
rest), so the output of each of its partitions only needs input that is
already in the past. Each level processes every partition a block completes
in one batched FFT, so any block size gives the same output (up to float
rounding) and the cost per sample neither grows with the block's shortness
nor with the IR's length as fast as a single partition size would.
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


class _Level:
    """Overlap-save convolution of the input with ``taps`` delayed by P samples
    (``taps[i]`` acts at lag ``P + i``), in partitions of P samples.

    The spectra of the last K input windows sit in a ring (a frequency-domain delay line);
    a completed partition's output is one multiply-and-sum over all K at once (a Python
    loop over 190 partitions of a 128-sample level cost 0.4 ms a block; this, 15 µs)."""

    def __init__(self, taps: np.ndarray, size: int):
        self.size = p = size
        self.parts = k = max(1, int(np.ceil(taps.size / p)))
        padded = np.zeros(k * p, dtype=np.float32)
        padded[: taps.size] = taps
        spectra = np.fft.rfft(padded.reshape(k, p), n=2 * p, axis=-1).astype(np.complex64)  # [K, P+1]
        # Twice over, newest-first order reversed: ring slot j at position ``pos`` multiplies
        # spectra[(pos - j) % K], which is _doubled[(K - 1 - pos) % K + j].
        self._doubled = np.concatenate([spectra[::-1], spectra[::-1]])
        self.reset()

    def reset(self) -> None:
        p = self.size
        self._input = np.zeros(p, dtype=np.float32)  # the last complete partition + the incomplete one
        self._ring = np.zeros((self.parts, p + 1), dtype=np.complex64)  # the last K window spectra
        self._products = np.empty_like(self._ring)
        self._pos = -1  # ring slot of the newest window
        self._pending = np.zeros(p, dtype=np.float32)  # output not yet emitted (of the current partition)

    def process(self, x: np.ndarray) -> np.ndarray:
        """This level's wet output for the block ``x`` ([n] float32)."""
        p, n = self.size, x.size
        if self._input.size - p + n < p:  # no input partition completes: the pending output suffices
            out = self._pending[:n]
            self._pending = self._pending[n:]
            self._input = np.concatenate([self._input, x])
            return out
        data = np.concatenate([self._input, x])
        complete = (data.size - p) // p  # input partitions this block completes
        if complete == 1:
            windows = data[None, : 2 * p]  # previous + completed partition
        else:
            parts = data[: (complete + 1) * p].reshape(complete + 1, p)
            windows = np.concatenate([parts[:-1], parts[1:]], axis=1)  # [C, 2P]
        spectra = np.fft.rfft(windows, axis=-1)  # [C, P+1]
        k = self.parts
        acc = np.empty((complete, p + 1), dtype=np.complex64)
        products = self._products
        for c in range(complete):
            self._pos = pos = (self._pos + 1) % k
            self._ring[pos] = spectra[c]
            start = (k - 1 - pos) % k
            np.multiply(self._ring, self._doubled[start : start + k], out=products)
            np.sum(products, axis=0, out=acc[c])
        produced = np.fft.irfft(acc, n=2 * p, axis=-1)[:, p:]  # the next C output partitions
        ready = np.concatenate([self._pending, produced.reshape(-1)]).astype(np.float32, copy=False)
        self._pending = ready[n:]
        self._input = data[complete * p :]
        return ready[:n]


class Reverb:
    """Convolution reverb, streaming.

    Args:
        ir: [L] impulse response at the output rate (see :func:`resample_impulse_response`).
        partition: P, head length and smallest partition, samples; None: sized for the first
            block (:meth:`partition_for`), so a live engine does the same work every block.
        max_partition: the largest partition (bounds the work done at one sample); None: P
            (uniform partitions, no level whose FFT lands in one block of many).

    Call :meth:`process` with consecutive blocks of any length.
    """

    def __init__(self, ir: np.ndarray, partition: int | None = 256, max_partition: int | None = 4096):
        self._ir = np.asarray(ir, dtype=np.float32).ravel()
        self._max_partition = max_partition
        self.partition = None
        self._levels: list[_Level] = []
        if partition is not None:
            self._build(int(partition), max_partition)
        self.reset()

    def _build(self, partition: int, max_partition: int | None) -> None:
        ir = self._ir
        self.partition = partition
        self._head = ir[:partition].copy()
        self._head_spectrum = None  # (n_fft, spectrum) of the head, for long blocks
        self._levels = []
        size, start = partition, partition
        top = partition if max_partition is None else max_partition
        while start < ir.size:
            last = size >= top
            end = ir.size if last else min(ir.size, 4 * size)
            self._levels.append(_Level(ir[start:end], size))
            start, size = end, size * 4
        self._head_hist = np.zeros(max(self._head.size - 1, 0), dtype=np.float32)

    @staticmethod
    def partition_for(block: int) -> int:
        """The partition sized for a block of ``block`` samples: the power of two at or above it,
        64..4096 (one FFT of twice the block per block, the same cost at every block)."""
        return int(min(4096, max(64, 1 << int(np.ceil(np.log2(max(block, 1)))))))

    def reset(self) -> None:
        """Silence: forget the input history and the pending tail."""
        if self.partition is None:
            return
        self._head_hist = np.zeros(max(self._head.size - 1, 0), dtype=np.float32)
        for level in self._levels:
            level.reset()

    def _head_conv(self, x: np.ndarray) -> np.ndarray:
        taps = self._head.size
        if taps == 0:
            return np.zeros_like(x)
        ext = np.concatenate([self._head_hist, x])
        if x.size > 2048:
            n_fft = 1 << int(np.ceil(np.log2(ext.size + taps - 1)))
            if self._head_spectrum is None or self._head_spectrum[0] != n_fft:
                self._head_spectrum = (n_fft, np.fft.rfft(self._head, n_fft))
            full = np.fft.irfft(np.fft.rfft(ext, n_fft) * self._head_spectrum[1], n_fft)
            y = full[taps - 1 : taps - 1 + x.size].astype(np.float32)
        else:
            y = np.convolve(ext, self._head, mode="valid").astype(np.float32)
        self._head_hist = ext[ext.size - (taps - 1) :] if taps > 1 else self._head_hist
        return y

    def process(self, x: np.ndarray) -> np.ndarray:
        """Wet signal for the block ``x`` ([n] float32); returns [n] float32."""
        x = np.asarray(x, dtype=np.float32)
        if self.partition is None:  # sized for the first block (uniform partitions)
            self._build(self.partition_for(x.size), self._max_partition)
        y = self._head_conv(x)
        for level in self._levels:
            y += level.process(x)
        return y
