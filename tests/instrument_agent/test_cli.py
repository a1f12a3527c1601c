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


def test_show_draws_the_coverage_map_and_says_what_was_practised(amadeus_home, tmp_path):
    from _coverage_support import practised_personality

    from instrument_agent.images import decode_png

    practised_personality(tmp_path)  # "cello" v1 in tmp_path/home, its map from real tones C4–D5
    home = tmp_path / "home"
    png = tmp_path / "out" / "cello-coverage.png"
    result = _amadeus("personalities", "show", "cello", "--coverage-png", str(png), env_home=home)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "cello v1: practice coverage" in text and "on notes C4–D5 (MIDI 60–74, 15 semitones)" in text
    assert "gaps (never practised inside the range): G#4–B4" in text
    assert "next: record notes between G#4 and B4, soft dynamics" in text
    assert decode_png(png.read_bytes()).shape[2] == 3
    shown = json.loads(_amadeus("personalities", "show", "cello", env_home=home).stdout)
    assert shown["coverage"]["cells"] and shown["coverage"]["summary"][0].startswith("practised ")


def test_show_coverage_of_a_personality_without_a_map(amadeus_home, tmp_path):
    PersonalityStore().commit("violin", personality_pb2.PersonalityManifest(sample_rate=16000), {"d.npz": b"w"})
    result = _amadeus("personalities", "show", "violin", "--coverage", env_home=amadeus_home)
    assert result.returncode == 0 and "made before coverage maps" in result.stdout
    png = tmp_path / "none.png"
    result = _amadeus("personalities", "show", "violin", "--coverage-png", str(png), env_home=amadeus_home)
    assert result.returncode == 1 and "no PNG written" in result.stdout and not png.exists()
