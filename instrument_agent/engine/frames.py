"""The control-frame half of :class:`~instrument_agent.engine.Engine`: stepping the decoder of the
sounding voices at control-frame boundaries (or ahead of them, :mod:`~instrument_agent.engine.speculation`)
and turning its controls into harmonic amplitudes and noise filters."""

from __future__ import annotations

import numpy as np

from instrument_agent.synth import FilteredNoise, harmonic_amplitudes

from .speculation import FrameJob, Speculation

__all__ = ["FrameStepper"]


class FrameStepper:
    """Control-frame steps for :class:`~instrument_agent.engine.Engine`, which provides the decoder,
    the voices (``_bank``), the mapping and the noise design."""

    def _controls(self, controls: np.ndarray, f0: np.ndarray, gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Decoder controls [F, V, C], f0 [F, V] Hz, tilt gains [V, H] -> harmonic amplitudes
        [F, V, H] and noise IRs [F, V, L]."""
        frames, voices = controls.shape[:2]
        h = self.n_harmonics
        flat = controls.reshape(frames * voices, -1)
        gains = np.broadcast_to(gains, (frames, voices, h)).reshape(frames * voices, h)
        amps = harmonic_amplitudes(flat[:, 0], flat[:, 1 : 1 + h], f0.reshape(-1), self.nyquist_hz, gains)
        irs = self._noise_design.impulse_responses(flat[:, 1 + h :], self._noise_gain)
        return amps.reshape(frames, voices, h), irs.reshape(frames, voices, -1)

    def _frame_inputs(
        self, idx: np.ndarray, first: int, frames: int, *, commit: bool = True
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Encoded decoder inputs [F, V, E] and f0 [F, V] of voices ``idx`` at engine frames ``first..``,
        and the encodings it made for MIDI voices whose inputs changed: (slots [M], rows [M, E]).

        ``commit`` stores those at once. A speculated step does not (:meth:`_commit` when it is
        used): the voices encoded together must be those a boundary would encode together.
        """
        b = self._bank
        changed = np.flatnonzero(~b.curve[idx] & ~b.enc_ok[idx])
        todo = idx[changed]
        rows = self.decoder.encode(b.in_f0[todo], b.in_ld[todo]) if todo.size else None
        enc = np.empty((frames, idx.size, self.decoder.encoded_size), dtype=np.float32)
        enc[:] = b.enc[idx]
        if todo.size:
            enc[:, changed] = rows
            if commit:
                self._commit((todo, rows))
        f0 = np.empty((frames, idx.size))
        f0[:] = b.in_f0[idx]
        numbers = np.arange(first, first + frames)
        for i in np.flatnonzero(b.curve[idx]):
            source = b.source[idx[i]]
            enc[:, i] = source.encoded(self.decoder, numbers, self._mapping)
            f0[:, i] = source.values(numbers, self._mapping)[0]
        return enc, f0, (todo, rows)

    def _commit(self, encoded: tuple[np.ndarray, np.ndarray | None]) -> None:
        todo, rows = encoded
        if todo.size:
            self._bank.enc[todo] = rows
            self._bank.enc_ok[todo] = True

    def _speculate(self, blocks_left: int) -> None:
        """Advance the next boundary's step ahead (:mod:`~instrument_agent.engine.speculation`)."""
        # Once the next frame's inputs are frozen (:mod:`~instrument_agent.engine.expression`):
        # expression after that point moves the frame after, so it does not void the job.
        if self._mapping_dirty or self.time < self._freeze_time(self._frame + 1):
            return
        if self._frozen <= self._frame:
            self._freeze()
        idx = self._bank.live()
        job = self._speculation.due(self._frame + 1, idx, self._bank.stamp[idx], blocks_left)
        if job is not None:
            for _ in range(Speculation.stages_now(job, blocks_left)):
                self._job_stage(job)

    def _job_stage(self, job: FrameJob) -> None:
        """Run the next stage of a frame step: the decoder's stages, then amplitudes and
        noise filters, then filter spectra."""
        if job.controls is None:
            if job.steps is None:  # a stage of its own: encoding moving voices is the largest part
                job.enc, job.f0, job.encoded = self._frame_inputs(job.idx, job.frame, 1, commit=False)
                job.steps = self.decoder.stages(job.enc, self._bank.state[job.idx])
                job.stage += 1
                return
            try:
                next(job.steps)
            except StopIteration as done:
                job.controls, job.state = done.value
        elif job.amps is None:
            job.amps, job.irs = self._controls(job.controls, job.f0, self._bank.tilt_gain[job.idx])
        elif job.n_fft is None:
            job.n_fft = self._spec_nfft
            if self._spec_nfft:
                job.spectra = FilteredNoise.spectrum(job.irs[0], self._spec_nfft)[None]
        job.stage += 1

    def _advance(self, idx: np.ndarray, frames: int, n_fft: int = 0):
        """Step the decoder of voices ``idx`` at the next ``frames`` control-frame boundaries.

        Returns (amps [F, V, H], f0 [F, V], spectra [F, V, n_fft/2+1] or None)
        of those frames and makes the last one the current frame.
        """
        b = self._bank
        if self._frozen <= self._frame:
            self._freeze()
        self._frozen = max(self._frozen, self._frame + frames)
        if self._mapping_dirty:
            self._mapping_dirty = False
            b.stamp += 1  # the new mapping or noise gain voids a speculated step
            live = b.live()
            if live.size:
                self._refresh(live.tolist(), self._boundary(self._frame + 1))  # a new transpose glides from the step
        voices = idx.size
        spectra = None
        job = self._speculation.take(self._frame + 1, idx, b.stamp[idx], frames)
        if job is not None:
            while job.amps is None:  # finish what the blocks before did not
                self._job_stage(job)
            self._commit(job.encoded)
            amps, f0, irs, state = job.amps, job.f0, job.irs, job.state
            if n_fft and job.n_fft == n_fft:
                spectra = job.spectra
        else:
            enc, f0, _ = self._frame_inputs(idx, self._frame + 1, frames)
            controls, state = self.decoder.run(enc, b.state[idx])
            amps, irs = self._controls(controls, f0, b.tilt_gain[idx])
        b.state[idx] = state
        b.stamp[idx] += 1  # a new GRU state
        b.amps_prev[idx] = amps[-2] if frames > 1 else b.amps_cur[idx]
        b.f0_prev[idx] = f0[-2] if frames > 1 else b.f0_cur[idx]
        b.amps_cur[idx] = amps[-1]
        b.f0_cur[idx] = f0[-1]
        b.ir[idx] = irs[-1]
        if n_fft:
            if spectra is None:
                spectra = FilteredNoise.spectrum(irs.reshape(frames * voices, -1), n_fft).reshape(frames, voices, -1)
            if self._spec_nfft == n_fft:
                self._spec[idx] = spectra[-1]
                b.spec_ok[idx] = True
            else:
                b.spec_ok[idx] = False
        else:
            b.spec_ok[idx] = False
        self._frame += frames
        return amps, f0, spectra

    def _spectra_for(self, idx: np.ndarray, n_fft: int) -> np.ndarray:
        """[V, n_fft/2+1] spectra of the current noise IRs of ``idx`` (cached per FFT size)."""
        b = self._bank
        if self._spec_nfft != n_fft:
            self._spec_nfft = n_fft
            self._spec = np.zeros((b.capacity, n_fft // 2 + 1), dtype=np.complex64)
            b.spec_ok[:] = False
        todo = idx[~b.spec_ok[idx]]
        if todo.size:
            self._spec[todo] = FilteredNoise.spectrum(b.ir[todo], n_fft)
            b.spec_ok[todo] = True
        return self._spec[idx]
