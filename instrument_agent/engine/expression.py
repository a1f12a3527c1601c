"""Expression inside a span: controller messages that move a sounding note without starting or ending one.

An MPE controller sends pitch bend, pressure and slide (CC74) for every held note
hundreds of times a second, each message with its own sample offset. Such a message
does not cut the span being rendered (cutting at every message would render a block
in dozens of pieces); it acts at its own sample:

* **pitch** (pitch bend; a master channel's bend moves its zone): the oscillator
  glides linearly from the f0 it has at that sample to the new one over
  :data:`GLIDE_S` (a bend step becomes a short ramp: no zipper, and a stream of bend
  messages a few ms apart becomes a continuous, piecewise-linear pitch curve);
* **loudness and timbre** (channel/poly pressure, CC74, CC7, CC11) are frame-rate
  decoder inputs: the MIDI state takes the value at its sample; the inputs of control
  frame ``k`` are those at sample ``boundary(k) - lead`` (:data:`INPUT_LEAD_S`, "frozen"
  there), and the harmonic amplitudes then move linearly over the frame. Freezing the
  inputs a fixed time ahead lets the frame's decoder step run in the blocks before its
  boundary with exactly the numbers the boundary would compute (16 voices whose inputs all
  move every block: ~0.6 ms of decoder work that would otherwise land in one 2.7 ms block).

Everything is keyed to absolute sample times, so the audio does not depend on the block size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GLIDE_S", "INPUT_LEAD_S", "ExpressionHandler", "glide_knots", "is_expression"]

INPUT_LEAD_S = 0.008  # decoder inputs are read this long before their frame's boundary (at most half a frame)
GLIDE_S = 0.003  # seconds a pitch change glides over (about one message period of a 375 Hz bend stream)
_STRUCTURAL_CC = frozenset({6, 38, 64, 98, 99, 100, 101})  # RPN/MPE setup and sustain can end notes or retune


def is_expression(message) -> bool:
    """Whether a message only moves sounding notes (it never starts, ends or retunes one)."""
    kind = getattr(message, "type", None)
    if kind in ("pitchwheel", "aftertouch", "polytouch"):
        return True
    return kind == "control_change" and message.control < 120 and message.control not in _STRUCTURAL_CC


def _value(state: tuple[float, float, float], t: float, glide: float) -> float:
    at, start, end = state
    return start + (end - start) * min(max((t - at) / glide, 0.0), 1.0)


def glide_knots(
    prior: tuple[float, float, float], glides: list[tuple[float, float, float]], start: int, stop: int, glide: float
) -> tuple[list[float], list[float]]:
    """Knots (samples, Hz) of a voice's piecewise-linear f0 over ``[start, stop]``.

    Args:
        prior: the glide (start sample, from Hz, to Hz) in force at ``start``.
        glides: glides started inside the span, in time order.
        glide: samples a glide lasts.
    """
    xs, ys = [float(start)], [_value(prior, start, glide)]
    state = prior
    for g in glides:
        end = state[0] + glide
        if xs[-1] < end < g[0]:
            xs.append(end)
            ys.append(state[2])
        xs.append(g[0])
        ys.append(g[1])
        state = g
    end = state[0] + glide
    if xs[-1] < end < stop:
        xs.append(end)
        ys.append(state[2])
    xs.append(float(stop))
    ys.append(_value(state, stop, glide))
    return xs, ys


class ExpressionHandler:
    """Expression messages and pitch glides for :class:`~instrument_agent.engine.Engine`, which provides
    the voices (``_bank``), the MIDI state, the mapping and ``_refresh``."""

    def _glide(self, slot: int, t: float, target: float) -> None:
        """Start a glide of ``slot``'s oscillator at sample ``t`` towards ``target`` Hz (recorded for the span)."""
        b = self._bank
        prior = (float(b.glide_at[slot]), float(b.glide_from[slot]), float(b.glide_to[slot]))
        if target == prior[2]:
            return
        now = _value(prior, t, self._glide_len)
        self._span_glides.setdefault(slot, [prior]).append((float(t), now, target))
        b.glide_at[slot], b.glide_from[slot], b.glide_to[slot] = t, now, target

    def _glide_slots(self, slots: np.ndarray, targets: np.ndarray, t: float) -> None:
        for s, f in zip(slots.tolist(), targets.tolist(), strict=True):
            self._glide(s, t, f)

    def _voices_of(self, channel: int) -> list[int]:
        """Slots of the MIDI voices a message on ``channel`` moves (a zone's master moves its members)."""
        b, zones = self._bank, self._midi.zones
        live = b.live()
        key = (zones.lower_members, zones.upper_members)
        cached = self._by_channel
        if cached is None or cached[0] is not live or cached[1] != key:
            by_channel: dict[int, list[int]] = {}
            for s in live.tolist():
                if b.curve[s]:
                    continue
                ch = b.source[s].channel
                by_channel.setdefault(ch, []).append(s)
                master = zones.master_of(ch)
                if master is not None and master != ch:
                    by_channel.setdefault(master, []).append(s)
            cached = self._by_channel = (live, key, by_channel)
        return cached[2].get(channel, [])

    def _apply_expression(self, events: list[tuple[int, object]]) -> None:
        """Apply expression messages ``(sample, message)`` in order: pitch glides at their samples;
        the voices they move are re-read for the decoder when the next frame's inputs freeze (:meth:`_freeze`)."""
        if not events:
            return
        midi, b, dirty = self._midi, self._bank, self._dirty
        transpose = self._mapping.transpose - 69.0  # the mapping's f0, in Python floats (one note at a time)
        freeze_at = self._freeze_time(self._frame + 1) if self._frozen <= self._frame else np.inf
        for t, message in events:
            if t >= freeze_at:  # the next frame's inputs are those before this message
                self._freeze()
                freeze_at = np.inf
            midi.apply(message)
            slots = self._voices_of(message.channel)
            if message.type == "pitchwheel":
                for s in slots:
                    self._glide(s, t, 440.0 * 2.0 ** ((midi.note_values(b.source[s])[0] + transpose) / 12.0))
            dirty.update(slots)

    def _freeze_time(self, k: int) -> int:
        """The sample whose MIDI state gives control frame ``k``'s decoder inputs."""
        return self._boundary(k) - self._lead

    def _freeze(self) -> None:
        """Freeze the next frame's inputs: re-read the voices expression moved since the last
        freeze (once per frame, whatever the number of messages)."""
        self._frozen = self._frame + 1
        if self._dirty:
            b = self._bank
            slots = [s for s in sorted(self._dirty) if b.source[s] is not None and not b.curve[s]]
            self._dirty.clear()
            if slots:
                self._refresh(slots)

    def _midi_track(self, slots: np.ndarray, start: int, stop: int) -> np.ndarray:
        """[V, n] float64 oscillator f0 (Hz) of MIDI voices ``slots`` at samples ``start..stop-1``."""
        b, glide, n = self._bank, self._glide_len, stop - start
        track = np.empty((slots.size, n))
        xs, ys, rows = [], [], []
        for i, s in enumerate(slots.tolist()):
            glides = self._span_glides.get(s)
            if glides is None and b.glide_at[s] + glide <= start:
                track[i] = b.glide_to[s]  # no glide in this span: constant
                continue
            prior = glides[0] if glides else (float(b.glide_at[s]), float(b.glide_from[s]), float(b.glide_to[s]))
            kx, ky = glide_knots(prior, glides[1:] if glides else [], start, stop, glide)
            offset = len(rows) * (n + 1) - start
            xs.extend(x + offset for x in kx)
            ys.extend(ky)
            rows.append(i)
        if rows:
            at = (np.arange(len(rows))[:, None] * (n + 1) + np.arange(n)[None, :]).ravel()
            track[rows] = np.interp(at, np.asarray(xs), np.asarray(ys)).reshape(len(rows), n)
        return track
