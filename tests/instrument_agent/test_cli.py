"""The ``amadeus`` CLI's own commands, run as a user would (a real subprocess)."""

import json
import subprocess
import sys

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2


def _amadeus(*args, env_home):
    import os

    env = {**os.environ, "AMADEUS_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "instrument_agent.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_help_explains_the_vocabulary(amadeus_home):
    result = _amadeus("--help", env_home=amadeus_home)
    assert result.returncode == 0
    assert "deu" in result.stdout and "personalities" in result.stdout


def test_list_show_verify(amadeus_home):
    store = PersonalityStore()
    manifest = personality_pb2.PersonalityManifest(sample_rate=16000, frame_rate=50)
    manifest.metrics["eval/spectral_loss"] = 2.5
    store.commit("violin", manifest, {"decoder.npz": b"weights"})
    second = store.commit("violin", manifest, {"decoder.npz": b"weights2"})

    listed = _amadeus("personalities", "list", "--json", env_home=amadeus_home)
    assert [row["version"] for row in json.loads(listed.stdout)] == [1, 2]

    shown = json.loads(_amadeus("personalities", "show", "violin", "--version", "1", env_home=amadeus_home).stdout)
    assert shown["version"] == 1 and shown["metrics"]["eval/spectral_loss"] == 2.5

    assert _amadeus("personalities", "verify", env_home=amadeus_home).returncode == 0
    (second.path / "decoder.npz").write_bytes(b"tampered")
    verified = _amadeus("personalities", "verify", env_home=amadeus_home)
    assert verified.returncode == 1 and "violin v2" in verified.stdout and "sha256 does not match" in verified.stdout


def test_unknown_deu_is_one_clear_line(amadeus_home):
    result = _amadeus("personalities", "show", "cello", env_home=amadeus_home)
    assert result.returncode == 2
    assert "no personality of deu 'cello'" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_are_one_line_not_a_traceback(amadeus_home):
    result = _amadeus("play", "--deu", "violin", env_home=amadeus_home)  # neither a file nor --live
    assert result.returncode == 2
    assert "give either a MIDI/audio file to render or --live" in result.stderr
    assert "Traceback" not in result.stderr
