"""``amadeus play --live`` through a real JACK server (jackd2, dummy driver): notes from a DAW's
JACK MIDI output that leave the personality's coverage map are warned about on the console as
they are played, once per phrase and kind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from _coverage_support import practised_personality
from _jack_support import DawMidi, JackServer

RATE = 48000


@pytest.fixture
def server():
    jackd = JackServer(RATE, 128).start()
    yield jackd
    jackd.stop()


def test_live_play_warns_once_per_phrase_on_notes_outside_the_map(server, tmp_path):
    practised_personality(tmp_path)  # cello v1: practised C4–D5 (gap G#4–B4)
    daw = DawMidi("daw-midi")
    env = {**os.environ, "AMADEUS_HOME": str(tmp_path / "home")}
    cmd = [sys.executable, "-m", "instrument_agent.cli", "play", "--deu", "cello", "--live", "--backend", "jack"]
    proc = subprocess.Popen(
        [*cmd, "--midi-port", "daw-midi:out"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        while not lines or "playing" not in lines[-1]:
            lines.append(proc.stdout.readline())
            assert lines[-1], "".join(lines)
        start = daw.client.frame_time + RATE // 5
        events = []
        # One phrase: C4 (inside), G5 and A5 (above D5), E4 (inside), all in under a second apart.
        for i, note in enumerate((60, 79, 81, 64)):
            at = start + i * RATE // 4
            events += [(at, bytes([0x90, note, 100])), (at + RATE // 8, bytes([0x80, note, 0]))]
        daw.schedule(events)
        deadline = time.time() + 10
        while daw.pending and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # the console polls every 0.2 s
        proc.send_signal(signal.SIGINT)
        out = "".join(lines) + proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
        daw.close()
    assert proc.returncode == 0, out
    warnings = [line.strip() for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: notes above D5 were never practised: G5 (phrase 1)"], out
