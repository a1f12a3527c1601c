"""Live play: a virtual MIDI port in, the audio device out (:mod:`.portaudio`)."""

from instrument_agent.live.portaudio import (
    AudioDeviceError,
    LatencyReport,
    LiveError,
    LivePerformance,
    MidiBackendError,
    port_name,
)

__all__ = ["AudioDeviceError", "LatencyReport", "LiveError", "LivePerformance", "MidiBackendError", "port_name"]
