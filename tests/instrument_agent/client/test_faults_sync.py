"""Fault injection: ``amadeus sync`` SIGKILLed at 20 seeded points against a real
``amadeus studio serve`` process. Each round the studio has a newer version of cello; the
sync is killed when a seeded point of its work is reached (while importing and connecting,
once the download folder, the ``.part`` file, the finished archive, the unpacked staging copy
or the new index exists), plus a seeded delay. After each kill the personality played before
still verifies and still renders a MIDI phrase, the local store lists no partial version
(every listed version verifies), and the next sync completes with the new version verified."""

from __future__ import annotations

import random

import mido
import numpy as np
import pytest
from _faults import KILLS, ServedStudio, kill_when, spawn
from _perform_support import make_personality

from instrument_agent.agent.state import AgentState
from instrument_agent.client.sync import Syncer
from instrument_agent.engine import Engine
from instrument_agent.midi import MidiPerformance
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.render import render_midi
from studio_operator.server.tenants import hash_token

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(400)]

SEED, KILL_POINTS, TOKEN = 11, 20, "alice-faults-token-0123456789abcdef"
POINTS = ("start", "downloads", "part", "archive", "staging", "index")


def _install(store: PersonalityStore, bundle) -> int:
    files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
    return store.commit("cello", bundle.manifest, files).version


def _plays(store: PersonalityStore, version: int) -> None:
    """The version verifies and renders a short phrase (two notes) that is not silence."""
    engine = Engine.from_bundle(store.get("cello", version), sample_rate=16000, backend="numpy")
    events = [
        (0.0, mido.Message("note_on", note=60, velocity=100)),
        (0.15, mido.Message("note_off", note=60)),
        (0.15, mido.Message("note_on", note=64, velocity=90)),
        (0.3, mido.Message("note_off", note=64)),
    ]
    audio = render_midi(engine, MidiPerformance(path="phrase", events=events, duration_s=0.35))
    assert np.isfinite(audio).all() and np.abs(audio).max() > 1e-3


def _reached(data: PersonalityStore, downloads, index_before: bytes, wanted: str):
    def reached() -> str | None:
        if wanted == "downloads" and downloads.is_dir():
            return wanted
        if wanted == "part" and any(downloads.glob("*.part*")):
            return wanted
        if wanted == "archive" and any(downloads.glob("*.tar")):
            return wanted
        if wanted == "staging" and any(downloads.glob(".unpacked-*")):
            return wanted
        index = data.root / "cello" / "index.json"
        if wanted == "index" and index.is_file() and index.read_bytes() != index_before:
            return wanted
        return None

    return reached


def test_sync_killed_at_20_points_keeps_playing_and_resumes(tmp_path):
    rng = random.Random(SEED)
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"tokens:\n  - ama: alice\n    sha256: {hash_token(TOKEN)}\n")
    studio_store = PersonalityStore(tmp_path / "studio" / "tenants" / "alice")
    # Two personalities installed in turn: each round the studio has a new version to sync.
    bundles = []
    for seed in (0, 1):
        (tmp_path / f"made-{seed}").mkdir()
        bundles.append(make_personality(tmp_path / f"made-{seed}", seed=seed, reverb_seconds=2.0))
    _install(studio_store, bundles[0])
    studio = ServedStudio(tmp_path / "studio", tokens, tmp_path / "studio.log").start()
    agent_home = tmp_path / "agent"
    state = AgentState(agent_home)
    state.add_studio("home", studio.address, token=TOKEN)
    local = PersonalityStore(state.data_path)
    downloads = state.data_path / "downloads"
    try:
        assert Syncer(state).sync().deus[0].version == 1
        killed_at: list[str] = []
        for round_ in range(1, 40):
            if len(killed_at) == KILL_POINTS:
                break
            new = _install(studio_store, bundles[round_ % 2])
            before = state.load().current["cello"].version
            wanted = POINTS[round_ % len(POINTS)]
            index = local.root / "cello" / "index.json"
            reached = _reached(local, downloads, index.read_bytes(), wanted)
            delay = rng.uniform(0.3, 3.0) if wanted == "start" else rng.uniform(0.0, 0.01)
            if wanted == "start":
                reached = lambda: "start"  # noqa: E731 - kill a seeded delay after the start
            sync = spawn(["sync"], {"AMADEUS_HOME": str(agent_home)})
            point = kill_when(sync, reached, delay)
            if point is None:  # the sync finished before the point: no kill this round
                assert sync.returncode == 0, sync.stdout.read()
                assert state.load().current["cello"].version == new
            else:
                killed_at.append(point)
                current = state.load().current["cello"]  # state.pb is never torn
                assert current.version in (before, new)
                listed = {info.version: info.digest for info in local.versions("cello")}
                assert set(listed) <= set(range(1, new + 1))
                for version, digest in listed.items():  # no partial version is visible
                    assert local.get("cello", version).digest == digest
                assert current.version in listed
                _plays(local, current.version)  # what played before the kill still plays
            report = Syncer(state).sync()  # the next sync completes
            assert state.load().current["cello"].version == new, report
            assert local.get("cello", new).digest == studio_store.info("cello", new).digest
            assert not any(downloads.glob("*.tar")) and not any(downloads.glob(".unpacked-*"))
        _plays(local, new)
    finally:
        studio.stop()
    assert len(killed_at) == KILL_POINTS, killed_at
    assert len(set(killed_at)) >= 4, killed_at  # the kills spread over the sync's stages
    KILLS["agent sync"] += len(killed_at)
    print("sync kill points:", {p: killed_at.count(p) for p in POINTS})
