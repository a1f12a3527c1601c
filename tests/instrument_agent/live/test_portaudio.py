"""Live performance: the MIDI and audio callbacks drive a real engine; the device edges
(PortAudio, the ALSA sequencer) give clear errors when they are absent."""

import sys
import time

import mido
import numpy as np
import pytest
from _perform_support import make_personality, rms

from instrument_agent.engine import Engine
from instrument_agent.live.portaudio import AudioDeviceError, LiveError, LivePerformance, MidiBackendError, port_name


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
    pytest.importorskip("rtmidi")
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(MidiBackendError) as info:
        live.open_midi()
    assert "loopMIDI" in str(info.value) and "--midi-port" in str(info.value)


def test_block_size_out_of_range(bundle):
    with pytest.raises(LiveError, match="block size 16"):
        LivePerformance(Engine.from_bundle(bundle, sample_rate=48000), bundle.deu, block_size=16)


def test_virtual_port_receives_midi_or_explains_why_not(live):
    rtmidi = pytest.importorskip("rtmidi")
    try:
        live.open_midi()
    except MidiBackendError as exc:
        assert "MIDI backend" in str(exc) or "MIDI port" in str(exc)
        return
    try:
        out = rtmidi.MidiOut()
        names = out.get_ports()
        index = next(i for i, name in enumerate(names) if port_name(live.deu) in name)
        out.open_port(index)
        out.send_message([0x90, 60, 100])
        deadline = time.time() + 2.0
        while live._queue.empty() and time.time() < deadline:
            time.sleep(0.01)
        assert live._queue.get_nowait().type == "note_on"
        out.close_port()
    finally:
        live.stop()
