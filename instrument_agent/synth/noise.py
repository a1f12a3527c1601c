"""Filtered noise: white noise shaped per control frame by a linear-phase FIR.

The decoder's N noise bands span 0 .. model_sample_rate / 2 evenly. At an
output rate above the model's, the bands are mapped onto a finer grid that
spans 0 .. sample_rate / 2 with the same Hz per band (linear interpolation,
zero above the model's Nyquist), so the noise keeps its colour at any rate.

Each frame's impulse response is designed by frequency sampling (DDSP's
``frequency_impulse_response``): zero-phase inverse real FFT of the
magnitudes, shifted to causal (linear phase) and Hann-windowed, length
``2 * (bands - 1)``. Filtering is a streaming FFT overlap-add: the input noise
of a segment is convolved with the IR of the frame it belongs to, and the
convolution tail is carried to the next segment, so any segmentation gives
the same output. The filter is causal: its group delay is ``ir_size / 2``
samples of a noise that is random anyway (DDSP compensates it by reading
future noise; a streaming engine cannot read future magnitudes).
"""

from __future__ import annotations

import numpy as np

__all__ = ["FilteredNoise", "NoiseFilterDesign"]


class NoiseFilterDesign:
    """Turns decoder noise magnitudes into impulse responses at the output rate.

    Args:
        n_bands: N, the decoder's noise bands.
        model_sample_rate: Hz the model was trained at (bands span its Nyquist).
        sample_rate: output Hz.

    Attributes:
        ir_size: L, samples per impulse response (``2 * (output bands - 1)``).
    """

    def __init__(self, n_bands: int, model_sample_rate: float, sample_rate: float):
        if n_bands < 2:
            raise ValueError(f"noise needs at least 2 bands, got {n_bands}")
        self.n_bands = n_bands
        self.model_sample_rate = float(model_sample_rate)
        self.sample_rate = float(sample_rate)
        band_hz = self.model_sample_rate / 2.0 / (n_bands - 1)
        out_bands = max(2, int(round(self.sample_rate / 2.0 / band_hz)) + 1)
        self.out_bands = out_bands
        self.ir_size = 2 * (out_bands - 1)
        if out_bands == n_bands and self.sample_rate == self.model_sample_rate:
            self._map = None
        else:
            model_hz = np.arange(n_bands) * band_hz
            out_hz = np.linspace(0.0, self.sample_rate / 2.0, out_bands)
            # [N, N_out] linear-interpolation matrix, zero above the model's Nyquist.
            mapping = np.zeros((n_bands, out_bands), dtype=np.float32)
            for j, hz in enumerate(out_hz):
                if hz > model_hz[-1] + 1e-6:
                    continue
                pos = min(hz / band_hz, n_bands - 1.0)
                i = min(int(np.floor(pos)), n_bands - 2)
                frac = pos - i
                mapping[i, j] += 1.0 - frac
                mapping[i + 1, j] += frac
            self._map = mapping
        n = np.arange(self.ir_size)
        self._window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.ir_size)).astype(np.float32)  # periodic Hann
        # Shifting the zero-phase response by L/2 (to causal) is (-1)^m on bin m: folded into the band map.
        sign = np.where(np.arange(out_bands) % 2, -1.0, 1.0).astype(np.float32)
        self._sign = sign
        self._shift_map = None if self._map is None else self._map * sign[None, :]

    def impulse_responses(self, magnitudes: np.ndarray, gain: np.ndarray | float = 1.0) -> np.ndarray:
        """Causal linear-phase FIRs.

        Args:
            magnitudes: [V, N] linear band magnitudes (decoder output).
            gain: scalar or [V] linear gain (the playerProfile's noise gain).

        Returns:
            [V, L] float32 impulse responses.
        """
        mags = np.asarray(magnitudes, dtype=np.float32)
        gain = np.asarray(gain, dtype=np.float32)
        if self._shift_map is not None:
            mags = mags @ self._shift_map
            mags *= gain[:, None] if gain.ndim else gain
        else:
            mags = mags * (gain[:, None] * self._sign if gain.ndim else gain * self._sign)
        ir = np.fft.irfft(mags, n=self.ir_size, axis=-1).astype(np.float32, copy=False)
        ir *= self._window
        return ir


class FilteredNoise:
    """Streaming overlap-add filter bank, one slot per voice.

    Args:
        capacity: number of voice slots.
        ir_size: L (:attr:`NoiseFilterDesign.ir_size`).

    The carried convolution tail of each slot is ``[L - 1]`` samples;
    :meth:`reset` clears a slot when a new voice takes it.
    """

    def __init__(self, capacity: int, ir_size: int):
        self.ir_size = ir_size
        self._tail = np.zeros((capacity, max(ir_size - 1, 0)), dtype=np.float32)

    @property
    def capacity(self) -> int:
        """Number of voice slots."""
        return self._tail.shape[0]

    def grow(self, capacity: int) -> None:
        """Make room for ``capacity`` slots; the existing slots keep their tails."""
        tail = np.zeros((capacity, self._tail.shape[1]), dtype=np.float32)
        tail[: self.capacity] = self._tail
        self._tail = tail

    def reset(self, slots: np.ndarray | list[int]) -> None:
        """Forget the carried tail of ``slots``."""
        self._tail[np.asarray(slots, dtype=np.intp)] = 0.0

    @staticmethod
    def spectrum(impulse_responses: np.ndarray, n_fft: int) -> np.ndarray:
        """[V, n_fft/2+1] complex64 spectra of [V, L] impulse responses."""
        return np.fft.rfft(impulse_responses, n=n_fft, axis=-1).astype(np.complex64)

    @staticmethod
    def fft_size(n: int, ir_size: int) -> int:
        """Power-of-two FFT size for an n-sample segment."""
        return 1 << int(np.ceil(np.log2(max(n + ir_size - 1, 2))))

    def process(self, slots: np.ndarray, noise: np.ndarray, spectra: np.ndarray, n_fft: int) -> np.ndarray:
        """Filter one segment.

        Args:
            slots: [V] slot indices (whose tails to use and update).
            noise: [V, n] white noise of the segment.
            spectra: [V, n_fft/2+1] from :meth:`spectrum` of each voice's current IR.
            n_fft: FFT size, ``>= n + L - 1`` (:meth:`fft_size`).

        Returns:
            [V, n] float32 filtered noise.
        """
        slots = np.asarray(slots, dtype=np.intp)
        n = noise.shape[-1]
        tail_len = self._tail.shape[1]
        full = np.fft.irfft(np.fft.rfft(noise, n=n_fft, axis=-1) * spectra, n=n_fft, axis=-1)[:, : n + tail_len]
        full = full.astype(np.float32)
        full[:, :tail_len] += self._tail[slots]
        self._tail[slots] = full[:, n : n + tail_len]
        return full[:, :n]

    def process_pieces(
        self, slots: np.ndarray, noise: np.ndarray, spectra: np.ndarray, lengths: np.ndarray, n_fft: int
    ) -> np.ndarray:
        """Filter P consecutive pieces, each with its own IR, in one batched FFT.

        The same output as P :meth:`process` calls (up to float rounding).

        Args:
            slots: [V] slot indices.
            noise: [V, n] white noise, ``n = sum(lengths)``.
            spectra: [P, V, n_fft/2+1] spectra of the IR each piece uses.
            lengths: [P] samples per piece.
            n_fft: ``>= max(lengths) + L - 1`` (:meth:`fft_size`).

        Returns:
            [V, n] float32 filtered noise.
        """
        lengths = np.asarray(lengths, dtype=np.int64)
        if lengths.size == 1:
            return self.process(slots, noise, spectra[0], n_fft)
        slots = np.asarray(slots, dtype=np.intp)
        voices, n = noise.shape
        tail_len = self._tail.shape[1]
        longest = int(lengths.max())
        starts = np.zeros(lengths.size, dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        pieces = np.zeros((voices, lengths.size, longest), dtype=np.float32)
        for p, (lo, m) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
            pieces[:, p, :m] = noise[:, lo : lo + m]
        spec = np.fft.rfft(pieces, n=n_fft, axis=-1)
        spec *= spectra.transpose(1, 0, 2)
        full = np.fft.irfft(spec, n=n_fft, axis=-1)
        out = np.zeros((voices, n + tail_len), dtype=np.float32)
        out[:, :tail_len] = self._tail[slots]
        for p, (lo, m) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
            out[:, lo : lo + m + tail_len] += full[:, p, : m + tail_len]
        self._tail[slots] = out[:, n:]
        return out[:, :n]
