"""What a hot swap carries from the playing engine to the new one (:class:`HeldState`) and how
the two are mixed while it fades (:func:`crossfade_gains`); used by
:class:`~instrument_agent.agent.player.PlayerHost`."""

from __future__ import annotations

import mido
import numpy as np

__all__ = ["HeldState", "crossfade_gains"]


def crossfade_gains(ramp: np.ndarray, curve: str) -> tuple[np.ndarray, np.ndarray]:
    """(new, old) gains [n] float32 for crossfade positions ``ramp`` [n] in 0..1."""
    if curve == "linear":
        return ramp.astype(np.float32), (1.0 - ramp).astype(np.float32)
    angle = 0.5 * np.pi * ramp
    return np.sin(angle).astype(np.float32), np.cos(angle).astype(np.float32)


class HeldState:
    """What a new engine must hear to continue the current sound: held notes and the
    latest controller, bend and pressure values per channel (in the order they came)."""

    def __init__(self):
        self.notes: dict[tuple[int, int], int] = {}
        self.onsets: dict[tuple[int, int], int] = {}  # the player's sample each held note began at
        self.controls: dict[tuple, mido.Message] = {}

    def held_samples(self, now: int) -> int:
        """How long the oldest held note has sounded, samples (0: none held)."""
        held = [self.onsets[key] for key in self.notes if key in self.onsets]
        return max(0, now - min(held)) if held else 0

    def track(self, msg: mido.Message, now: int = 0) -> None:
        if msg.type == "note_on" and msg.velocity > 0:
            self.notes[(msg.channel, msg.note)] = msg.velocity
            self.onsets.setdefault((msg.channel, msg.note), now)
        elif msg.type in ("note_off", "note_on"):
            self.notes.pop((msg.channel, msg.note), None)
            self.onsets.pop((msg.channel, msg.note), None)
        elif msg.type == "control_change":
            if msg.control in (120, 123):  # all sound / notes off
                self.notes = {k: v for k, v in self.notes.items() if k[0] != msg.channel}
            key = ("cc", msg.channel, msg.control)
            self.controls.pop(key, None)
            self.controls[key] = msg
        elif msg.type in ("pitchwheel", "aftertouch"):
            key = (msg.type, msg.channel)
            self.controls.pop(key, None)
            self.controls[key] = msg
        elif msg.type == "polytouch":
            key = ("polytouch", msg.channel, msg.note)
            self.controls.pop(key, None)
            self.controls[key] = msg
        elif msg.type == "reset":
            self.notes.clear()
            self.controls.clear()

    def replay(self) -> list[mido.Message]:
        messages = [m for m in self.controls.values() if not (m.type == "control_change" and m.control in (120, 123))]
        messages += [mido.Message("note_on", channel=c, note=n, velocity=v) for (c, n), v in self.notes.items()]
        return messages
