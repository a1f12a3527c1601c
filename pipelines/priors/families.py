"""The instrument families the project trains priors for: General MIDI programs, note ranges, seeds.

Everything a prior learns from is rendered here from FluidR3_GM (``fluid-soundfont-gm``, MIT
licence), so the shipped weights carry that licence; the data card records these values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAMILIES", "SOUNDFONT", "Family", "Instrument", "UnknownFamilyError", "family"]

SOUNDFONT = {
    "name": "FluidR3_GM",
    "package": "fluid-soundfont-gm (Debian)",
    "path": "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "licence": "MIT",
    "copyright": "Copyright (c) 2000-2002, 2008 Frank Wen",
}


class UnknownFamilyError(ValueError):
    """A family name that :data:`FAMILIES` does not have."""


@dataclass(frozen=True)
class Instrument:
    """One GM program and the MIDI notes (inclusive range) its phrases use."""

    program: int
    name: str
    low: int
    high: int


@dataclass(frozen=True)
class Family:
    """A prior's family: its name, instruments and the seed of its phrases."""

    name: str
    instruments: tuple[Instrument, ...]
    seed: int


_STRINGS = (Instrument(40, "Violin", 55, 88), Instrument(41, "Viola", 48, 79), Instrument(42, "Cello", 36, 69))
_FLUTES = (Instrument(73, "Flute", 60, 93), Instrument(72, "Piccolo", 74, 100), Instrument(74, "Recorder", 60, 86))
_REEDS = (
    Instrument(71, "Clarinet", 50, 86),
    Instrument(68, "Oboe", 58, 88),
    Instrument(70, "Bassoon", 34, 70),
    Instrument(65, "Alto Sax", 49, 80),
)
_BRASS = (Instrument(56, "Trumpet", 54, 82), Instrument(57, "Trombone", 40, 72), Instrument(60, "French Horn", 41, 77))

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("bowed-strings", _STRINGS, 40),
        Family("flutes", _FLUTES, 73),
        Family("reeds", _REEDS, 71),
        Family("brass", _BRASS, 56),
        Family("general", (_STRINGS[0], _STRINGS[2], _FLUTES[0], _REEDS[0], _REEDS[1], _BRASS[0], _BRASS[1]), 1),
    )
}
"""Family name → :class:`Family` (the prior's name is the family's)."""


def family(name: str) -> Family:
    """The family called ``name``; raises :class:`UnknownFamilyError` listing the known ones."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(f"unknown prior family {name!r} (known: {', '.join(FAMILIES)})") from None
