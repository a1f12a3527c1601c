"""Live play: MIDI in, audio out, through JACK (:mod:`.jack`, a JACK/PipeWire-JACK server) or
PortAudio with a virtual MIDI port (:mod:`.portaudio`); :mod:`.backend` picks one,
:mod:`.output` is the agent player's audio output. JACK-Client is imported only when JACK plays."""

from instrument_agent.live.backend import BACKENDS, BackendError, choose_backend, jack_server_running
from instrument_agent.live.output import AudioOutput, OutputFigures
from instrument_agent.live.portaudio import (
    AudioDeviceError,
    LatencyReport,
    LiveError,
    LivePerformance,
    MidiBackendError,
    port_name,
)

__all__ = [
    "BACKENDS",
    "AudioDeviceError",
    "AudioOutput",
    "BackendError",
    "LatencyReport",
    "LiveError",
    "LivePerformance",
    "MidiBackendError",
    "OutputFigures",
    "choose_backend",
    "jack_server_running",
    "port_name",
]
