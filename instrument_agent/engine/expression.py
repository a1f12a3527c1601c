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
_VECTOR_ROWS = 6  # gliding voices from which their knots are built with numpy (fewer: Python is cheaper)
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

    def _voices_by_channel(self) -> dict[int, list[int]]:
        """{channel: slots of the MIDI voices a message on it moves} (a zone's master moves its
        members), cached until a voice starts or ends or the zones change."""
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
        return cached[2]

    def _apply_expression(self, events: list[tuple[int, object]]) -> None:
        """Apply expression messages ``(sample, message)`` in order: pitch glides at their samples;
        the voices they move are re-read for the decoder when the next frame's inputs freeze (:meth:`_freeze`)."""
        if not events:
            return
        midi, b, dirty = self._midi, self._bank, self._dirty
        transpose = self._mapping.transpose - 69.0  # the mapping's f0, in Python floats (one note at a time)
        freeze_at = self._freeze_time(self._frame + 1) if self._frozen <= self._frame else np.inf
        by_channel = self._voices_by_channel()  # expression starts and ends no voice, nor changes zones
        for t, message in events:
            if t >= freeze_at:  # the next frame's inputs are those before this message
                self._freeze()
                freeze_at = np.inf
            midi.apply(message)
            slots = by_channel.get(message.channel, ())
            if message.type == "pitchwheel":
                source = b.source
                for s in slots:
                    self._glide(s, t, 440.0 * 2.0 ** ((midi.pitch(source[s]) + transpose) / 12.0))
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
        """[V, n] float64 oscillator f0 (Hz) of MIDI voices ``slots`` at samples ``start..stop-1``.

        Voices with no glide in the span are constant rows; the gliding ones' knots (built for all
        at once with numpy from 6 voices on) go through one ``np.interp`` together (each row offset
        by ``n + 1`` samples from the last)."""
        if slots.size < _VECTOR_ROWS:
            return self._midi_track_few(slots, start, stop)
        b, glide, n = self._bank, self._glide_len, stop - start
        track = np.empty((slots.size, n))
        span = self._span_glides
        moving = b.glide_at[slots] + glide > start
        if span:
            moving |= np.fromiter((s in span for s in slots.tolist()), dtype=bool, count=slots.size)
        if not moving.all():
            still = ~moving
            track[still] = b.glide_to[slots[still]][:, None]
        rows = np.flatnonzero(moving)
        if not rows.size:
            return track
        moved = slots[rows]
        knots = _prior_and_glide(b, span, moved)
        if knots is None:  # a voice glided more than once in the span (long blocks): voice by voice
            track[rows] = self._midi_track_few(moved, start, stop)
            return track
        xk, yk = _knots5(*knots, start, stop, glide)
        _interp_rows(track, rows, xk, yk, start, n)
        return track

    def _midi_track_few(self, slots: np.ndarray, start: int, stop: int) -> np.ndarray:
        """:meth:`_midi_track` voice by voice (cheaper in Python than numpy for a few voices)."""
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


def _prior_and_glide(b, span: dict, moved: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """[R] arrays (prior at/from/to, glide at/from/to, has glide) of voices ``moved`` when each has at
    most one glide started in the span (the live case: one bend a block); None otherwise."""
    ats, froms, tos = b.glide_at[moved], b.glide_from[moved], b.glide_to[moved]
    if not span:
        return ats, froms, tos, ats, froms, tos, np.zeros(moved.size, dtype=bool)
    prior = np.stack([ats, froms, tos], axis=1)
    new = prior.copy()
    has = np.zeros(moved.size, dtype=bool)
    for j, s in enumerate(moved.tolist()):
        glides = span.get(s)
        if glides is None:
            continue
        if len(glides) != 2:
            return None
        prior[j], new[j], has[j] = glides[0], glides[1], True
    return (*prior.T, *new.T, has)


def _value_at(at, start, end, t, glide):
    """:func:`_value` of arrays (the same arithmetic, element by element)."""
    return start + (end - start) * np.minimum(np.maximum((t - at) / glide, 0.0), 1.0)


def _knots5(pa, pf, pt, ga, gf, gt, has, start: int, stop: int, glide: float) -> tuple[np.ndarray, np.ndarray]:
    """[R, 5] knots (samples, Hz): :func:`glide_knots` of each row's prior and at most one glide,
    knots a row lacks repeated (a repeated knot changes nothing ``np.interp`` returns)."""
    s0, s1 = float(start), float(stop)
    y0 = _value_at(pa, pf, pt, s0, glide)
    end1 = pa + glide
    c1 = (s0 < end1) & (end1 < np.where(has, ga, s1))
    x1, y1 = np.where(c1, end1, s0), np.where(c1, pt, y0)
    x2, y2 = np.where(has, ga, x1), np.where(has, gf, y1)
    sa, sf, st = np.where(has, ga, pa), np.where(has, gf, pf), np.where(has, gt, pt)
    end2 = sa + glide
    c2 = (x2 < end2) & (end2 < s1)
    x3, y3 = np.where(c2, end2, x2), np.where(c2, st, y2)
    y4 = _value_at(sa, sf, st, s1, glide)
    rows = pa.size
    xk = np.stack([np.full(rows, s0), x1, x2, x3, np.full(rows, s1)], axis=1)
    yk = np.stack([y0, y1, y2, y3, y4], axis=1)
    return xk, yk


def _interp_rows(track: np.ndarray, rows: np.ndarray, xk: np.ndarray, yk: np.ndarray, start: int, n: int) -> None:
    """Fill ``track[rows]`` [R, n] from each row's knots xk, yk [R, K] (samples ``start..start+n``),
    all rows in one ``np.interp`` (row j offset by ``j (n + 1)`` samples)."""
    offset = (np.arange(rows.size, dtype=np.float64) * (n + 1) - start)[:, None]
    at = (np.arange(rows.size)[:, None] * (n + 1) + np.arange(n)[None, :]).ravel()
    track[rows] = np.interp(at, (xk + offset).ravel(), yk.ravel()).reshape(rows.size, n)
