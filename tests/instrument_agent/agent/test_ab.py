"""The A/B API of the agent (real HTTP on loopback, a real local store): renders, files, bad input."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile
from _perform_support import make_personality  # noqa: E402

from instrument_agent.agent import Agent, AgentServer  # noqa: E402
from instrument_agent.agent.ab import notes_to_midi  # noqa: E402
from instrument_agent.images import decode_png  # noqa: E402
from instrument_agent.midi import read_midi  # noqa: E402
from instrument_agent.personality.store import PersonalityStore  # noqa: E402


def call(base: str, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type")


@pytest.fixture
def served(tmp_path):
    agent = Agent(tmp_path / "agent", audio=False, midi=False, backend="numpy", sample_rate=16000)
    local = PersonalityStore(agent.state.data_path)
    for seed in (0, 5):
        made = make_personality(tmp_path, seed=seed)
        stored = local.commit("cello", made.manifest, {e.path: made.path / e.path for e in made.manifest.files})
    agent.state.set_current("cello", stored.version, stored.digest, "", select=True)
    server = AgentServer(agent, 0)
    url = server.start()
    yield url, agent
    server.stop()


def test_versions_and_a_compare_on_played_notes(served):
    url, agent = served
    status, body, _ = call(url, "GET", "/api/versions?deu=cello")
    data = json.loads(body)
    assert status == 200 and [v["version"] for v in data["versions"]] == [1, 2] and data["default"] == 2
    notes = [{"note": 57, "velocity": 90, "start_s": 0.1, "end_s": 0.6}, {"note": 64, "start_s": 0.5, "end_s": 1.0}]
    status, body, _ = call(url, "POST", "/api/compare", {"deu": "cello", "a": "1", "b": "latest", "notes": notes})
    result = json.loads(body)
    assert status == 200 and (result["a"]["version"], result["b"]["version"]) == (1, 2)
    assert result["spectral_distance"] > 1.0 and result["phrase"] == "your notes"
    status, wav, kind = call(url, "GET", result["a"]["url"])
    audio, rate = soundfile.read(io.BytesIO(wav))
    assert status == 200 and kind == "audio/wav" and rate == 16000 and 1.0 < audio.size / rate < 7.0
    status, png, kind = call(url, "GET", result["spectrogram"])
    assert status == 200 and kind == "image/png" and decode_png(png).shape == (200, 808, 3)


def test_bad_requests_get_clear_errors(served):
    url, _agent = served
    status, body, _ = call(url, "POST", "/api/compare", {"deu": "cello", "a": "1", "b": "9"})
    assert status == 404 and "no version 9" in json.loads(body)["error"]
    bad = [{"note": 200, "start_s": 0, "end_s": 1}]
    status, body, _ = call(url, "POST", "/api/compare", {"deu": "cello", "a": "1", "b": "2", "notes": bad})
    assert status == 400 and "notes[0]: note 200" in json.loads(body)["error"]
    status, body, _ = call(url, "GET", "/api/versions?deu=violin")
    assert status == 404 and "violin" in json.loads(body)["error"]
    for path in ("/compare/../state.pb", "/compare/%2e%2e/x.wav", "/compare/0123456789ab/missing.wav"):
        assert call(url, "GET", path)[0] == 404


def test_notes_become_the_midi_that_is_rendered(tmp_path):
    path = notes_to_midi([{"note": 60, "velocity": 80, "start_s": 0.25, "end_s": 0.75}], tmp_path / "n.mid")
    performance = read_midi(path)
    [(on_at, on), (off_at, off)] = performance.events
    assert (on.type, on.note, on.velocity, off.type) == ("note_on", 60, 80, "note_off")
    assert on_at == pytest.approx(0.25, abs=0.002) and off_at == pytest.approx(0.75, abs=0.002)
    assert np.isclose(performance.duration_s, 0.75, atol=0.01)
