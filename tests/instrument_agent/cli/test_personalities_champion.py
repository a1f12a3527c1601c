"""``amadeus personalities promote | rollback | champion | list`` and ``amadeus play`` playing the champion."""

from __future__ import annotations

import json

import mido
import numpy as np
import soundfile
from _perform_support import make_personality, write_midi

from instrument_agent.cli import main
from instrument_agent.personality.store import PersonalityStore


def _three_versions(tmp_path, monkeypatch):
    for seed in range(3):
        make_personality(tmp_path, seed=seed)
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    return PersonalityStore()


def test_promote_rollback_and_the_list_marks_the_champion(tmp_path, monkeypatch, capsys):
    store = _three_versions(tmp_path, monkeypatch)
    assert main(["personalities", "promote", "cello", "1"]) == 0
    assert "champion cello v1" in capsys.readouterr().out
    assert main(["personalities", "promote", "cello", "2"]) == 0
    assert "(was v1)" in capsys.readouterr().out
    main(["personalities", "list", "cello"])
    rows = [line for line in capsys.readouterr().out.splitlines() if "cello" in line and "│" in line]
    marked = [line for line in rows if "★" in line]
    assert len(rows) == 3 and len(marked) == 1 and "│ 2 ★" in marked[0]
    assert main(["personalities", "rollback", "cello"]) == 0
    assert store.default_version("cello") == 1
    assert main(["personalities", "rollback", "cello"]) == 2
    assert "no earlier champion" in capsys.readouterr().err
    assert main(["personalities", "champion", "cello", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["champion"] == 1 and data["default_version"] == 1
    assert [e["action"] for e in data["history"]] == ["promote", "promote", "rollback"]


def test_promote_an_unknown_version_is_a_clear_error(tmp_path, monkeypatch, capsys):
    _three_versions(tmp_path, monkeypatch)
    assert main(["personalities", "promote", "cello", "7"]) == 2
    assert "deu 'cello' has no version 7" in capsys.readouterr().err
    assert not (tmp_path / "home" / "personalities" / "cello" / "champion.json").exists()


def test_play_renders_the_champion_when_no_version_is_named(tmp_path, monkeypatch):
    _three_versions(tmp_path, monkeypatch)
    m = mido.Message
    song = write_midi(
        tmp_path / "n.mid", [[m("note_on", note=57, velocity=100, time=0), m("note_off", note=57, time=480)]]
    )

    def play(*extra):
        out = tmp_path / f"out{len(list(tmp_path.glob('out*.wav')))}.wav"
        assert main(["play", "--deu", "cello", str(song), "-o", str(out), "--sample-rate", "16000", *extra]) == 0
        return soundfile.read(out)[0]

    latest, v1 = play(), play("--version", "1")
    assert np.abs(latest - v1).max() > 1e-3  # the versions sound different
    main(["personalities", "promote", "cello", "1"])
    assert np.array_equal(play(), v1)  # default = champion
