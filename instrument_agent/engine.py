"""The streaming performance engine: MIDI/MPE (or f0/loudness curves) in, audio out.

Time is counted in output samples from the engine's start. Everything is
keyed to absolute sample times, never to block edges, so rendering the same
events with any block size (32..2048, or whole seconds offline) gives the
same audio up to float rounding:

* **Control frames** sit on a fixed grid, frame ``k`` at sample
  ``round(k · sample_rate / frame_rate)``. At each grid point every sounding
  voice's decoder steps once (voices batched) with the loudness and timbre
  its MIDI state gives at that instant; within the frame the harmonic
  amplitudes move linearly from the previous frame's controls to these, and
  the noise uses these. A pressure/CC change therefore reaches the decoder
  within one control frame.
* **Pitch** of a MIDI voice follows its note and bends at the event's own
  sample (phase-continuous, no click): the oscillators do not wait for a
  control frame, so a bend is heard within one block. Curve-driven voices
  (timbre transfer) interpolate f0 per frame, like their amplitudes.
* **Notes** start at their event's exact sample: the new voice's decoder
  steps at once (fresh GRU state) and its ADSR envelope, applied per sample,
  rises from 0, so onsets are click-free and add no latency. Note-off starts
  the envelope's release; a voice is freed when its release ends.
* **Polyphony**: one voice per note up to the playerProfile's ``max_voices``;
  above it the oldest releasing (else the oldest) voice is stolen with a
  5 ms fade.
* **State** carried across blocks: GRU state, oscillator phases, noise filter
  tails, per-voice noise generators, the reverb's input history and tail.

Speed: between two events the engine renders a whole span of control frames
at once: the decoder steps frame after frame (a held note's input projection
is computed once, :meth:`~instrument_agent.decoder.NumpyDecoder.encode`), then
amplitudes, noise filters, oscillators and envelopes are computed for the
whole span with batched numpy calls (:func:`~instrument_agent.synth.harmonic_pieces`,
:meth:`~instrument_agent.synth.FilteredNoise.process_pieces`).

The playerProfile is applied at render time (:meth:`Engine.set_player_profile`
takes effect at the next control frame, or for pitch at the next MIDI event if
one comes first; gain and reverb mix at the next block).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import mido
import numpy as np

from instrument_agent.midi import ControlMapping, MidiState
from instrument_agent.synth import (
    FilteredNoise,
    NoiseFilterDesign,
    Reverb,
    harmonic_amplitudes,
    harmonic_pieces,
    harmonic_tilt_gains,
    resample_impulse_response,
)

__all__ = ["Engine", "EngineConfigError", "MIN_BLOCK", "MAX_BLOCK", "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE"]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 16000, 48000
MIN_BLOCK, MAX_BLOCK = 32, 2048
_MIN_ATTACK_S = 0.002  # shortest attack/release: no clicks
_MIN_RELEASE_S = 0.005
_CUT_S = 0.005  # fade of a stolen or cut voice
_MAX_SPAN_FRAMES = 32  # control frames rendered in one batch at most (bounds memory)
_JOB_STAGES = 6  # stages of a frame step done ahead: 4 of the decoder, controls, spectra (see Engine._speculate)
_NOISE_BUFFER = 4096  # white-noise samples drawn ahead per voice (one generator call per 4096 samples)


class EngineConfigError(ValueError):
    """An engine setting (sample rate, decoder/profile mismatch) is out of range."""


@dataclass
class _Curves:
    """A voice driven by f0/loudness curves (timbre transfer) instead of MIDI."""

    f0_hz: np.ndarray  # [T] Hz per control frame
    loudness_db: np.ndarray  # [T] dB per control frame
    first_frame: int  # engine frame index of curve frame 0

    def values(self, frame: int) -> tuple[float, float]:
        i = min(max(frame - self.first_frame, 0), len(self.f0_hz) - 1)
        return float(self.f0_hz[i]), float(self.loudness_db[i])


class _StepAdapter:
    """Gives a decoder with only ``step`` (f0, loudness, state) the ``encode``/``run`` interface."""

    encoded_size = 2

    def __init__(self, decoder):
        self._decoder = decoder
        self.shape = decoder.shape

    def encode(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(f0_hz, np.float32), np.asarray(loudness_db, np.float32)], axis=-1)

    def run(self, inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        controls = []
        for frame in inputs:
            c, state = self._decoder.step(frame[:, 0], frame[:, 1], state)
            controls.append(c)
        return np.stack(controls), state


class Engine:
    """Plays a personality's decoder + synth from MIDI events or control curves.

    Args:
        decoder: a :class:`~instrument_agent.decoder.NumpyDecoder` or
            :class:`~instrument_agent.decoder.TFLiteDecoder`.
        model_sample_rate: Hz the personality was trained at.
        frame_rate: control frames per second (the manifest's).
        sample_rate: output Hz, 16000..48000.
        player_profile: a playerProfile (resolved; defaults when None).
        reverb_ir: [taps] learned impulse response at ``model_sample_rate`` (None: no reverb).
        reference_db: loudness of a full-velocity note (default: -20 dB).
        seed: noise seed (the same seed and events give the same audio).
    """

    def __init__(
        self,
        decoder,
        *,
        model_sample_rate: int,
        frame_rate: int,
        sample_rate: int = 48000,
        player_profile=None,
        reverb_ir: np.ndarray | None = None,
        reference_db: float | None = None,
        seed: int = 0,
    ):
        from instrument_agent.profiles import resolve_player_profile

        if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            raise EngineConfigError(
                f"sample rate {sample_rate} Hz is out of range [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}]"
            )
        if frame_rate <= 0 or frame_rate > sample_rate:
            raise EngineConfigError(f"frame rate {frame_rate} is out of range (1..{sample_rate})")
        self.decoder = decoder
        self._dec = decoder if hasattr(decoder, "run") and hasattr(decoder, "encode") else _StepAdapter(decoder)
        self.sample_rate = int(sample_rate)
        self.model_sample_rate = int(model_sample_rate)
        self.frame_rate = int(frame_rate)
        self.seed = int(seed)
        self.n_harmonics = decoder.shape.n_harmonics
        self.n_noise_bands = decoder.shape.n_noise_bands
        self.nyquist_hz = min(self.model_sample_rate, self.sample_rate) / 2.0
        self._noise_design = NoiseFilterDesign(self.n_noise_bands, self.model_sample_rate, self.sample_rate)
        self._reverb_ir = (
            None if reverb_ir is None else resample_impulse_response(reverb_ir, model_sample_rate, sample_rate)
        )
        self._reference_db = reference_db
        self._profile = None
        self.set_player_profile(resolve_player_profile(player_profile))
        self.reset()

    # -- construction ------------------------------------------------------
    @classmethod
    def from_bundle(
        cls, bundle, *, sample_rate: int = 48000, backend: str = "auto", player_profile=None, seed: int = 0
    ) -> Engine:
        """An engine for a personality :class:`~instrument_agent.personality.Bundle`.

        ``player_profile`` overrides the bundle's (for trying knobs without a new version).
        """
        from instrument_agent.decoder import load_decoder
        from instrument_agent.profiles import resolve_learner_profile

        manifest = bundle.manifest
        learner = resolve_learner_profile(manifest.learner_profile)
        decoder = load_decoder(bundle, backend)
        reverb_ir = (
            np.load(bundle.file("reverb_ir.npy"), allow_pickle=False) if bundle.has_file("reverb_ir.npy") else None
        )
        stats = manifest.feature_stats
        reference = stats.loudness_db_max if stats.loudness_db_max or stats.loudness_db_mean else None
        return cls(
            decoder,
            model_sample_rate=manifest.sample_rate or learner.sample_rate,
            frame_rate=manifest.frame_rate or learner.frame_rate,
            sample_rate=sample_rate,
            player_profile=player_profile if player_profile is not None else manifest.player_profile,
            reverb_ir=reverb_ir,
            reference_db=reference,
            seed=seed,
        )

    # -- the playerProfile -------------------------------------------------
    @property
    def player_profile(self):
        return self._profile

    def set_player_profile(self, profile) -> None:
        """Apply a (resolved) playerProfile; takes effect at the next control frame."""
        from instrument_agent.profiles import resolve_player_profile

        profile = resolve_player_profile(profile)
        old_voices = self._profile.max_voices if self._profile is not None else None
        self._profile = profile
        self._mapping = ControlMapping.from_profile(profile, self._reference_db)
        env = profile.envelope
        sr = self.sample_rate
        self._attack = max(env.attack_s, _MIN_ATTACK_S) * sr
        self._decay = max(env.decay_s, 1.0 / sr) * sr
        self._sustain = float(env.sustain)
        self._release = max(env.release_s, _MIN_RELEASE_S) * sr
        self._gain = float(10.0 ** (profile.gain_db / 20.0))
        self._noise_gain = float(10.0 ** (profile.noise_gain_db / 20.0))
        self._reverb_mix = float(profile.reverb_mix)
        self.max_voices = int(profile.max_voices)
        if old_voices is not None and self.max_voices * 2 > self._capacity:
            self._grow(self.max_voices * 2)
        if hasattr(self, "_midi"):
            self._midi.zones.member_bend_range = profile.mpe.pitch_bend_range
            self._midi.zones.master_bend_range = profile.mpe.master_pitch_bend_range
        self._mapping_dirty = True  # voices pick the new mapping up at the next control frame

    # -- state -------------------------------------------------------------
    def reset(self) -> None:
        """Silence and forget everything (voices, MIDI state, reverb tail); time restarts at 0."""
        mpe = self._profile.mpe
        self._midi = MidiState(member_bend_range=mpe.pitch_bend_range, master_bend_range=mpe.master_pitch_bend_range)
        self._events: list[tuple[int, int, object]] = []
        self._seq = itertools.count()
        self._voice_serial = itertools.count()
        self.time = 0
        self._frame = 0
        self._capacity = 0
        self._grow(max(2 * self.max_voices, 4))
        self._reverb = Reverb(self._reverb_ir) if self._reverb_ir is not None and self._reverb_ir.size else None

    def _grow(self, capacity: int) -> None:
        old = self._capacity
        h, g, ir = self.n_harmonics, self.decoder.shape.gru_units, self._noise_design.ir_size

        def extend(name, shape, dtype, fill=0.0):
            new = np.full(shape, fill, dtype=dtype)
            if old:
                new[:old] = getattr(self, name)
            setattr(self, name, new)

        self._source = (self._source if old else []) + [None] * (capacity - old)
        self._rng = (self._rng if old else []) + [None] * (capacity - old)
        extend("_phase", (capacity,), np.float64)
        extend("_f0_prev", (capacity,), np.float64)
        extend("_f0_cur", (capacity,), np.float64)
        extend("_amps_prev", (capacity, h), np.float32)
        extend("_amps_cur", (capacity, h), np.float32)
        extend("_state", (capacity, g), np.float32)
        extend("_ir", (capacity, ir), np.float32)
        extend("_on", (capacity,), np.float64)
        extend("_off", (capacity,), np.float64, np.inf)
        extend("_off_level", (capacity,), np.float64)
        extend("_release_len", (capacity,), np.float64, 1.0)
        extend("_cutting", (capacity,), bool, False)
        # Decoder inputs of MIDI voices (updated at events), their encoding and tilt gains.
        extend("_curve", (capacity,), bool, False)
        extend("_in_f0", (capacity,), np.float64, np.nan)
        extend("_in_ld", (capacity,), np.float64, np.nan)
        extend("_enc", (capacity, self._dec.encoded_size), np.float32)
        extend("_enc_ok", (capacity,), bool, False)
        extend("_tilt", (capacity,), np.float64, np.nan)
        extend("_tilt_gain", (capacity, h), np.float32, 1.0)
        extend("_stamp", (capacity,), np.int64)  # bumped whenever a voice's state, inputs or tilt change
        self._job = None  # a speculated frame step (see _speculate)
        self._job_voided = -1  # the last frame whose speculated step could not be used
        extend("_noise_buf", (capacity, _NOISE_BUFFER), np.float32)
        extend("_noise_pos", (capacity,), np.int64, _NOISE_BUFFER)  # next unread sample of the buffer
        self._live_idx = None
        # Spectra of the current frame's noise IRs at one FFT size.
        self._spec_nfft = 0
        self._spec = np.zeros((capacity, 1), dtype=np.complex64)
        self._spec_ok = np.zeros(capacity, dtype=bool)
        noise = FilteredNoise(capacity, ir)
        if old:
            noise._tail[:old] = self._noise._tail
        self._noise = noise
        self._capacity = capacity

    @property
    def mapping(self) -> ControlMapping:
        """How MIDI note values become decoder inputs under the current playerProfile."""
        return self._mapping

    @property
    def release_samples(self) -> int:
        """The envelope's release, in samples."""
        return int(np.ceil(self._release))

    @property
    def active_voices(self) -> int:
        """Voices sounding now (releasing ones included)."""
        return sum(1 for s in self._source if s is not None)

    @property
    def latency_samples(self) -> int:
        """Worst-case delay from a pressure or CC change to the decoder seeing it: one control
        frame (its sound then moves over the next frame). Note-ons and pitch bends act at
        their own sample."""
        return int(np.ceil(self.sample_rate / self.frame_rate))

    def _boundary(self, k: int) -> int:
        return int(round(k * self.sample_rate / self.frame_rate))

    # -- input -------------------------------------------------------------
    def send(self, message: mido.Message, at: int | None = None) -> None:
        """Queue a MIDI message to act at absolute sample ``at`` (default: now).

        Messages for a time already rendered act at the start of the next block.
        """
        heapq.heappush(self._events, (self.time if at is None else int(at), next(self._seq), message))

    def play_curves(self, f0_hz: np.ndarray, loudness_db: np.ndarray, at: int | None = None) -> None:
        """Start a voice driven by per-control-frame curves (timbre transfer).

        Args:
            f0_hz: [T] Hz. loudness_db: [T] dB. at: start sample; it is moved
                to the next control-frame boundary so frame ``i`` of the curves
                meets engine frame ``first + i``.
        The voice releases when the curves end.
        """
        f0_hz = np.asarray(f0_hz, dtype=np.float64)
        loudness_db = np.asarray(loudness_db, dtype=np.float64)
        if f0_hz.shape != loudness_db.shape or f0_hz.ndim != 1 or not f0_hz.size:
            raise EngineConfigError(
                f"f0 {f0_hz.shape} and loudness {loudness_db.shape} curves must be equal, non-empty [T]"
            )
        start = self.time if at is None else int(at)
        k = int(np.ceil(start * self.frame_rate / self.sample_rate - 1e-9))
        while self._boundary(k) < start:
            k += 1
        curves = _Curves(f0_hz, loudness_db, k)
        heapq.heappush(self._events, (self._boundary(k), next(self._seq), curves))
        heapq.heappush(self._events, (self._boundary(k + f0_hz.size), next(self._seq), ("end", curves)))

    # -- voices ------------------------------------------------------------
    def _values(self, slots: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """[V] f0 (Hz), loudness (dB) and tilt (dB/octave) of ``slots`` now, through the mapping."""
        f0 = np.empty(len(slots))
        ld = np.empty(len(slots))
        tilt = np.empty(len(slots))
        mapping = self._mapping
        notes = []
        for i, s in enumerate(slots):
            src = self._source[s]
            if isinstance(src, _Curves):
                f, l = src.values(self._frame)
                f0[i] = f * 2.0 ** (mapping.transpose / 12.0)
                ld[i] = min(l + mapping.loudness_offset_db, 0.0)
                tilt[i] = mapping.harmonic_tilt
            else:
                notes.append((i, src))
        if notes:
            idx = np.array([i for i, _ in notes])
            vals = np.array([self._midi.note_values(n) for _, n in notes])  # pitch, pressure, timbre, volume_db
            vel = np.array([n.velocity for _, n in notes])
            f0[idx] = mapping.f0_hz(vals[:, 0])
            ld[idx] = mapping.loudness_db(vel, vals[:, 1], vals[:, 3])
            tilt[idx] = mapping.tilt(vals[:, 2])
        return f0, ld, tilt

    def _curve_values(self, curves: _Curves, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """[F] f0 (Hz) and loudness (dB) of a curve voice at engine ``frames``, through the mapping."""
        i = np.clip(frames - curves.first_frame, 0, curves.f0_hz.size - 1)
        mapping = self._mapping
        f0 = curves.f0_hz[i] * 2.0 ** (mapping.transpose / 12.0)
        ld = np.minimum(curves.loudness_db[i] + mapping.loudness_offset_db, 0.0)
        return f0, ld

    def _refresh(self, slots: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Re-read the inputs of ``slots`` (after MIDI events or a profile change).

        A MIDI voice's pitch takes the new value at once (its oscillator f0);
        its loudness and timbre reach the decoder at the next control frame.
        Returns the values (:meth:`_values`).
        """
        idx = np.asarray(slots, dtype=np.intp)
        f0, ld, tilt = self._values(slots)
        new_tilt = tilt != self._tilt[idx]
        if new_tilt.any():
            self._tilt[idx[new_tilt]] = tilt[new_tilt]
            self._tilt_gain[idx[new_tilt]] = harmonic_tilt_gains(self.n_harmonics, tilt[new_tilt])
            self._stamp[idx[new_tilt]] += 1
        midi = ~self._curve[idx]
        m_idx = idx[midi]
        changed = (f0[midi] != self._in_f0[m_idx]) | (ld[midi] != self._in_ld[m_idx])
        self._enc_ok[m_idx[changed]] = False
        self._stamp[m_idx[changed]] += 1
        self._in_f0[m_idx] = f0[midi]
        self._in_ld[m_idx] = ld[midi]
        self._f0_prev[m_idx] = f0[midi]
        self._f0_cur[m_idx] = f0[midi]
        return f0, ld, tilt

    def _live(self) -> np.ndarray:
        """[V] slots of the sounding voices (cached until a voice starts or ends)."""
        if self._live_idx is None:
            self._live_idx = np.fromiter((s for s, src in enumerate(self._source) if src is not None), dtype=np.intp)
        return self._live_idx

    def _white(self, idx: np.ndarray, n: int) -> np.ndarray:
        """[V, n] float32 uniform noise in [-1, 1): each voice's own generator, read in order."""
        pos = self._noise_pos[idx]
        size = _NOISE_BUFFER
        if pos.max() + n <= size:
            self._noise_pos[idx] = pos + n
            return self._noise_buf[idx[:, None], pos[:, None] + np.arange(n)]
        out = np.empty((idx.size, n), dtype=np.float32)
        for i, (s, p) in enumerate(zip(idx.tolist(), pos.tolist())):
            have = min(size - p, n)
            out[i, :have] = self._noise_buf[s, p : p + have]
            rest = n - have
            if rest >= size:  # a long span: draw it directly, the buffer stays empty
                self._rng[s].random(rest, dtype=np.float32, out=out[i, have:])
                out[i, have:] *= 2.0
                out[i, have:] -= 1.0
                self._noise_pos[s] = size
            elif rest:
                buf = self._noise_buf[s]
                self._rng[s].random(size, dtype=np.float32, out=buf)
                buf *= 2.0
                buf -= 1.0
                out[i, have:] = buf[:rest]
                self._noise_pos[s] = rest
            else:
                self._noise_pos[s] = p + have
        return out

    def _spectra_for(self, idx: np.ndarray, n_fft: int) -> np.ndarray:
        """[V, n_fft/2+1] spectra of the current noise IRs of ``idx`` (cached per FFT size)."""
        if self._spec_nfft != n_fft:
            self._spec_nfft = n_fft
            self._spec = np.zeros((self._capacity, n_fft // 2 + 1), dtype=np.complex64)
            self._spec_ok[:] = False
        todo = idx[~self._spec_ok[idx]]
        if todo.size:
            self._spec[todo] = FilteredNoise.spectrum(self._ir[todo], n_fft)
            self._spec_ok[todo] = True
        return self._spec[idx]

    def _controls(self, idx: np.ndarray, controls: np.ndarray, f0: np.ndarray, gains: np.ndarray):
        """Decoder controls [F, V, C] -> harmonic amplitudes [F, V, H] and noise IRs [F, V, L]."""
        frames, voices = controls.shape[:2]
        h = self.n_harmonics
        flat = controls.reshape(frames * voices, -1)
        gains = np.broadcast_to(gains, (frames, voices, h)).reshape(frames * voices, h)
        amps = harmonic_amplitudes(flat[:, 0], flat[:, 1 : 1 + h], f0.reshape(-1), self.nyquist_hz, gains)
        irs = self._noise_design.impulse_responses(flat[:, 1 + h :], self._noise_gain)
        return amps.reshape(frames, voices, h), irs.reshape(frames, voices, -1)

    def _encode_missing(self, idx: np.ndarray) -> None:
        """Encode the decoder inputs of the MIDI voices in ``idx`` whose inputs changed."""
        midi = idx[~self._curve[idx]]
        todo = midi[~self._enc_ok[midi]]
        if todo.size:
            self._enc[todo] = self._dec.encode(self._in_f0[todo], self._in_ld[todo])
            self._enc_ok[todo] = True

    def _frame_inputs(self, idx: np.ndarray, first: int, frames: int) -> tuple[np.ndarray, np.ndarray]:
        """Encoded decoder inputs [F, V, E] and f0 [F, V] of voices ``idx`` at engine frames ``first..``."""
        self._encode_missing(idx)
        enc = np.empty((frames, idx.size, self._dec.encoded_size), dtype=np.float32)
        enc[:] = self._enc[idx]
        f0 = np.empty((frames, idx.size))
        f0[:] = self._in_f0[idx]
        numbers = np.arange(first, first + frames)
        for i in np.flatnonzero(self._curve[idx]):
            cf0, cld = self._curve_values(self._source[idx[i]], numbers)
            enc[:, i] = self._dec.encode(cf0, cld)
            f0[:, i] = cf0
        return enc, f0

    def _speculate(self, blocks_left: int) -> None:
        """Do part of the next boundary's decoder step ahead, in the blocks before it.

        The step of all sounding voices (batched exactly as at the boundary, so
        the numbers are the same) runs in stages, one or more per block: the
        decoder's (recurrent matmul, gates, output layer, head; for TFLite, groups
        of voices), amplitudes and noise filters, filter spectra.
        The boundary uses the result only if no voice started or ended and no
        voice's state, inputs or tilt changed since (:attr:`_stamp`); else it
        computes the step itself, as it would without this.
        """
        if self._mapping_dirty:
            return
        idx = self._live()
        nxt = self._frame + 1
        job = self._job
        if (
            job is None
            or job["frame"] != nxt
            or not np.array_equal(job["idx"], idx)
            or not np.array_equal(job["stamps"], self._stamp[idx])
        ):
            # Start as late as one stage per block allows (less exposed to events), once per
            # frame, and not in the frame after one whose attempt was voided (inputs that
            # change every block would void every attempt).
            attempts = job["attempts"] + 1 if job is not None and job["frame"] == nxt else 1
            if blocks_left > _JOB_STAGES or attempts > 1 or self._job_voided == nxt - 1:
                return
            job = self._job = {
                "frame": nxt,
                "idx": idx,
                "stamps": self._stamp[idx].copy(),
                "stage": 0,
                "attempts": attempts,
            }
        stages = _JOB_STAGES - job["stage"]
        for _ in range(min(stages, -(-stages // blocks_left))):
            self._job_stage(job)

    def _job_stage(self, job: dict) -> None:
        """Run the next stage of a (speculated) frame step: the decoder's stages
        (:meth:`~instrument_agent.decoder.NumpyDecoder.stages`; one for a decoder
        without them), then amplitudes and noise filters, then filter spectra."""
        idx = job["idx"]
        if "controls" not in job:
            if "run" not in job:
                job["enc"], job["f0"] = self._frame_inputs(idx, job["frame"], 1)
                if hasattr(self._dec, "stages"):
                    job["run"] = self._dec.stages(job["enc"], self._state[idx])
                else:
                    job["run"] = self._grouped_run(job["enc"], self._state[idx])
            if "controls" not in job:
                try:
                    next(job["run"])
                except StopIteration as done:
                    job["controls"], job["state"] = done.value
        elif "amps" not in job:
            job["amps"], job["irs"] = self._controls(idx, job["controls"], job["f0"], self._tilt_gain[idx])
        elif "n_fft" not in job:
            job["n_fft"] = self._spec_nfft
            if self._spec_nfft:
                job["spectra"] = FilteredNoise.spectrum(job["irs"][0], self._spec_nfft)[None]
        job["stage"] += 1

    def _grouped_run(self, enc: np.ndarray, state: np.ndarray):
        """A frame step as a generator pausing between groups of voices: for the TFLite
        decoder, whose numbers for a voice do not depend on the others in its batch
        (XNNPACK computes each row alike; tests/instrument_agent/test_decoder.py checks
        it). Other decoders run in one call. Returns (controls [1, V, C], state [V, G])."""
        voices = state.shape[0]
        groups = _JOB_STAGES - 2 if getattr(self._dec, "backend", None) == "tflite" else 1
        size = -(-voices // groups)
        parts = []
        for lo in range(0, voices, size):
            parts.append(self._dec.run(enc[:, lo : lo + size], state[lo : lo + size]))
            if lo + size < voices:
                yield
        return np.concatenate([c for c, _ in parts], axis=1), np.concatenate([s for _, s in parts])

    def _advance(self, idx: np.ndarray, frames: int, n_fft: int = 0):
        """Step the decoder of voices ``idx`` at the next ``frames`` control-frame boundaries.

        Returns (amps [F, V, H], f0 [F, V], spectra [F, V, n_fft/2+1] or None)
        of those frames and makes the last one the current frame.
        """
        if self._mapping_dirty:
            self._mapping_dirty = False
            self._stamp += 1  # the new mapping or noise gain voids a speculated step
            live = self._live()
            if live.size:
                self._refresh(live.tolist())
        voices = idx.size
        job, self._job = self._job, None
        spectra = None
        usable = (
            frames == 1
            and job is not None
            and job["frame"] == self._frame + 1
            and np.array_equal(job["idx"], idx)
            and np.array_equal(job["stamps"], self._stamp[idx])
        )
        if job is not None and not usable:
            self._job_voided = self._frame + 1
        if usable:
            while "amps" not in job:  # finish what the blocks before did not
                self._job_stage(job)
            amps, f0, irs, state = job["amps"], job["f0"], job["irs"], job["state"]
            if n_fft and job.get("n_fft") == n_fft:
                spectra = job["spectra"]
        else:
            enc, f0 = self._frame_inputs(idx, self._frame + 1, frames)
            controls, state = self._dec.run(enc, self._state[idx])
            amps, irs = self._controls(idx, controls, f0, self._tilt_gain[idx])
        self._state[idx] = state
        self._stamp[idx] += 1  # a new GRU state
        self._amps_prev[idx] = amps[-2] if frames > 1 else self._amps_cur[idx]
        self._f0_prev[idx] = f0[-2] if frames > 1 else self._f0_cur[idx]
        self._amps_cur[idx] = amps[-1]
        self._f0_cur[idx] = f0[-1]
        self._ir[idx] = irs[-1]
        if n_fft:
            if spectra is None:
                spectra = FilteredNoise.spectrum(irs.reshape(frames * voices, -1), n_fft).reshape(frames, voices, -1)
            if self._spec_nfft == n_fft:
                self._spec[idx] = spectra[-1]
                self._spec_ok[idx] = True
            else:
                self._spec_ok[idx] = False
        else:
            self._spec_ok[idx] = False
        self._frame += frames
        return amps, f0, spectra

    def _free_slot(self) -> int:
        for s, src in enumerate(self._source):
            if src is None:
                return s
        # Every slot is fading: drop the one closest to silence.
        s = int(np.argmin(self._off + self._release_len))
        self._source[s] = None
        self._live_idx = None
        return s

    def _steal_if_full(self, t: int) -> None:
        sounding = [s for s, src in enumerate(self._source) if src is not None and not self._cutting[s]]
        if len(sounding) < self.max_voices:
            return
        releasing = [s for s in sounding if np.isfinite(self._off[s])]
        pool = releasing or sounding
        victim = min(pool, key=lambda s: (self._off[s] if releasing else self._on[s], s))
        self._end_voice(victim, t, cut=True)

    def _env_level(self, slot: int, t: float) -> float:
        return float(self._envelope(np.array([slot]), np.array([t], dtype=np.float64))[0, 0])

    def _end_voice(self, slot: int, t: int, *, cut: bool) -> None:
        level = self._env_level(slot, t)
        if np.isfinite(self._off[slot]) and not cut:
            return
        self._off_level[slot] = level
        self._off[slot] = t
        self._release_len[slot] = _CUT_S * self.sample_rate if cut else self._release
        self._cutting[slot] = cut

    def _start_voices(self, sources: list, t: int) -> None:
        """New voices at sample ``t``: their decoder steps at once (fresh state, prev = cur)."""
        slots = []
        for src in sources:
            self._steal_if_full(t)
            s = self._free_slot()
            self._source[s] = src
            serial = next(self._voice_serial)
            self._rng[s] = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, serial])))
            self._phase[s] = 0.0
            self._state[s] = 0.0
            self._on[s] = t
            self._off[s] = np.inf
            self._release_len[s] = self._release
            self._cutting[s] = False
            self._curve[s] = isinstance(src, _Curves)
            self._noise_pos[s] = _NOISE_BUFFER
            self._stamp[s] += 1
            self._in_f0[s] = self._in_ld[s] = self._tilt[s] = np.nan
            self._noise.reset([s])
            slots.append(s)
        self._live_idx = None
        idx = np.asarray(slots, dtype=np.intp)
        f0, ld, _ = self._refresh(slots)
        enc = self._dec.encode(f0, ld)
        midi = ~self._curve[idx]
        self._enc[idx[midi]] = enc[midi]
        self._enc_ok[idx[midi]] = True
        controls, state = self._dec.run(enc[None], self._state[idx])
        self._state[idx] = state
        amps, irs = self._controls(idx, controls, f0[None], self._tilt_gain[idx])
        self._amps_prev[idx] = self._amps_cur[idx] = amps[0]
        self._f0_prev[idx] = self._f0_cur[idx] = f0
        self._ir[idx] = irs[0]
        self._spec_ok[idx] = False

    def _slot_of(self, source) -> int | None:
        for s, src in enumerate(self._source):
            if src is source:
                return s
        return None

    def _handle_events(self, t: int) -> None:
        starts = []
        midi_changed = False
        while self._events and self._events[0][0] <= t:
            _, _, item = heapq.heappop(self._events)
            if isinstance(item, _Curves):
                starts.append(item)
                continue
            if isinstance(item, tuple) and item and item[0] == "end":
                slot = self._slot_of(item[1])
                if slot is not None:
                    self._end_voice(slot, t, cut=False)
                continue
            midi_changed = True
            for event in self._midi.apply(item):
                if event.kind == "on":
                    starts.append(event.note)
                    continue
                if any(note is event.note for note in starts):  # on and off at the same sample
                    starts = [note for note in starts if note is not event.note]
                    continue
                slot = self._slot_of(event.note)
                if slot is not None:
                    self._end_voice(slot, t, cut=event.kind == "cut")
        if midi_changed:
            live = [s for s in self._live().tolist() if not self._curve[s]]
            if live:
                self._refresh(live)
        if starts:
            self._start_voices(starts, t)

    # -- rendering ---------------------------------------------------------
    def _envelope(self, slots: np.ndarray, t: np.ndarray) -> np.ndarray:
        """[V, n] ADSR gain of ``slots`` at absolute samples ``t`` ([n] float64)."""
        tau = t[None, :] - self._on[slots, None]
        a, d, s = self._attack, self._decay, self._sustain
        held = np.where(tau < a, tau / a, np.where(tau < a + d, 1.0 - (1.0 - s) * (tau - a) / d, s))
        held = np.clip(held, 0.0, 1.0)
        off = self._off[slots, None]
        rel = self._off_level[slots, None] * np.clip(
            1.0 - (t[None, :] - off) / self._release_len[slots, None], 0.0, 1.0
        )
        return np.where(t[None, :] >= off, rel, held)

    def _render_span(self, start: int, stop: int, out: np.ndarray) -> None:
        """Render ``[start, stop)`` (no event inside; it may cross control-frame boundaries)."""
        bounds = []
        k = self._frame
        while (b := self._boundary(k + 1 + len(bounds))) < stop:
            bounds.append(b)
        idx = self._live()
        frames = len(bounds)
        if not idx.size:
            self._frame += frames
            return
        # Pieces: the rest of the current frame, whole frames, the start of the last one.
        lengths = [e - s for s, e in zip([start] + bounds, bounds + [stop])]
        n_fft = FilteredNoise.fft_size(max(lengths), self._noise_design.ir_size)
        spectra = self._spectra_for(idx, n_fft)[None]
        b0, b1 = self._boundary(k), self._boundary(k + 1)
        w0 = (start - b0) / (b1 - b0)  # position of the span's start in the current frame
        a_prev, a_cur = self._amps_prev[idx], self._amps_cur[idx]
        f_prev, f_cur = self._f0_prev[idx], self._f0_cur[idx]
        if frames:
            new_amps, new_f0, new_spectra = self._advance(idx, frames, n_fft)
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
        harm, self._phase[idx] = harmonic_pieces(
            self._phase[idx], f0_start, f0_end, amps_start, amps_end, lengths, self.sample_rate
        )
        harm += self._noise.process_pieces(idx, self._white(idx, stop - start), spectra, lengths, n_fft)
        target = out[start - self.time : stop - self.time]
        steady = (start - self._on[idx] >= self._attack + self._decay) & (self._off[idx] >= stop)
        if steady.all():  # every voice holds its sustain level for the whole span
            target += np.float32(self._sustain) * harm.sum(axis=0)
        else:
            env = self._envelope(idx, np.arange(start, stop, dtype=np.float64)).astype(np.float32)
            target += np.einsum("vn,vn->n", env, harm)
        # Free voices whose release ended.
        done = (self._off[idx] + self._release_len[idx]) <= stop
        if done.any():
            for s in idx[done].tolist():
                self._source[s] = None
            self._live_idx = None

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` samples ([n] float32), acting on queued events at their samples."""
        n = int(n)
        out = np.zeros(n, dtype=np.float32)
        t, end = self.time, self.time + n
        while t < end:
            if t >= self._boundary(self._frame + 1):
                live = self._live()
                if live.size:
                    self._advance(live, 1, self._spec_nfft)
                else:
                    self._frame += 1
            self._handle_events(t)
            stop = min(end, self._boundary(self._frame + _MAX_SPAN_FRAMES))
            if self._events:
                stop = min(stop, max(self._events[0][0], t + 1))
            self._render_span(t, stop, out)
            t = stop
        if self._reverb is not None:
            wet = self._reverb.process(out)
            if self._reverb_mix:
                out += self._reverb_mix * wet
        self.time = end
        # Blocks shorter than a control frame: do part of the next boundary's work now.
        blocks_left = (self._boundary(self._frame + 1) - end) // n if n else 0
        if blocks_left >= 1 and self._live().size:
            self._speculate(blocks_left)
        return out * np.float32(self._gain)

    def tail_samples(self) -> int:
        """Samples until every voice's release and the reverb tail have died away."""
        release = 0.0
        for s, src in enumerate(self._source):
            if src is not None:
                end = self._off[s] + self._release_len[s] if np.isfinite(self._off[s]) else self.time + self._release
                release = max(release, end - self.time)
        reverb = self._reverb_ir.size if self._reverb_ir is not None else 0
        return int(np.ceil(release)) + reverb + self._noise_design.ir_size
