"""The audio half of :class:`~instrument_agent.engine.Engine`: blocks cut into spans between
events, each span rendered for all sounding voices with batched numpy calls.

Between two events the engine renders a whole span of control frames at once:
the decoder steps frame after frame, then amplitudes, noise filters,
oscillators and envelopes are computed for the whole span
(:func:`~instrument_agent.synth.harmonic_pieces`,
:meth:`~instrument_agent.synth.FilteredNoise.process_pieces`).
"""

from __future__ import annotations

import heapq

import numpy as np

from instrument_agent.synth import FilteredNoise, harmonic_track

__all__ = ["MAX_SPAN_FRAMES", "SpanRenderer"]

MAX_SPAN_FRAMES = 32  # control frames rendered in one batch at most (bounds memory)


class SpanRenderer:
    """:meth:`render` for :class:`~instrument_agent.engine.Engine`, which provides the voices
    (``_bank``, ``_noise``, ``_envelope``), the control-frame steps (``_advance``,
    ``_spectra_for``, ``_speculate``) and the events (``_handle_events``)."""

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` samples ([n] float32), acting on queued events at their samples."""
        n = int(n)
        out = np.zeros(n, dtype=np.float32)
        t, end = self.time, self.time + n
        while t < end:
            if t >= self._boundary(self._frame + 1):
                live = self._bank.live()
                if live.size:
                    self._advance(live, 1, self._spec_nfft)
                else:
                    self._frame += 1
            self._handle_events(t)
            stop = min(end, self._boundary(self._frame + MAX_SPAN_FRAMES))
            if self._events:
                stop = min(stop, max(self._events[0][0], t + 1))
            stop = min(stop, self._bank.next_end(t + 1))
            expression = self._expression
            after: list = []
            if expression and expression[0][0] < stop:
                # At most one boundary inside the span: its step sees the messages before it, the
                # messages after it act after the step (a block crossing a boundary stays one span).
                first = self._boundary_after(t)
                if first < stop:
                    stop = min(stop, self._boundary_after(first))
                before = []
                while expression and expression[0][0] < min(first, stop):
                    at, _, message = heapq.heappop(expression)
                    before.append((at, message))
                self._apply_expression(before)
                while expression and expression[0][0] < stop:
                    at, _, message = heapq.heappop(expression)
                    after.append((at, message))
            self._render_span(t, stop, out, after)
            t = stop
        if self._reverb is not None:
            wet = self._reverb.process(out)
            if self._reverb_mix:
                out += self._reverb_mix * wet
        self.time = end
        # Blocks shorter than a control frame: do part of the next boundary's work now.
        blocks_left = (self._boundary(self._frame + 1) - end) // n if n else 0
        if blocks_left >= 1 and self._bank.live().size:
            self._speculate(blocks_left)
        return out * np.float32(self._gain)

    def _boundary_after(self, t: int) -> int:
        """The first control-frame boundary after sample ``t``."""
        k = int(t * self.frame_rate // self.sample_rate)
        while self._boundary(k) <= t:
            k += 1
        return self._boundary(k)

    def _render_span(self, start: int, stop: int, out: np.ndarray, after: list | None = None) -> None:
        """Render ``[start, stop)`` (no note event inside; it may cross control-frame boundaries);
        ``after``: expression messages inside the span that act after its boundary's step."""
        b = self._bank
        bounds = []
        k = self._frame
        while (bound := self._boundary(k + 1 + len(bounds))) < stop:
            bounds.append(bound)
        idx = b.live()
        frames = len(bounds)
        if not idx.size:
            self._frame += frames
            self._apply_expression(after or [])
            return
        # Pieces: the rest of the current frame, whole frames, the start of the last one.
        lengths = [e - s for s, e in zip([start] + bounds, bounds + [stop], strict=True)]
        n_fft = FilteredNoise.fft_size(max(lengths), self._noise_design.ir_size)
        spectra = self._spectra_for(idx, n_fft)[None]
        b0, b1 = self._boundary(k), self._boundary(k + 1)
        w0 = (start - b0) / (b1 - b0)  # position of the span's start in the current frame
        a_prev, a_cur = b.amps_prev[idx], b.amps_cur[idx]
        f_prev, f_cur = b.f0_prev[idx], b.f0_cur[idx]
        if frames:
            new_amps, new_f0, new_spectra = self._advance(idx, frames, n_fft)
            self._apply_expression(after or [])
            last0, last1 = bounds[-1], self._boundary(k + frames + 1)
            w1 = (stop - last0) / (last1 - last0)  # position of the span's end in the last frame
            amps = np.concatenate([a_cur[None], new_amps])  # values at each piece's frame end
            amps_start, amps_end = np.concatenate([a_prev[None], amps[:-1]]), amps.copy()
            f0 = np.concatenate([f_cur[None], new_f0])
            f0_start, f0_end = np.concatenate([f_prev[None], f0[:-1]]), f0.copy()
            spectra = np.concatenate([spectra, new_spectra])
            if w0:
                amps_start[0] += (a_cur - a_prev) * np.float32(w0)
                f0_start[0] += (f_cur - f_prev) * w0
            amps_end[-1] = amps_start[-1] + (amps[-1] - amps_start[-1]) * np.float32(w1)
            f0_end[-1] = f0_start[-1] + (f0[-1] - f0_start[-1]) * w1
        else:
            w1 = (stop - b0) / (b1 - b0)
            d_amps, d_f0 = a_cur - a_prev, f_cur - f_prev
            amps_start, amps_end = (a_prev + d_amps * np.float32(w0))[None], (a_prev + d_amps * np.float32(w1))[None]
            f0_start, f0_end = (f_prev + d_f0 * w0)[None], (f_prev + d_f0 * w1)[None]
        harm, b.phase[idx] = harmonic_track(
            b.phase[idx],
            self._f0_track(idx, start, stop, f0_start, f0_end, lengths),
            amps_start,
            amps_end,
            lengths,
            self.sample_rate,
        )
        harm += self._noise.process_pieces(idx, b.white(idx, stop - start), spectra, lengths, n_fft)
        target = out[start - self.time : stop - self.time]
        env = self._envelope
        if env.holds_sustain(b.on[idx], b.off[idx], start, stop).all():  # every voice at its sustain level
            target += np.float32(env.sustain) * harm.sum(axis=0)
        else:
            t = np.arange(start, stop, dtype=np.float64)
            gains = env.levels(b.on[idx], b.off[idx], b.off_level[idx], b.release_len[idx], t).astype(np.float32)
            target += np.einsum("vn,vn->n", gains, harm)
        self._span_glides.clear()
        # Free voices whose release ended.
        done = (b.off[idx] + b.release_len[idx]) <= stop
        for s in idx[done].tolist():
            b.free(s)

    def _f0_track(self, idx, start, stop, f0_start, f0_end, lengths) -> np.ndarray:
        """[V, n] float64 oscillator f0 of voices ``idx``: MIDI voices' glides, curve voices' f0
        moving linearly over each piece from ``f0_start`` [P, V] to ``f0_end`` [P, V]."""
        curve = self._bank.curve[idx]
        track = np.empty((idx.size, stop - start))
        if not curve.all():
            track[~curve] = self._midi_track(idx[~curve], start, stop)
        if curve.any():
            rows = np.flatnonzero(curve)
            lo = 0
            for p, n in enumerate(lengths):
                j = np.arange(n, dtype=np.float64) / n
                a, d = f0_start[p][rows], f0_end[p][rows] - f0_start[p][rows]
                track[rows, lo : lo + n] = a[:, None] + d[:, None] * j[None, :]
                lo += n
        return track
