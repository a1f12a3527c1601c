"""The streaming performance engine: MIDI/MPE (or f0/loudness curves) in, audio out.

Time is counted in output samples from the engine's start. Everything is
keyed to absolute sample times, never to block edges, so rendering the same
events with any block size (32..2048, or whole seconds offline) gives the
same audio up to float rounding:

* **Control frames** sit on a fixed grid, frame ``k`` at sample
  ``round(k · sample_rate / frame_rate)``. At each grid point every sounding
  voice's decoder steps once (voices batched) with the f0/loudness its MIDI
  state gives at that instant; within the frame, f0 and harmonic amplitudes
  move linearly from the previous frame's controls to these, and the noise
  uses these. A MIDI change therefore reaches the sound within one control
  frame.
* **Notes** start at their event's exact sample: the new voice's decoder
  steps at once (fresh GRU state) and its ADSR envelope, applied per sample,
  rises from 0, so onsets are click-free and add no latency. Note-off starts
  the envelope's release; a voice is freed when its release ends.
* **Polyphony**: one voice per note up to the playerProfile's ``max_voices``;
  above it the oldest releasing (else the oldest) voice is stolen with a
  5 ms fade.
* **State** carried across blocks: GRU state, oscillator phases, noise filter
  tails, per-voice noise generators, the reverb's input history and tail.

The playerProfile is applied at render time (:meth:`Engine.set_player_profile`
takes effect at the next control frame; gain and reverb mix at the next block).
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass

import mido
import numpy as np

from instrument_agent.midi import ControlMapping, MidiState, Note
from instrument_agent.synth import (
    FilteredNoise,
    NoiseFilterDesign,
    Reverb,
    harmonic_amplitudes,
    harmonic_segment,
    harmonic_tilt_gains,
    resample_impulse_response,
)

__all__ = ["Engine", "EngineConfigError", "MIN_BLOCK", "MAX_BLOCK", "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE"]

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 16000, 48000
MIN_BLOCK, MAX_BLOCK = 32, 2048
_MIN_ATTACK_S = 0.002  # shortest attack/release: no clicks
_MIN_RELEASE_S = 0.005
_CUT_S = 0.005  # fade of a stolen or cut voice


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
            raise EngineConfigError(f"sample rate {sample_rate} Hz is out of range [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}]")
        if frame_rate <= 0 or frame_rate > sample_rate:
            raise EngineConfigError(f"frame rate {frame_rate} is out of range (1..{sample_rate})")
        self.decoder = decoder
        self.sample_rate = int(sample_rate)
        self.model_sample_rate = int(model_sample_rate)
        self.frame_rate = int(frame_rate)
        self.seed = int(seed)
        self.n_harmonics = decoder.shape.n_harmonics
        self.n_noise_bands = decoder.shape.n_noise_bands
        self.nyquist_hz = min(self.model_sample_rate, self.sample_rate) / 2.0
        self._noise_design = NoiseFilterDesign(self.n_noise_bands, self.model_sample_rate, self.sample_rate)
        self._reverb_ir = None if reverb_ir is None else resample_impulse_response(reverb_ir, model_sample_rate, sample_rate)
        self._reference_db = reference_db
        self._profile = None
        self.set_player_profile(resolve_player_profile(player_profile))
        self.reset()

    # -- construction ------------------------------------------------------
    @classmethod
    def from_bundle(cls, bundle, *, sample_rate: int = 48000, backend: str = "auto", player_profile=None, seed: int = 0) -> Engine:
        """An engine for a personality :class:`~instrument_agent.personality.Bundle`.

        ``player_profile`` overrides the bundle's (for trying knobs without a new version).
        """
        from instrument_agent.decoder import load_decoder
        from instrument_agent.profiles import resolve_learner_profile

        manifest = bundle.manifest
        learner = resolve_learner_profile(manifest.learner_profile)
        decoder = load_decoder(bundle, backend)
        reverb_ir = np.load(bundle.file("reverb_ir.npy"), allow_pickle=False) if bundle.has_file("reverb_ir.npy") else None
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
        self._spectra: dict[int, np.ndarray] = {}

    def _grow(self, capacity: int) -> None:
        old = self._capacity
        h, g, ir = self.n_harmonics, self.decoder.shape.gru_units, self._noise_design.ir_size

        def extend(array, shape, dtype, fill=0.0):
            new = np.full(shape, fill, dtype=dtype)
            if old:
                new[:old] = array
            return new

        self._source = (self._source if old else []) + [None] * (capacity - old)
        self._rng = (self._rng if old else []) + [None] * (capacity - old)
        self._phase = extend(getattr(self, "_phase", None), (capacity,), np.float64)
        self._f0_prev = extend(getattr(self, "_f0_prev", None), (capacity,), np.float64)
        self._f0_cur = extend(getattr(self, "_f0_cur", None), (capacity,), np.float64)
        self._amps_prev = extend(getattr(self, "_amps_prev", None), (capacity, h), np.float32)
        self._amps_cur = extend(getattr(self, "_amps_cur", None), (capacity, h), np.float32)
        self._state = extend(getattr(self, "_state", None), (capacity, g), np.float32)
        self._ir = extend(getattr(self, "_ir", None), (capacity, ir), np.float32)
        self._on = extend(getattr(self, "_on", None), (capacity,), np.float64)
        self._off = extend(getattr(self, "_off", None), (capacity,), np.float64, np.inf)
        self._off_level = extend(getattr(self, "_off_level", None), (capacity,), np.float64)
        self._release_len = extend(getattr(self, "_release_len", None), (capacity,), np.float64, 1.0)
        self._cutting = extend(getattr(self, "_cutting", None), (capacity,), bool, False)
        noise = FilteredNoise(capacity, ir)
        if old:
            noise._tail[:old] = self._noise._tail
        self._noise = noise
        self._capacity = capacity
        self._spectra = {}

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
        """Worst-case delay from a controller change (bend, pressure, CC) to its full effect:
        one control frame. Note-ons sound at their own sample."""
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
            raise EngineConfigError(f"f0 {f0_hz.shape} and loudness {loudness_db.shape} curves must be equal, non-empty [T]")
        start = self.time if at is None else int(at)
        k = int(np.ceil(start * self.frame_rate / self.sample_rate - 1e-9))
        while self._boundary(k) < start:
            k += 1
        curves = _Curves(f0_hz, loudness_db, k)
        heapq.heappush(self._events, (self._boundary(k), next(self._seq), curves))
        heapq.heappush(self._events, (self._boundary(k + f0_hz.size), next(self._seq), ("end", curves)))

    # -- voices ------------------------------------------------------------
    def _values(self, slots: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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

    def _step(self, slots: list[int], *, fresh: bool) -> None:
        """Decoder step for ``slots``; ``fresh`` voices start with prev = cur."""
        if not slots:
            return
        idx = np.asarray(slots, dtype=np.intp)
        f0, ld, tilt = self._values(slots)
        controls, state = self.decoder.step(f0.astype(np.float32), ld.astype(np.float32), self._state[idx])
        self._state[idx] = state
        h = self.n_harmonics
        amps = harmonic_amplitudes(controls[:, 0], controls[:, 1 : 1 + h], f0, self.nyquist_hz, harmonic_tilt_gains(h, tilt))
        if fresh:
            self._f0_prev[idx] = f0
            self._amps_prev[idx] = amps
        else:
            self._f0_prev[idx] = self._f0_cur[idx]
            self._amps_prev[idx] = self._amps_cur[idx]
        self._f0_cur[idx] = f0
        self._amps_cur[idx] = amps
        self._ir[idx] = self._noise_design.impulse_responses(controls[:, 1 + h :], self._noise_gain)
        for n_fft, spectra in self._spectra.items():
            spectra[idx] = FilteredNoise.spectrum(self._ir[idx], n_fft)

    def _free_slot(self) -> int:
        for s, src in enumerate(self._source):
            if src is None:
                return s
        # Every slot is fading: drop the one closest to silence.
        s = int(np.argmin(self._off + self._release_len))
        self._source[s] = None
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
            self._noise.reset([s])
            slots.append(s)
        self._step(slots, fresh=True)

    def _slot_of(self, source) -> int | None:
        for s, src in enumerate(self._source):
            if src is source:
                return s
        return None

    def _handle_events(self, t: int) -> None:
        starts = []
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
        rel = self._off_level[slots, None] * np.clip(1.0 - (t[None, :] - off) / self._release_len[slots, None], 0.0, 1.0)
        return np.where(t[None, :] >= off, rel, held)

    def _render_segment(self, start: int, stop: int, out: np.ndarray) -> None:
        slots = [s for s, src in enumerate(self._source) if src is not None]
        if not slots:
            return
        idx = np.asarray(slots, dtype=np.intp)
        n = stop - start
        b0, b1 = self._boundary(self._frame), self._boundary(self._frame + 1)
        w0 = (start - b0) / (b1 - b0)
        w1 = (stop - b0) / (b1 - b0)
        f0p, f0c = self._f0_prev[idx], self._f0_cur[idx]
        ap, ac = self._amps_prev[idx], self._amps_cur[idx]
        harm, self._phase[idx] = harmonic_segment(
            self._phase[idx],
            f0p + (f0c - f0p) * w0,
            f0p + (f0c - f0p) * w1,
            ap + (ac - ap) * np.float32(w0),
            ap + (ac - ap) * np.float32(w1),
            n,
            self.sample_rate,
        )
        noise = np.stack([self._rng[s].random(n, dtype=np.float32) for s in slots]) * 2.0 - 1.0
        n_fft = FilteredNoise.fft_size(n, self._noise_design.ir_size)
        spectra = self._spectra.get(n_fft)
        if spectra is None:
            spectra = np.zeros((self._capacity, n_fft // 2 + 1), dtype=np.complex64)
            live = np.asarray([s for s, src in enumerate(self._source) if src is not None], dtype=np.intp)
            spectra[live] = FilteredNoise.spectrum(self._ir[live], n_fft)
            self._spectra[n_fft] = spectra
        filtered = self._noise.process(idx, noise, spectra[idx], n_fft)
        t = np.arange(start, stop, dtype=np.float64)
        env = self._envelope(idx, t).astype(np.float32)
        out[start - self.time : stop - self.time] += np.einsum("vn,vn->n", env, harm + filtered)
        # Free voices whose release ended.
        done = idx[(self._off[idx] + self._release_len[idx]) <= stop]
        for s in done:
            self._source[s] = None

    def render(self, n: int) -> np.ndarray:
        """The next ``n`` samples ([n] float32), acting on queued events at their samples."""
        n = int(n)
        out = np.zeros(n, dtype=np.float32)
        t, end = self.time, self.time + n
        while t < end:
            if t >= self._boundary(self._frame + 1):
                self._frame += 1
                if len(self._spectra) > 4:
                    self._spectra = {}
                self._step([s for s, src in enumerate(self._source) if src is not None], fresh=False)
            self._handle_events(t)
            stop = min(end, self._boundary(self._frame + 1))
            if self._events:
                stop = min(stop, max(self._events[0][0], t + 1))
            self._render_segment(t, stop, out)
            t = stop
        if self._reverb is not None:
            wet = self._reverb.process(out)
            if self._reverb_mix:
                out += self._reverb_mix * wet
        self.time = end
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
