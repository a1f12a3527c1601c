"""The ``amadeus agent`` service: background sync from the selected studio (offline
first), practices followed to the end, the performance engine behind a virtual MIDI
port and the audio output (hot-swapped to each newly synced personality without a
dropout), and a local web UI with Practice, Play and Repair tabs.

Run it with ``amadeus agent``; see docs/agent.md.
"""

from instrument_agent.agent.player import PlayerError, PlayerHost, Playing
from instrument_agent.agent.practices import PracticeBoard, PracticeRow
from instrument_agent.agent.service import Agent
from instrument_agent.agent.web import MAX_UPLOAD_BYTES, AgentServer, UploadError

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Agent",
    "AgentServer",
    "PlayerError",
    "PlayerHost",
    "Playing",
    "PracticeBoard",
    "PracticeRow",
    "UploadError",
]
