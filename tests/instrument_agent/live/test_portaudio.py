"""Live performance: the MIDI and audio callbacks drive a real engine; the device edges
(PortAudio, the ALSA sequencer) give clear errors when they are absent; without an ALSA
sequencer the virtual port opens on a real JACK server (started by the test)."""

import sys
import time
from pathlib import Path

import mido
import numpy as np
import pytest
from _jack_support import JackServer
from _perform_support import make_personality, rms

from instrument_agent.engine import Engine
from instrument_agent.live.portaudio import AudioDeviceError, LiveError, LivePerformance, MidiBackendError, port_name

ALSA_SEQUENCER = Path("/dev/snd/seq").exists()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("live"))


@pytest.fixture
def live(bundle):
    return LivePerformance(Engine.from_bundle(bundle, sample_rate=48000), bundle.deu, block_size=128)


def test_port_name():
    assert port_name("cello") == "Amadeus cello"


def test_midi_bytes_reach_the_audio_at_the_next_block(live):
    out = np.zeros((128, 2), np.float32)
    live.on_audio(out, 128)
    assert np.all(out == 0)
    live.on_midi((mido.Message("note_on", note=60, velocity=100).bytes(), 0.0))
    live.on_midi(([0xF0, 0x01], 0.0))  # a stray sysex fragment is ignored
    blocks = []
    for _ in range(40):
        live.on_audio(out, 128)
        blocks.append(out.copy())
    audio = np.concatenate(blocks)
    assert np.flatnonzero(audio[:, 0])[0] <= 1  # sounds from the first sample of the block after the event
    assert rms(audio[:, 0]) > 1e-3 and np.array_equal(audio[:, 0], audio[:, 1])
    live.on_midi((mido.Message("control_change", control=120, value=0).bytes(), 0.0))
    for _ in range(4):
        live.on_audio(out, 128)
    assert live.engine.active_voices == 0


def test_latency_report(live):
    report = live.latency()
    assert report.note_s == pytest.approx(128 / 48000)
    assert "2.7 ms for notes" in report.describe() and "20.0 ms" in report.describe()


def test_no_sounddevice_is_a_clear_audio_error(live, monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    with pytest.raises(AudioDeviceError, match="sounddevice is not installed"):
        live.open_audio()


def test_missing_portaudio_or_device_is_a_clear_audio_error(live):
    try:
        import sounddevice
    except OSError:
        with pytest.raises(AudioDeviceError, match="PortAudio library is missing"):
            live.open_audio()
        return
    try:
        sounddevice.query_devices(kind="output")
    except sounddevice.PortAudioError:
        with pytest.raises(AudioDeviceError, match="no usable audio output device"):
            live.open_audio()
        return
    pytest.skip("this machine has an audio output device")


def test_windows_explains_loopmidi(live, monkeypatch):
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(MidiBackendError) as info:
        live.open_midi()
    assert "loopMIDI" in str(info.value) and "--midi-port" in str(info.value)


def test_block_size_out_of_range(bundle):
    with pytest.raises(LiveError, match="block size 16"):
        LivePerformance(Engine.from_bundle(bundle, sample_rate=48000), bundle.deu, block_size=16)


def test_virtual_port_receives_midi_on_a_jack_server(live):
    """Where the ALSA sequencer is missing (here: no /dev/snd), the virtual port opens on rtmidi's
    JACK API; a note sent to it from another JACK MIDI client reaches the performance's queue."""
    import rtmidi

    server = JackServer().start()
    try:
        live.open_midi()
        out = rtmidi.MidiOut(rtmidi.API_UNSPECIFIED if ALSA_SEQUENCER else rtmidi.API_UNIX_JACK)
        index = next(i for i, name in enumerate(out.get_ports()) if port_name(live.deu) in name)
        out.open_port(index)
        out.send_message([0x90, 60, 100])
        deadline = time.time() + 2.0
        while live._queue.empty() and time.time() < deadline:
            time.sleep(0.01)
        assert live._queue.get_nowait().type == "note_on"
        out.close_port()
        out.delete()
    finally:
        live.stop()
        server.stop()


def test_no_alsa_sequencer_and_no_jack_server_is_a_clear_midi_error(live, monkeypatch):
    if ALSA_SEQUENCER:
        pytest.skip("this machine has an ALSA sequencer")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "amadeus-no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    with pytest.raises(MidiBackendError) as info:
        live.open_midi()
    message = str(info.value)
    assert message.startswith("no MIDI backend could start: MidiInAlsa::initialize")
    assert "JACK server not running" in message and "snd-seq" in message and "start a JACK server" in message
