"""The engine's voices: one slot per sounding note (or curve), their state as arrays, allocation and stealing.

Every per-voice quantity is one array with a row per slot (:class:`VoiceBank`),
so the engine computes a frame for all sounding voices with batched numpy calls.
Slots are reused: a freed slot keeps its rows until a new voice overwrites them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NOISE_BUFFER", "VoiceBank"]

NOISE_BUFFER = 4096  # white-noise samples drawn ahead per voice (one generator call per 4096 samples)


def _rows(dtype, width: str | None = None, fill: float | bool | int = 0.0):
    """A per-voice array field: [S] (or [S, width]) of ``dtype``, new rows set to ``fill``."""
    return field(default=None, metadata={"dtype": dtype, "width": width, "fill": fill})


@dataclass(eq=False)
class VoiceBank:
    """State of S voice slots (S = :attr:`capacity`). Build with :meth:`empty`; :meth:`grown` adds slots.

    Widths: H harmonics, G GRU units, L noise-filter taps, E encoded decoder inputs.
    """

    source: list = field(default_factory=list)  # [S] the note (MIDI) or curves a slot plays; None: free
    rng: list = field(default_factory=list)  # [S] each voice's own noise generator
    phase: np.ndarray = _rows(np.float64)  # fundamental phase, radians
    f0_prev: np.ndarray = _rows(np.float64)  # Hz at the previous control frame
    f0_cur: np.ndarray = _rows(np.float64)  # Hz at the current control frame
    amps_prev: np.ndarray = _rows(np.float32, "harmonics")  # [S, H] linear amplitudes, previous frame
    amps_cur: np.ndarray = _rows(np.float32, "harmonics")  # [S, H] linear amplitudes, current frame
    state: np.ndarray = _rows(np.float32, "gru")  # [S, G] decoder GRU state
    ir: np.ndarray = _rows(np.float32, "taps")  # [S, L] the current frame's noise filter
    on: np.ndarray = _rows(np.float64)  # note-on sample
    off: np.ndarray = _rows(np.float64, fill=np.inf)  # note-off (or cut) sample; inf while held
    off_level: np.ndarray = _rows(np.float64)  # envelope level at the note-off
    release_len: np.ndarray = _rows(np.float64, fill=1.0)  # samples of the release (or cut fade)
    cutting: np.ndarray = _rows(bool, fill=False)  # fading out after a steal or a cut
    curve: np.ndarray = _rows(bool, fill=False)  # driven by curves, not MIDI
    in_f0: np.ndarray = _rows(np.float64, fill=np.nan)  # decoder input f0 (Hz) of a MIDI voice
    in_ld: np.ndarray = _rows(np.float64, fill=np.nan)  # decoder input loudness (dB) of a MIDI voice
    enc: np.ndarray = _rows(np.float32, "encoded")  # [S, E] encoded inputs of a MIDI voice
    enc_ok: np.ndarray = _rows(bool, fill=False)  # enc is up to date with in_f0/in_ld
    tilt: np.ndarray = _rows(np.float64, fill=np.nan)  # harmonic tilt, dB/octave
    tilt_gain: np.ndarray = _rows(np.float32, "harmonics", fill=1.0)  # [S, H] gains of the tilt
    stamp: np.ndarray = _rows(np.int64)  # bumped whenever a voice's state, inputs or tilt change
    noise_buf: np.ndarray = _rows(np.float32, "noise")  # [S, NOISE_BUFFER] white noise drawn ahead
    noise_pos: np.ndarray = _rows(np.int64, fill=NOISE_BUFFER)  # next unread sample of noise_buf
    spec_ok: np.ndarray = _rows(bool, fill=False)  # the engine's cached filter spectrum is current
    glide_at: np.ndarray = _rows(np.float64, fill=-np.inf)  # sample the oscillator's last glide started
    glide_from: np.ndarray = _rows(np.float64)  # Hz at its start
    glide_to: np.ndarray = _rows(np.float64)  # Hz it reaches (the MIDI pitch now)
    _live: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def empty(cls, capacity: int, *, n_harmonics: int, gru_units: int, ir_size: int, encoded_size: int) -> VoiceBank:
        """A bank of ``capacity`` free slots."""
        widths = {"harmonics": n_harmonics, "gru": gru_units, "taps": ir_size, "encoded": encoded_size}
        widths["noise"] = NOISE_BUFFER
        arrays = {
            f.name: np.zeros(
                (0,) if f.metadata["width"] is None else (0, widths[f.metadata["width"]]), f.metadata["dtype"]
            )
            for f in dataclasses.fields(cls)
            if "dtype" in f.metadata
        }
        return cls(**arrays).grown(capacity)

    @property
    def capacity(self) -> int:
        return len(self.source)

    def grown(self, capacity: int) -> VoiceBank:
        """A bank of ``capacity`` slots: these slots' rows, then free ones."""
        old, extra = self.capacity, capacity - self.capacity
        changes: dict[str, object] = {"source": self.source + [None] * extra, "rng": self.rng + [None] * extra}
        for f in dataclasses.fields(self):
            if "dtype" in f.metadata:
                rows = getattr(self, f.name)
                new = np.full((capacity,) + rows.shape[1:], f.metadata["fill"], dtype=rows.dtype)
                new[:old] = rows
                changes[f.name] = new
        return dataclasses.replace(self, **changes, _live=None)

    # -- allocation --------------------------------------------------------
    def live(self) -> np.ndarray:
        """[V] slots of the sounding voices, ascending (cached until a voice starts or ends)."""
        if self._live is None:
            self._live = np.fromiter((s for s, src in enumerate(self.source) if src is not None), dtype=np.intp)
        return self._live

    def occupy(self, slot: int, source) -> None:
        self.source[slot] = source
        self._live = None

    def free(self, slot: int) -> None:
        self.source[slot] = None
        self._live = None

    def next_end(self, earliest: int) -> float:
        """The first sample (>= ``earliest``) by which a sounding voice's release has ended (inf: none ends).

        A span stops there so that the voice leaves the batch at the same sample whatever
        the block size: the decoder's numbers for the other voices depend on the batch they
        are stepped in (:class:`~instrument_agent.decoder.Decoder`), so a voice that lingered
        until the end of a longer span would change them.
        """
        live = self.live()
        if not live.size:
            return np.inf
        end = float(np.min(self.off[live] + self.release_len[live]))
        return max(int(np.ceil(end)), earliest) if np.isfinite(end) else np.inf

    def slot_of(self, source) -> int | None:
        for s, src in enumerate(self.source):
            if src is source:
                return s
        return None

    def free_slot(self) -> int:
        """A free slot; when every slot is still fading, the one closest to silence is dropped."""
        for s, src in enumerate(self.source):
            if src is None:
                return s
        s = int(np.argmin(self.off + self.release_len))
        self.free(s)
        return s

    def steal_victim(self, max_voices: int) -> int | None:
        """The voice to cut before another starts when ``max_voices`` are sounding (not fading):
        the oldest releasing one, else the oldest. None while there is room."""
        sounding = [s for s, src in enumerate(self.source) if src is not None and not self.cutting[s]]
        if len(sounding) < max_voices:
            return None
        releasing = [s for s in sounding if np.isfinite(self.off[s])]
        pool = releasing or sounding
        return min(pool, key=lambda s: (self.off[s] if releasing else self.on[s], s))

    # -- noise -------------------------------------------------------------
    def white(self, idx: np.ndarray, n: int) -> np.ndarray:
        """[V, n] float32 uniform noise in [-1, 1): each voice's own generator, read in order."""
        pos = self.noise_pos[idx]
        size = NOISE_BUFFER
        if pos.max() + n <= size:
            self.noise_pos[idx] = pos + n
            return self.noise_buf[idx[:, None], pos[:, None] + np.arange(n)]
        out = np.empty((idx.size, n), dtype=np.float32)
        for i, (s, p) in enumerate(zip(idx.tolist(), pos.tolist(), strict=True)):
            have = min(size - p, n)
            out[i, :have] = self.noise_buf[s, p : p + have]
            rest = n - have
            if rest >= size:  # a long span: draw it directly, the buffer stays empty
                self.rng[s].random(rest, dtype=np.float32, out=out[i, have:])
                out[i, have:] *= 2.0
                out[i, have:] -= 1.0
                self.noise_pos[s] = size
            elif rest:
                buf = self.noise_buf[s]
                self.rng[s].random(size, dtype=np.float32, out=buf)
                buf *= 2.0
                buf -= 1.0
                out[i, have:] = buf[:rest]
                self.noise_pos[s] = rest
            else:
                self.noise_pos[s] = p + have
        return out
