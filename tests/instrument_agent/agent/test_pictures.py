"""The pictures' API over real HTTP: a synced personality's coverage map and summary, its preview
files, the loss curve of a practice, and the live coverage warnings of notes played on the agent."""

from __future__ import annotations

import json
import time

import pytest
from _agent_support import PracticingStudio  # noqa: E402
from _coverage_support import practised_personality_with_preview  # noqa: E402
from _perform_support import make_personality  # noqa: E402
from test_web import call  # noqa: E402

from instrument_agent.agent import Agent, AgentServer  # noqa: E402
from instrument_agent.images import decode_png  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


@pytest.fixture
def served(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "t").mkdir()
    practised_personality_with_preview(tmp_path / "s")  # the studio's cello v1: a map and a preview
    old = make_personality(tmp_path / "t", seed=3)  # a practice publishes one without either
    studio = PracticingStudio(PersonalityStore(tmp_path / "s" / "home"), old, steps=3, step_s=0.05)
    agent = Agent(
        tmp_path / "agent", open_client=lambda reg: studio, audio=False, midi=False, backend="numpy", sample_rate=16000
    )
    agent.start(background_sync=False)
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent
    server.stop()
    agent.stop()


def _json(url, path):
    code, body, _ = call(url, "GET", path)
    return code, json.loads(body)


def _wait(predicate, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_coverage_preview_and_loss_curve_over_http(served, tmp_path):
    url, agent = served
    code, body = _json(url, "/api/coverage")
    assert code == 404 and body["error"] == "no personality synced yet: sync or practise first"
    agent.state.add_studio("home", "127.0.0.1:50051", select=True)
    agent.sync_now()

    code, view = _json(url, "/api/coverage")
    assert code == 200 and (view["deu"], view["version"]) == ("cello", 1)
    assert view["summary"]["suggestion"] == "record notes between G#4 and B4, soft dynamics"
    assert {cell[0] for cell in view["coverage"]["cells"]} >= {60, 62, 64, 65, 67, 72, 74}
    assert sorted(view["preview"]) == sorted(["recording.wav", "resynthesis.wav", "recording.png", "resynthesis.png"])
    code, png, kind = call(url, "GET", "/api/preview/cello/1/resynthesis.png")
    assert code == 200 and kind == "image/png" and decode_png(png).shape == (160, 400, 3)
    code, wav, kind = call(url, "GET", "/api/preview/cello/1/recording.wav")
    assert code == 200 and kind == "audio/wav" and wav[:4] == b"RIFF"
    for path, status, message in (
        ("/api/preview/cello/1/manifest.pb", 404, "no preview file 'manifest.pb'"),
        ("/api/preview/cello/x/recording.png", 404, "expected /api/preview/<deu>/<version>/<file>"),
        ("/api/preview/viola/1/recording.png", 404, "no personality of deu 'viola'"),
        ("/api/coverage?version=two", 400, "version 'two' is not a version number"),
    ):
        code, body = _json(url, path)
        assert code == status and message in body["error"], (path, body)

    # A practice: its row carries the loss curve; the version it publishes has no map nor preview.
    wav_path = tmp_path / "take.wav"
    wav_path.write_bytes(call(url, "GET", "/api/preview/cello/1/recording.wav")[1])
    agent.start_practice("cello", [wav_path])
    _wait(lambda: agent.practices.rows()[0]["phase"] == "SUCCEEDED", "practice")
    assert _json(url, "/api/practices")[1][0]["losses"] == [[1, 1.0], [2, 0.5], [3, pytest.approx(1 / 3)]]
    agent.sync_now()  # (the background loop would; this agent runs without it)
    code, view = _json(url, "/api/coverage?deu=cello")
    assert (view["version"], view["coverage"], view["preview"]) == (2, None, [])
    assert "made before coverage maps" in view["summary"]["lines"][0]
    code, body = _json(url, "/api/preview/cello/2/recording.png")
    assert code == 404 and "cello v2 has no preview" in body["error"]
    assert _json(url, "/api/coverage?deu=cello&version=1")[1]["version"] == 1  # older versions stay viewable


def test_notes_played_on_the_agent_warn_once_per_phrase_in_its_status(served):
    url, agent = served
    agent.state.add_studio("home", "127.0.0.1:50051", select=True)
    agent.sync_now()
    _wait(lambda: agent.player.playing is not None, "playing")
    for note in (60, 79, 81, 64):  # C4 inside, G5 and A5 above D5, E4 inside
        assert call(url, "POST", "/api/play/note", {"note": note, "velocity": 100, "on": True})[0] == 200
        time.sleep(0.05)
        assert call(url, "POST", "/api/play/note", {"note": note, "on": False})[0] == 200
    coverage = lambda: _json(url, "/api/status")[1]["player"]["coverage"]  # noqa: E731
    _wait(lambda: len(coverage()["notes"]) == 4, "the notes reach the player")
    shown = coverage()
    assert [w["message"] for w in shown["warnings"]] == ["notes above D5 were never practised: G5, A5"]
    assert [(n["note"], bool(n["outside"])) for n in shown["notes"]] == [
        (60, False),
        (79, True),
        (81, True),
        (64, False),
    ]
