"""The agent's JSON API and static UI over real HTTP on loopback."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile
from _agent_support import PracticingStudio  # noqa: E402
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent import Agent, AgentServer  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


def call(base: str, method: str, path: str, body=None, *, raw: bytes | None = None, headers=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type")


@pytest.fixture
def served(tmp_path):
    make_personality(tmp_path, seed=0)
    (tmp_path / "t").mkdir()
    studio = PracticingStudio(
        PersonalityStore(tmp_path / "home"), make_personality(tmp_path / "t", seed=3), steps=2, step_s=0.05
    )
    agent = Agent(
        tmp_path / "agent", open_client=lambda reg: studio, audio=False, midi=False, backend="numpy", sample_rate=16000
    )
    agent.start(background_sync=False)
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent, studio
    server.stop()
    agent.stop()


def test_static_pages_and_unknown_paths(served):
    url, _, _ = served
    code, body, kind = call(url, "GET", "/")
    assert code == 200 and kind.startswith("text/html") and b"Practice" in body and b"Repair" in body
    assert call(url, "GET", "/app.js")[0] == 200
    assert call(url, "GET", "/../state.pb")[0] == 404
    code, body, _ = call(url, "GET", "/api/nothing")
    assert code == 404 and "no API route" in json.loads(body)["error"]


def test_studios_sync_settings_over_http(served, tmp_path):
    url, agent, _ = served
    code, body, _ = call(url, "POST", "/api/studios", {"name": "home", "address": "nohost"})
    assert code == 400 and "is not host:port" in json.loads(body)["error"]
    token = "alice-web-token-5f3a9c1e"
    assert call(url, "POST", "/api/studios", {"name": "home", "address": "127.0.0.1:50051", "token": token})[0] == 200
    assert call(url, "POST", "/api/studios", {"name": "spare", "address": "127.0.0.1:50052"})[0] == 200
    code, body, _ = call(url, "POST", "/api/sync")
    assert code == 200 and json.loads(body)["deus"][0]["action"] == "downloaded"
    raw_status = call(url, "GET", "/api/status")[1]
    status = json.loads(raw_status)
    assert status["player"]["playing"]["deu"] == "cello" and status["practice"] == "up to date"
    assert status["studios"][0] == {"name": "home", "address": "127.0.0.1:50051", "tls": False, "has_token": True}
    assert token.encode() not in raw_status and token.encode() not in body  # the token never leaves the agent
    assert agent.state.load().studios[0].token == token  # ... though the agent has it
    assert call(url, "POST", "/api/studios/select", {"name": "spare"})[0] == 200
    assert agent.state.load().selected_studio == "spare"
    code, body, _ = call(url, "POST", "/api/studios/select", {"name": "nope"})
    assert code == 404 and "registered: home, spare" in json.loads(body)["error"]
    assert call(url, "DELETE", "/api/studios/spare")[0] == 200
    code, body, _ = call(url, "POST", "/api/settings", {"block_size": 1})
    assert code == 400 and "out of range" in json.loads(body)["error"]
    code, body, _ = call(url, "POST", "/api/settings", {"data_path": str(tmp_path / "data"), "sync_interval_s": 30})
    assert code == 200 and json.loads(body)["sync_interval_s"] == 30
    assert agent.state.data_path == (tmp_path / "data").resolve()


def test_practice_upload_checks_the_audio(served, tmp_path):
    url, agent, studio = served
    agent.state.add_studio("home", "127.0.0.1:50051")
    code, body, _ = call(
        url, "POST", "/api/practice?deu=cello", raw=b"this is not audio", headers={"X-Filename": "notes.txt"}
    )
    assert code == 400 and "notes.txt: not an audio file" in json.loads(body)["error"]
    code, body, _ = call(url, "POST", "/api/practice?deu=Bad%20Name", raw=b"x", headers={"X-Filename": "a.wav"})
    assert code == 400
    wav = tmp_path / "take.wav"
    soundfile.write(str(wav), 0.1 * np.sin(np.arange(8000) / 5.0), 16000)
    code, body, _ = call(
        url, "POST", "/api/practice?deu=cello&steps=2", raw=wav.read_bytes(), headers={"X-Filename": "take.wav"}
    )
    assert code == 200, body
    row = json.loads(body)
    assert row["deu"] == "cello" and row["files"] == ["take.wav"]
    assert studio.uploads[0][1] == wav.read_bytes()
    assert list((agent.state.data_path / "uploads").iterdir()) == []  # uploaded to the studio, nothing left behind


def test_keyboard_and_recording(served):
    url, agent, _ = served
    agent.state.add_studio("home", "127.0.0.1:50051")
    agent.sync_now()
    assert call(url, "POST", "/api/record/stop")[0] == 400
    assert call(url, "POST", "/api/record/start")[0] == 200
    assert call(url, "POST", "/api/play/note", {"note": 60, "velocity": 100, "on": True})[0] == 200
    agent.player.render_block(4000)  # the silent clock also renders; make sure the note is in
    assert call(url, "POST", "/api/play/note", {"note": 60, "on": False})[0] == 200
    code, body, _ = call(url, "POST", "/api/record/stop")
    assert code == 200
    result = json.loads(body)
    code, wav, kind = call(url, "GET", result["url"])
    assert code == 200 and kind == "audio/wav" and wav[:4] == b"RIFF"
    assert np.abs(soundfile.read(result["file"])[0]).max() > 0
    assert call(url, "POST", "/api/play/note", {"note": 300})[0] == 400
    assert call(url, "GET", "/recordings/..%2Fstate.pb")[0] == 404
