"""MPE zones and registered parameters (RPN 0 pitch-bend range, RPN 6 MPE configuration).

MIDI channels here are 0-based (mido): channel 0 is MIDI channel 1.

* Lower zone: master channel 0 (MIDI 1), member channels 1..n.
* Upper zone: master channel 15 (MIDI 16), member channels 14 down to 15-m.

An MPE Configuration Message (RPN 6 on a master channel, data entry MSB = the
number of member channels, 0 turns the zone off) sets a zone and resets its
pitch-bend ranges (members: the playerProfile's MPE range, 48 semitones by
default; master: the master range, 2 by default). With no zone configured
every channel is a plain MIDI channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MpeZones", "RpnTracker"]

LOWER_MASTER = 0
UPPER_MASTER = 15


@dataclass
class MpeZones:
    """The MPE layout of the 16 channels and their pitch-bend ranges.

    Args:
        member_bend_range: semitones for member channels (MPE default 48).
        master_bend_range: semitones for master and plain channels (default 2).
    """

    member_bend_range: float = 48.0
    master_bend_range: float = 2.0
    lower_members: int = 0
    upper_members: int = 0
    bend_range: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.bend_range:
            self.bend_range = [self.master_bend_range] * 16

    @property
    def active(self) -> bool:
        """True when an MPE zone is configured."""
        return bool(self.lower_members or self.upper_members)

    def configure(self, master: int, members: int) -> None:
        """Apply an MPE Configuration Message received on ``master`` (0 or 15)."""
        members = max(0, min(15, int(members)))
        if master == LOWER_MASTER:
            self.lower_members = members
            if self.upper_members and members + self.upper_members > 14:
                self.upper_members = max(0, 14 - members)
        elif master == UPPER_MASTER:
            self.upper_members = members
            if self.lower_members and members + self.lower_members > 14:
                self.lower_members = max(0, 14 - members)
        else:
            return
        for channel in range(16):
            zone = self.zone_of(channel)
            if zone is None:
                continue
            self.bend_range[channel] = (
                self.master_bend_range if self.master_of(channel) == channel else self.member_bend_range
            )

    def zone_of(self, channel: int) -> str | None:
        """``"lower"``, ``"upper"`` or None (plain channel) for a channel (master included)."""
        if self.lower_members and 0 <= channel <= self.lower_members:
            return "lower"
        if self.upper_members and 15 - self.upper_members <= channel <= 15:
            return "upper"
        return None

    def is_member(self, channel: int) -> bool:
        """True for a member channel of a zone (a per-note channel)."""
        master = self.master_of(channel)
        return master is not None and master != channel

    def master_of(self, channel: int) -> int | None:
        """The master channel of the zone ``channel`` belongs to (None when plain)."""
        zone = self.zone_of(channel)
        return None if zone is None else (LOWER_MASTER if zone == "lower" else UPPER_MASTER)

    def reset(self) -> None:
        """Back to plain MIDI (system reset)."""
        self.lower_members = self.upper_members = 0
        self.bend_range = [self.master_bend_range] * 16


class RpnTracker:
    """Follows CC 101/100 (RPN select) and CC 6/38 (data entry) per channel.

    :meth:`control_change` returns ``(rpn, msb, lsb)`` when a data entry
    completes a registered parameter, else None.
    """

    def __init__(self) -> None:
        self._rpn = [[127, 127] for _ in range(16)]
        self._msb = [0] * 16

    def control_change(self, channel: int, control: int, value: int) -> tuple[int, int, int] | None:
        if control == 101:
            self._rpn[channel][0] = value
        elif control == 100:
            self._rpn[channel][1] = value
        elif control in (98, 99):  # an NRPN selection deselects the RPN
            self._rpn[channel] = [127, 127]
        elif control in (6, 38):
            msb_sel, lsb_sel = self._rpn[channel]
            if msb_sel == 127 and lsb_sel == 127:
                return None
            if control == 6:
                self._msb[channel] = value
                return (msb_sel << 7 | lsb_sel, value, 0)
            return (msb_sel << 7 | lsb_sel, self._msb[channel], value)
        return None

    def reset(self) -> None:
        self.__init__()
