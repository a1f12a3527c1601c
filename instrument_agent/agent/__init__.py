"""The ``amadeus agent`` service: background sync from the selected studio (offline
first), practices followed to the end, the performance engine behind a virtual MIDI
port and the audio output (hot-swapped to each newly synced personality without a
dropout), and a local web UI with Practice, Play and Repair tabs.

Run it with ``amadeus agent``; see docs/agent.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from instrument_agent.agent.follow import PreviewFollower
    from instrument_agent.agent.player import PlayerError, PlayerHost, Playing
    from instrument_agent.agent.practices import PracticeBoard, PracticeRow
    from instrument_agent.agent.service import Agent
    from instrument_agent.agent.web import MAX_UPLOAD_BYTES, AgentServer, UploadError

# Loaded on first use: the client's sync needs ``agent.state`` without the whole service,
# which itself imports the sync (the service -> sync -> state chain has no cycle this way).
_EXPORTS = {
    "MAX_UPLOAD_BYTES": "web",
    "Agent": "service",
    "AgentServer": "web",
    "PlayerError": "player",
    "PlayerHost": "player",
    "Playing": "player",
    "PracticeBoard": "practices",
    "PreviewFollower": "follow",
    "PracticeRow": "practices",
    "UploadError": "web",
}

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Agent",
    "AgentServer",
    "PlayerError",
    "PlayerHost",
    "Playing",
    "PracticeBoard",
    "PracticeRow",
    "PreviewFollower",
    "UploadError",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
