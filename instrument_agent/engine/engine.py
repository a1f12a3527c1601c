"""The :class:`Engine`: MIDI/MPE events or control curves in, audio out, block by block (see the package docs)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

import mido
import numpy as np

from instrument_agent.decoder import Decoder
from instrument_agent.dsp import db_to_amplitude
from instrument_agent.midi import ControlMapping, MidiState
from instrument_agent.midi.mapping import anchored_reference_db
from instrument_agent.synth import (
    FilteredNoise,
    NoiseFilterDesign,
    Reverb,
    resample_impulse_response,
)

from .curves import CurveSource
from .envelope import Envelope
from .expression import GLIDE_S, INPUT_LEAD_S, ExpressionHandler, is_expression
from .frames import FrameStepper
from .inputs import InputReader
from .limits import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, EngineConfigError
from .rendering import SpanRenderer
from .speculation import Speculation
from .voices import NOISE_BUFFER, VoiceBank

__all__ = ["Engine"]

_CUT_S = 0.005  # fade of a stolen or cut voice
_END = "end"  # event: a curve voice's curves are over


class Engine(FrameStepper, SpanRenderer, ExpressionHandler, InputReader):
    """Plays a personality's decoder + synth from MIDI events or control curves.

    Args:
        decoder: any :class:`~instrument_agent.decoder.Decoder` (numpy or TFLite).
        model_sample_rate: Hz the personality was trained at.
        frame_rate: control frames per second (the manifest's).
        sample_rate: output Hz, 16000..48000.
        player_profile: a playerProfile (resolved; defaults when None).
        reverb_ir: [taps] learned impulse response at ``model_sample_rate`` (None: no reverb).
        reference_db: loudness of a full-velocity note (default: -20 dB), used when
            ``typical_db`` is None.
        typical_db: the training audio's typical loudness (``FeatureStats.loudness_db_typical``):
            velocity 100 plays at it, whatever the playerProfile's velocity range
            (:func:`~instrument_agent.midi.mapping.reference_db_of`).
        level_gain_db: the level calibration (``FeatureStats.level_gain_db``), dB added to the
            playerProfile's ``gain_db`` so resynthesis has the recording's level.
        seed: noise seed (the same seed and events give the same audio).
    """

    def __init__(
        self,
        decoder: Decoder,
        *,
        model_sample_rate: int,
        frame_rate: int,
        sample_rate: int = 48000,
        player_profile=None,
        reverb_ir: np.ndarray | None = None,
        reference_db: float | None = None,
        typical_db: float | None = None,
        level_gain_db: float = 0.0,
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
        self._typical_db = typical_db
        self.level_gain_db = float(level_gain_db)
        self._profile = None
        self._bank: VoiceBank | None = None
        self._midi: MidiState | None = None
        self.set_player_profile(resolve_player_profile(player_profile))
        self.reset()

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
        # 0 = unset (bundles made before level calibration): they play as they always did.
        typical = float(stats.loudness_db_typical) if stats.loudness_db_typical else None
        return cls(
            decoder,
            model_sample_rate=manifest.sample_rate or learner.sample_rate,
            frame_rate=manifest.frame_rate or learner.frame_rate,
            sample_rate=sample_rate,
            player_profile=player_profile if player_profile is not None else manifest.player_profile,
            reverb_ir=reverb_ir,
            reference_db=reference,
            typical_db=typical,
            level_gain_db=stats.level_gain_db,
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
        self._profile = profile
        reference = self._reference_db
        if self._typical_db is not None:
            reference = anchored_reference_db(self._typical_db, profile.mpe.velocity_db_range)
        self._mapping = ControlMapping.from_profile(profile, reference)
        self._envelope = Envelope.from_profile(profile.envelope, self.sample_rate)
        self._glide_len = GLIDE_S * self.sample_rate
        frame_len = self.sample_rate // self.frame_rate
        self._lead = min(int(round(INPUT_LEAD_S * self.sample_rate)), frame_len // 2)
        self._gain = float(db_to_amplitude(profile.gain_db + self.level_gain_db))
        self._noise_gain = float(db_to_amplitude(profile.noise_gain_db))
        self._reverb_mix = float(profile.reverb_mix)
        self.max_voices = int(profile.max_voices)
        if self._bank is not None and self.max_voices * 2 > self._bank.capacity:
            self._grow(self.max_voices * 2)
        if self._midi is not None:
            self._midi.zones.member_bend_range = profile.mpe.pitch_bend_range
            self._midi.zones.master_bend_range = profile.mpe.master_pitch_bend_range
        self._mapping_dirty = True  # voices pick the new mapping up at the next control frame

    @property
    def mapping(self) -> ControlMapping:
        """How MIDI note values become decoder inputs under the current playerProfile."""
        return self._mapping

    # -- state -------------------------------------------------------------
    def reset(self) -> None:
        """Silence and forget everything (voices, MIDI state, reverb tail); time restarts at 0."""
        mpe = self._profile.mpe
        self._midi = MidiState(member_bend_range=mpe.pitch_bend_range, master_bend_range=mpe.master_pitch_bend_range)
        self._events: list[tuple[int, int, object]] = []  # notes, curves and messages that may start/end one
        self._expression: list[tuple[int, int, object]] = []  # messages that only move sounding notes
        self._span_glides: dict[int, list] = {}  # slot -> [glide before the span, glides started in it]
        self._dirty: set[int] = set()  # slots whose decoder inputs expression moved since the last freeze
        self._frozen = 0  # the last frame whose decoder inputs are frozen
        self._by_channel = None  # (live slots, zones, {channel: slots}) for expression messages
        self._seq = itertools.count()
        self.observers: list[Callable[[mido.Message, int], None]] = []  # told of every message sent, with its sample
        self._voice_serial = itertools.count()
        self.time = 0
        self._frame = 0
        self._bank = None
        self._grow(max(2 * self.max_voices, 4))
        self._reverb = (
            Reverb(self._reverb_ir, partition=None, max_partition=None)
            if self._reverb_ir is not None and self._reverb_ir.size
            else None
        )

    def _grow(self, capacity: int) -> None:
        if self._bank is None:
            self._bank = VoiceBank.empty(
                capacity,
                n_harmonics=self.n_harmonics,
                gru_units=self.decoder.shape.gru_units,
                ir_size=self._noise_design.ir_size,
                encoded_size=self.decoder.encoded_size,
            )
            self._noise = FilteredNoise(capacity, self._noise_design.ir_size)
        else:
            self._bank = self._bank.grown(capacity)
            self._noise.grow(capacity)
        self._speculation = Speculation()
        # Spectra of the current frame's noise IRs at one FFT size (see _spectra_for).
        self._spec_nfft = 0
        self._spec = np.zeros((capacity, 1), dtype=np.complex64)
        self._bank.spec_ok[:] = False

    @property
    def release_samples(self) -> int:
        """The envelope's release, in samples."""
        return int(np.ceil(self._envelope.release))

    @property
    def active_voices(self) -> int:
        """Voices sounding now (releasing ones included)."""
        return int(self._bank.live().size)

    @property
    def latency_samples(self) -> int:
        """Worst-case delay from a pressure or CC change to the decoder seeing it: one control
        frame plus the input lead (:data:`~instrument_agent.engine.expression.INPUT_LEAD_S`; its
        sound then moves over the next frame). Note-ons and pitch bends act at their own sample."""
        return int(np.ceil(self.sample_rate / self.frame_rate)) + self._lead

    def _boundary(self, k: int) -> int:
        return int(round(k * self.sample_rate / self.frame_rate))

    def tail_samples(self) -> int:
        """Samples until every voice's release and the reverb tail have died away."""
        b = self._bank
        release = 0.0
        for s in b.live().tolist():
            end = b.off[s] + b.release_len[s] if np.isfinite(b.off[s]) else self.time + self._envelope.release
            release = max(release, end - self.time)
        reverb = self._reverb_ir.size if self._reverb_ir is not None else 0
        return int(np.ceil(release)) + reverb + self._noise_design.ir_size

    # -- input -------------------------------------------------------------
    def send(self, message: mido.Message, at: int | None = None) -> None:
        """Queue a MIDI message to act at absolute sample ``at`` (default: now).

        Messages for a time already rendered act at the start of the next block. Expression
        (bend, pressure, CC74, ...: :mod:`~instrument_agent.engine.expression`) acts at its sample
        without cutting the span being rendered.
        """
        at = self.time if at is None else int(at)
        for observe in self.observers:  # e.g. a coverage watch (instrument_agent.coverage_map)
            observe(message, at)
        queue = self._expression if is_expression(message) else self._events
        heapq.heappush(queue, (at, next(self._seq), message))

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
        curves = CurveSource(f0_hz, loudness_db, k)
        heapq.heappush(self._events, (self._boundary(k), next(self._seq), curves))
        heapq.heappush(self._events, (self._boundary(k + f0_hz.size), next(self._seq), (_END, curves)))

    def _handle_events(self, t: int) -> None:
        starts = []
        midi_changed = False
        b = self._bank
        expression = self._expression
        while (self._events and self._events[0][0] <= t) or (expression and expression[0][0] <= t):
            if expression and expression[0][0] <= t and (not self._events or expression[0] < self._events[0]):
                _, _, message = heapq.heappop(expression)
                self._apply_expression([(t, message)])
                continue
            _, _, item = heapq.heappop(self._events)
            if isinstance(item, CurveSource):
                starts.append(item)
                continue
            if isinstance(item, tuple) and item and item[0] == _END:
                slot = b.slot_of(item[1])
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
                slot = b.slot_of(event.note)
                if slot is not None:
                    self._end_voice(slot, t, cut=event.kind == "cut")
        if midi_changed:
            live = [s for s in b.live().tolist() if not b.curve[s]]
            if live:
                self._refresh(live, t)
        if starts:
            self._start_voices(starts, t)

    # -- voices ------------------------------------------------------------
    def _end_voice(self, slot: int, t: int, *, cut: bool) -> None:
        b = self._bank
        level = float(
            self._envelope.levels(
                b.on[[slot]], b.off[[slot]], b.off_level[[slot]], b.release_len[[slot]], np.array([t], dtype=np.float64)
            )[0, 0]
        )
        if np.isfinite(b.off[slot]) and not cut:
            return
        b.off_level[slot] = level
        b.off[slot] = t
        b.release_len[slot] = _CUT_S * self.sample_rate if cut else self._envelope.release
        b.cutting[slot] = cut

    def _start_voices(self, sources: list, t: int) -> None:
        """New voices at sample ``t``: their decoder steps at once (fresh state, prev = cur)."""
        b = self._bank
        slots = []
        for src in sources:
            victim = b.steal_victim(self.max_voices)
            if victim is not None:
                self._end_voice(victim, t, cut=True)
            s = b.free_slot()
            b.occupy(s, src)
            serial = next(self._voice_serial)
            b.rng[s] = np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, serial])))
            b.phase[s] = 0.0
            b.state[s] = 0.0
            b.on[s] = t
            b.off[s] = np.inf
            b.release_len[s] = self._envelope.release
            b.cutting[s] = False
            b.curve[s] = isinstance(src, CurveSource)
            b.noise_pos[s] = NOISE_BUFFER
            b.stamp[s] += 1
            b.in_f0[s] = b.in_ld[s] = b.tilt[s] = np.nan
            self._noise.reset([s])
            slots.append(s)
        idx = np.asarray(slots, dtype=np.intp)
        f0, ld, _ = self._refresh(slots, t)
        b.glide_at[idx], b.glide_from[idx], b.glide_to[idx] = -np.inf, f0, f0  # no glide into a new note
        for s in slots:
            self._span_glides.pop(s, None)
        enc = self.decoder.encode(f0, ld)
        midi = ~b.curve[idx]
        b.enc[idx[midi]] = enc[midi]
        b.enc_ok[idx[midi]] = True
        controls, state = self.decoder.run(enc[None], b.state[idx])
        b.state[idx] = state
        amps, irs = self._controls(controls, f0[None], b.tilt_gain[idx])
        b.amps_prev[idx] = b.amps_cur[idx] = amps[0]
        b.f0_prev[idx] = b.f0_cur[idx] = f0
        b.ir[idx] = irs[0]
        b.spec_ok[idx] = False
