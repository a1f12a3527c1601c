"""A scripted expressive MPE performance: every held note bends, presses and slides on its own.

Shaped like a recording of a Seaboard/Linnstrument player, not like random noise:
notes enter one after another (at sample offsets inside blocks), each finger settles
into a vibrato (5-6 Hz, depth growing over half a second, a little drift), its
pressure swells after the strike and breathes slowly with a small tremor, and its
slide (CC74) moves slowly; a few notes glide by a semitone or two half-way. Values are
quantised as a controller sends them (14-bit bend, 7-bit pressure and CC74) and sent
every ``period`` samples per note, each dimension at its own offset inside the block,
as a controller's messages arrive spread over time.

One channel per note (16 notes need 16 channels; an MPE zone has at most 15 members),
each channel's bend range set to 48 semitones with RPN 0 as MPE member channels have.
"""

from __future__ import annotations

import mido
import numpy as np

__all__ = ["BEND_RANGE", "mpe_performance"]

BEND_RANGE = 48  # semitones, as MPE member channels
_CHORD = (40, 47, 52, 55, 59, 62, 64, 67, 69, 71, 72, 74, 76, 79, 81, 83)  # E2 .. B5, spread voicing


def _bend_value(semitones: float) -> int:
    return int(np.clip(round(semitones / BEND_RANGE * 8191), -8192, 8191))


def mpe_performance(
    voices: int, seconds: float, sample_rate: int, period: int = 128, seed: int = 0
) -> list[tuple[int, mido.Message]]:
    """(sample, message) pairs, time-ordered: ``voices`` notes (1..16) held for about ``seconds``,
    each sending pitch bend, channel pressure and CC74 every ``period`` samples.

    The notes start 11.3 ms apart (off block edges) and end 0.3 s before ``seconds``.
    """
    if not 1 <= voices <= len(_CHORD):
        raise ValueError(f"voices must be 1..{len(_CHORD)}, got {voices}")
    rng = np.random.default_rng(seed)
    m = mido.Message
    events: list[tuple[int, int, mido.Message]] = []
    total = int(seconds * sample_rate)
    release = total - int(0.3 * sample_rate)
    for v in range(voices):
        for control, value in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0)):
            events.append((0, 0, m("control_change", channel=v, control=control, value=value)))
    for v in range(voices):
        ch = v
        start = int(round((0.0113 * v + 0.0007) * sample_rate))
        rate = 5.0 + rng.uniform(0.0, 1.0)  # Hz vibrato
        depth = rng.uniform(0.15, 0.35)  # semitones, reached after 0.5 s
        phase = rng.uniform(0.0, 2 * np.pi)
        breath = rng.uniform(0.2, 0.5)  # Hz pressure swell
        glide_at = rng.uniform(0.4, 0.7) * (release - start) + start
        glide = rng.choice([-2.0, -1.0, 0.0, 1.0, 2.0])
        events.append((start, 1, m("pitchwheel", channel=ch, pitch=0)))
        events.append((start, 2, m("note_on", channel=ch, note=_CHORD[v], velocity=int(rng.integers(70, 120)))))
        offsets = rng.integers(0, period, size=3)  # each dimension's phase inside the period
        for t0 in range(start - start % period + period, release, period):
            for dim, off in enumerate(offsets.tolist()):
                t = t0 + off
                if t >= release:
                    continue
                age = (t - start) / sample_rate
                if dim == 0:
                    vib = depth * min(age / 0.5, 1.0) * np.sin(2 * np.pi * rate * age + phase)
                    slide = glide * np.clip((t - glide_at) / (0.08 * sample_rate), 0.0, 1.0)
                    message = m("pitchwheel", channel=ch, pitch=_bend_value(vib + slide + 0.03 * np.sin(age)))
                elif dim == 1:
                    swell = min(age / 0.15, 1.0) * (0.6 + 0.25 * np.sin(2 * np.pi * breath * age + phase))
                    tremor = 0.04 * np.sin(2 * np.pi * 7.3 * age + 2 * phase)
                    message = m("aftertouch", channel=ch, value=int(np.clip(round(127 * (swell + tremor)), 0, 127)))
                else:
                    slide74 = 0.5 + 0.35 * np.sin(2 * np.pi * 0.23 * age + 3 * phase)
                    message = m("control_change", channel=ch, control=74, value=int(round(127 * slide74)))
                events.append((t, 3, message))
        events.append((release + 37 * v, 4, m("note_off", channel=ch, note=_CHORD[v])))
    events.sort(key=lambda e: (e[0], e[1]))
    return [(t, msg) for t, _, msg in events]
