"""The agent against a real studio server process (embedded backend) over gRPC on loopback:
register a studio, practise with a short audio file (tiny learnerProfile), follow the
progress, sync the new version, and render with it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from instrument_agent.agent import Agent
from instrument_agent.client.sync import StudioAuthError
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from instrument_agent.render import render_midi

pytestmark = pytest.mark.slow

TOKEN = "alice-e2e-token-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def studio_process(tmp_path):
    """``amadeus studio serve`` in its own process, with one tenant (alice)."""
    from studio_operator.server.tenants import hash_token

    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - ama: alice\n    sha256: {hash_token(TOKEN)}\n")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "instrument_agent.cli",
        "studio",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--metrics-port",
        "-1",
        "--tokens",
        str(tokens),
        "--home",
        str(tmp_path / "studio"),
    ]
    env = {
        **os.environ,
        "AMADEUS_HOME": str(tmp_path / "studio"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "CUDA_VISIBLE_DEVICES": "",
    }
    log = open(tmp_path / "studio.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"studio server exited: {(tmp_path / 'studio.log').read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("studio server did not start within 60 s")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _phrase_wav(path: Path, sample_rate: int = 16000) -> Path:
    """6 s of a real-sounding harmonic instrument: notes with vibrato and a decaying spectrum."""
    rng = np.random.default_rng(0)
    out = []
    for midi_note in (57, 60, 62, 64, 60, 57):
        n = int(1.0 * sample_rate)
        t = np.arange(n) / sample_rate
        f0 = 440.0 * 2 ** ((midi_note - 69) / 12) * (1 + 0.004 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(f0) / sample_rate
        tone = sum(np.sin(k * phase) * (0.6**k) for k in range(1, 12))
        env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (1.0 - t) / 0.08)
        out.append(0.4 * tone * env + 0.003 * rng.normal(size=n))
    soundfile.write(str(path), np.concatenate(out).astype(np.float32), sample_rate, subtype="PCM_16")
    return path


def _tiny_learner() -> personality_pb2.LearnerProfile:
    return personality_pb2.LearnerProfile(
        sample_rate=16000,
        frame_rate=50,
        n_harmonics=16,
        n_noise_bands=17,
        hidden_size=32,
        mlp_layers=1,
        gru_units=32,
        example_seconds=1.0,
        batch_size=2,
        steps=8,
        checkpoint_every=4,
        f0_method="yin",
        fft_sizes=[512, 256, 128],
        holdout_fraction=0.2,
    )


def test_agent_practises_follows_syncs_and_renders_with_a_real_studio(studio_process, tmp_path):
    home = tmp_path / "agent"
    agent = Agent(home, audio=False, midi=False, backend="numpy", sample_rate=16000)
    agent.state.add_studio("e2e", studio_process, token=TOKEN)
    agent.start(background_sync=True)
    try:
        row = agent.start_practice("cello", [_phrase_wav(tmp_path / "phrase.wav")], learner_profile=_tiny_learner())
        assert row.practice_id
        seen_phases, seen_steps = set(), set()
        deadline = time.time() + 240
        while time.time() < deadline:
            [current] = agent.practices.rows()
            seen_phases.add(current["phase"])
            seen_steps.add(current["step"])
            if not current["running"]:
                break
            time.sleep(0.2)
        assert current["phase"] == "SUCCEEDED", current
        assert current["version"] == 1 and current["progress"] == 1.0
        assert len(seen_steps) > 1, "progress was followed while training"
        # The finished practice triggers a sync: the agent switches to v1 and plays it.
        deadline = time.time() + 60
        while time.time() < deadline and (agent.player.playing is None or agent.player.playing.version != 1):
            time.sleep(0.2)
        assert agent.player.playing is not None and agent.player.playing.version == 1
        status = agent.status()
        assert status["practice"] == "up to date"
        assert status["online"] is True and status["error"] == ""
        assert status["current"]["cello"]["digest"] == current["digest"]
        # It plays: a note through the player, and an offline render with the synced bundle.
        agent.player.note(60, 110)
        time.sleep(0.5)
        assert agent.player.status()["voices"] == 1
        bundle = PersonalityStore(agent.state.data_path).get("cello", 1)
        from instrument_agent.engine import Engine
        from instrument_agent.midi import MidiPerformance

        engine = Engine.from_bundle(bundle, sample_rate=16000, backend="numpy")
        events = [(0.0, mido.Message("note_on", note=60, velocity=100)), (0.5, mido.Message("note_off", note=60))]
        audio = render_midi(engine, MidiPerformance(path="e2e", events=events, duration_s=0.6))
        assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-3
        # What the UI's pictures need came through the real studio: the loss curve while it trained,
        # and in the synced bundle the coverage map of the phrase (A3–E4) and the evaluate preview.
        steps = [step for step, _ in current["losses"]]
        assert len(steps) >= 2 and steps == sorted(set(steps)) and steps[-1] <= current["total_steps"]
        assert all(loss > 0 for _, loss in current["losses"])
        from instrument_agent.agent.pictures import PictureSource

        view = PictureSource(agent).coverage("cello")
        summary = view["summary"]
        assert view["version"] == 1 and summary["practised"] and 57 <= summary["lowest"] <= summary["highest"] <= 64
        assert len(view["preview"]) == 4 and bundle.has_file("preview/resynthesis.png")
    finally:
        agent.stop()


def test_wrong_token_is_refused_clearly(studio_process, tmp_path):
    agent = Agent(tmp_path / "agent", audio=False, midi=False)
    agent.state.add_studio("e2e", studio_process, token="not-the-token")
    with pytest.raises(StudioAuthError, match="refused the token"):
        agent.sync_now()
    assert "refused the token" in agent.status()["error"]
