"""The agent's audio output: JACK through a real server (jackd2, dummy driver, started here),
the silent clock without a device, and the fall-back to the clock when the server goes away."""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest
from _jack_support import JackServer
from _perform_support import make_personality

from instrument_agent.agent.player import PlayerHost
from instrument_agent.live.output import AudioOutput, OutputFigures

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("output"))


def test_without_a_device_the_clock_keeps_time():
    class Counting:
        latency_frames, n = 0, 0

        def render_block(self, n, events=()):
            self.n += n
            return np.zeros(n, np.float32)

    source = Counting()
    output = AudioOutput(source, name="Amadeus cello", sample_rate=16000, block_size=128)
    assert output.start("auto", device=False).startswith("silent: audio output disabled")
    time.sleep(0.3)
    output.stop()
    assert 0.1 * 16000 < source.n < 0.6 * 16000
    assert output.figures() == OutputFigures("stopped", 16000, 128, 0, 0)


def test_the_player_through_jack_then_the_clock_when_the_server_goes(bundle):
    jackd = JackServer(48000, 256).start()
    player = PlayerHost(sample_rate=16000, block_size=128, backend="numpy")
    try:
        player.load(bundle)
        status = player.start_audio(backend="jack")
        assert status.startswith("playing through JACK as 'Amadeus cello'")
        figures = player.status()
        assert (figures["backend"], figures["sample_rate"], figures["block_size"]) == ("jack", 48000, 256)
        assert figures["latency_frames"] == 0 and player.sample_rate == 48000  # rebuilt at the server's rate
        assert player.open_midi() == "listening on JACK MIDI port 'Amadeus cello:midi_in'"
        player.start_recording()
        player.send(mido.Message("note_on", note=60, velocity=100))
        deadline = time.time() + 10
        while player.status()["voices"] == 0:
            assert time.time() < deadline
            time.sleep(0.02)
        jackd.proc.terminate()
        deadline = time.time() + 10
        while player.status()["backend"] != "none":
            assert time.time() < deadline
            time.sleep(0.05)
        assert player.audio_status.startswith("silent: the JACK server went away")
        played = player.time
        time.sleep(0.3)
        assert player.time > played  # the clock keeps time: the recording goes on
    finally:
        player.stop()
        jackd.stop()
    assert player.status()["backend"] == "stopped"
