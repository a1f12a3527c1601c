"""``amadeus studio serve`` as a real process, driven by the ``amadeus studio`` client commands."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import mido
import pytest
import soundfile
from _studio_support import install, write_midi
from typer.testing import CliRunner

from instrument_agent.cli.app import app
from instrument_agent.personality.store import PersonalityStore

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_cli_session_against_a_served_studio(tmp_path, cello_bundle, monkeypatch):
    studio_home, local_home = tmp_path / "studio", tmp_path / "laptop"
    install(cello_bundle, PersonalityStore(studio_home / "tenants" / "alice"))
    runner = CliRunner()
    tokens = tmp_path / "tokens.yaml"
    made = runner.invoke(app, ["studio", "token", "alice", "--tokens", str(tokens), "--days", "1"])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    assert token not in tokens.read_text()
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "instrument_agent.cli",
            "studio",
            "serve",
            "--port",
            str(port),
            "--metrics-port",
            "-1",
            "--host",
            "127.0.0.1",
            "--tokens",
            str(tokens),
            "--home",
            str(studio_home),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ, COLUMNS="200"),
    )
    try:
        assert "serving on" in server.stdout.readline()
        monkeypatch.setenv("AMADEUS_HOME", str(local_home))
        common = ["--studio", f"127.0.0.1:{port}", "--token", token]
        listed = runner.invoke(app, ["studio", "list", *common])
        assert listed.exit_code == 0 and "cello" in listed.output
        tuned = runner.invoke(app, ["studio", "practice", "cello", "--type", "tuning", "--gain-db", "-6", *common])
        assert tuned.exit_code == 0, tuned.output
        assert "SUCCEEDED" in tuned.output and "cello v2" in tuned.output
        got = runner.invoke(app, ["studio", "download", "cello", *common])
        assert got.exit_code == 0, got.output
        assert PersonalityStore(local_home).get("cello").manifest.player_profile.gain_db == -6.0
        midi = write_midi(
            tmp_path / "a.mid",
            [[mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=480)]],
        )
        wav = tmp_path / "out.wav"
        played = runner.invoke(
            app, ["studio", "perform", "cello", str(midi), "-o", str(wav), "--sample-rate", "16000", *common]
        )
        assert played.exit_code == 0, played.output
        audio, rate = soundfile.read(str(wav))
        assert rate == 16000 and audio.size > 8000
        refused = runner.invoke(app, ["studio", "list", "--studio", f"127.0.0.1:{port}", "--token", "wrong"])
        assert refused.exit_code == 2 and "UNAUTHENTICATED" in refused.output
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
