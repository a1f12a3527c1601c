"""Comparing two real versions on the bundled phrase, a MIDI file and a recording."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from _perform_support import make_personality
from PIL import Image

from instrument_agent.cli import main
from instrument_agent.compare import compare_versions, parse_version
from instrument_agent.personality.store import PersonalityStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    make_personality(tmp_path, seed=0)
    make_personality(tmp_path, seed=5)
    store = PersonalityStore(tmp_path / "home")
    store.derive(store.get("cello", 1))  # v3: v1's model with the same playerProfile: sounds like v1
    monkeypatch.setenv("AMADEUS_HOME", str(store.home))
    return store


def test_two_versions_differ_and_a_version_against_itself_does_not(tmp_path, store):
    different = compare_versions(store, "cello", 1, 2, tmp_path / "ab", sample_rate=16000, show_progress=False)
    same = compare_versions(store, "cello", 1, 3, tmp_path / "aa", sample_rate=16000, show_progress=False)
    assert different.comparison.spectral_distance > 1.0
    assert same.comparison.spectral_distance < 1e-6 * max(different.comparison.spectral_distance, 1)
    audio, rate = soundfile.read(different.wav_a)
    assert rate == 16000 and audio.size / rate > 10  # the eight-bar phrase (about 23 s with its tail)
    with Image.open(different.png) as image:
        assert image.size == (2 * 400 + 8, 200)
        pixels = np.asarray(image).astype(int)
    assert pixels[:, :400].std() > 10 and pixels[:, 408:].std() > 10  # both panels show a spectrogram
    assert not np.array_equal(pixels[:, :400], pixels[:, 408:])
    same_pixels = np.asarray(Image.open(same.png)).astype(int)
    assert np.array_equal(same_pixels[:, :400], same_pixels[:, 408:])


def test_versions_by_name(store):
    assert parse_version(store, "cello", "latest") == 3
    with pytest.raises(ValueError, match="no champion yet"):
        parse_version(store, "cello", "champion")
    store.promote("cello", 2)
    assert parse_version(store, "cello", "champion") == 2 and parse_version(store, "cello", "v1") == 1


def test_the_cli_prints_a_table_and_writes_the_files(tmp_path, store, capsys):
    out = tmp_path / "cmp"
    assert main(["personalities", "compare", "cello", "1", "2", "-o", str(out), "--sample-rate", "16000"]) == 0
    text = capsys.readouterr().out
    assert "multi-scale spectral distance" in text and "A-weighted level (dB)" in text
    assert sorted(p.name for p in out.iterdir()) == ["cello-v1-v2.png", "cello-v1.wav", "cello-v2.wav"]


def test_timbre_transfer_compare_on_a_recording(tmp_path, store, capsys):
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 220 * t * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) * np.minimum(1, t * 8)
    soundfile.write(tmp_path / "voice.wav", voice, sr)
    args = ["personalities", "compare", "cello", "1", "2", "--audio", str(tmp_path / "voice.wav")]
    assert main([*args, "-o", str(tmp_path / "tt"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["spectral_distance"] > 0 and data["seconds"][0] == pytest.approx(1.5, abs=0.3)


def test_bad_input_names_the_file(tmp_path, store, capsys):
    (tmp_path / "broken.mid").write_bytes(b"MThd not really")
    assert main(["personalities", "compare", "cello", "1", "2", "--midi", str(tmp_path / "broken.mid")]) == 2
    assert "broken.mid" in capsys.readouterr().err
    assert main(["personalities", "compare", "cello", "1", "9"]) == 2
    assert "no version 9" in capsys.readouterr().err
