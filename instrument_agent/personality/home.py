"""Where Amadeus keeps its data on this machine."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["amadeus_home"]


def amadeus_home() -> Path:
    """The Amadeus home directory: ``$AMADEUS_HOME`` when set, else the user's
    data directory (``~/.local/share/amadeus`` on Linux,
    ``~/Library/Application Support/amadeus`` on macOS, ``%LOCALAPPDATA%\\amadeus`` on Windows)."""
    override = os.environ.get("AMADEUS_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("amadeus", appauthor=False))
