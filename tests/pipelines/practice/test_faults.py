"""Fault injection: an imitation practice killed for real, again and again, at points a seeded
RNG picks (SIGKILL or SIGINT, a delay after one of its progress lines: during ingest, features,
the TensorFlow start, training, export, evaluation and publishing). Rerunning the same command
resumes: finished steps are reused, training continues from the newest checkpoint (checkpoints
are at most ``checkpoint_every`` steps apart, so a kill loses fewer), and after every kill the
store holds no version or one whole one, which verifies. It ends with exactly one new version."""

from __future__ import annotations

import json
import random
import signal

import pytest
import soundfile
from _faults import KILLS, KillPoint, latest_checkpoint, run_and_kill

from instrument_agent.personality.store import PersonalityStore
from pipelines.demo import bowed_string, practice_score

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(900)]

SEED, KILL_POINTS, MAX_EPISODES = 20240611, 20, 4
STEPS, EVERY = 24, 3
LEARNER = {
    "sample_rate": 16000,
    "frame_rate": 50,
    "example_seconds": 1.0,
    "batch_size": 2,
    "steps": STEPS,
    "checkpoint_every": EVERY,
    "hidden_size": 16,
    "gru_units": 16,
    "n_harmonics": 8,
    "n_noise_bands": 8,
    "reverb": False,
    "holdout_fraction": 0.2,
    "f0_method": "yin",
}
# The kill points' slots, in the order of the practice's stages: (the line the delay counts from,
# the longest delay, s). 32 slots for 20 kill points: a slot whose run ended before it is no kill
# (on an idle machine a stage can end inside its slot's delay: 24 slots gave 18 kills there).
SCHEDULE = (
    [("", 1.5)] * 6  # imports, ingest
    + [("ingest", 0.8)] * 4  # features
    + [("features", 14.0)] * 14  # the TensorFlow start, training (checkpoints), export
    + [("train", 1.5)] * 4  # evaluation
    + [("evaluate", 0.4)] * 4  # publishing
)


def _store_is_whole(home) -> list[int]:
    """The visible versions of viola; each one verifies (every file digest)."""
    store = PersonalityStore(home)
    if "viola" not in store.deus():
        return []
    versions = [info.version for info in store.versions("viola")]
    for version in versions:
        store.get("viola", version)
    return versions


def _episode(home, recording, rng: random.Random) -> int:
    """One practice from scratch, killed at the schedule's slots until it publishes; returns its kills.

    Every run after a kill resumes (finished steps reused, training from the newest checkpoint);
    the store holds no version or one whole one after each; it ends with exactly one version."""
    argv = ["practice", "imitation", "--deu", "viola", str(recording), "--learner-profile", json.dumps(LEARNER)]
    env = {"AMADEUS_HOME": str(home)}
    kills, newest, before_run, trained_in = 0, 0, [], None
    for after, longest in SCHEDULE:
        point = KillPoint(after, rng.uniform(0.0, longest), rng.choice([signal.SIGKILL, signal.SIGINT]))
        before_run.append(newest)
        run = run_and_kill(argv, env, point)
        assert "Traceback" not in run.output, run.output
        versions = _store_is_whole(home)
        assert versions in ([], [1]), (point.describe(), versions)
        # A kill during start-up (imports, before ingest) leaves no work directory yet: nothing was written.
        practice_dir = home / "practice" / "viola"
        workdirs = list(practice_dir.iterdir()) if practice_dir.is_dir() else []
        assert len(workdirs) <= 1, workdirs
        workdir = workdirs[0] if workdirs else None
        if trained_in is None and workdir is not None and (workdir / "train.done.json").is_file():
            trained_in = len(before_run) - 1
        if not run.killed or (run.returncode == 0 and versions == [1]):
            # It finished before the kill point, or the signal landed while it was exiting after
            # publishing (a slow TensorFlow teardown on a loaded machine): the work was done.
            assert run.returncode == 0 and "published viola v1" in run.output, run.output
            break
        # SIGINT: "interrupted ... resume" and 130, or the default handler's -2 before or after main().
        assert run.returncode in (-signal.SIGKILL, -signal.SIGINT, 130), (point.describe(), run.output)
        checkpoint = latest_checkpoint(workdir / "train" / "checkpoints") if workdir is not None else 0
        assert checkpoint >= newest, f"{point.describe()}: the newest checkpoint went from {newest} to {checkpoint}"
        newest = checkpoint
        kills += 1
        KILLS["practice imitation"] += 1
        if versions:
            # Published: the same command run now is a new practice continuing v1 (its work dir is
            # keyed by the parent version), so this episode's kills stop here.
            break

    if not _store_is_whole(home):
        before_run.append(newest)
        final = run_and_kill(argv, env, None)
        trained_in = len(before_run) - 1 if trained_in is None else trained_in
        assert final.returncode == 0 and "Traceback" not in final.output, final.output
    assert _store_is_whole(home) == [1]  # exactly one new version, whole
    manifest = PersonalityStore(home).get("viola", 1).manifest
    assert manifest.parent_version == 0 and manifest.learner_profile.steps == STEPS
    (workdir,) = (home / "practice" / "viola").iterdir()
    info = json.loads((workdir / "train" / "train.json").read_text())
    assert info["step"] == STEPS
    # The run that finished training started from the newest checkpoint the kills before it left.
    assert info["start_step"] == before_run[trained_in], (info, before_run, trained_in)
    kept = sorted(int(p.name.split("-")[1].split(".")[0]) for p in (workdir / "train" / "checkpoints").glob("*.index"))
    assert all(b - a <= EVERY for a, b in zip(kept, kept[1:], strict=False)), kept
    return kills


def test_an_imitation_practice_killed_at_20_points_resumes_to_exactly_one_version(tmp_path):
    """Practices from scratch (each its own home), killed until 20 kill points are reached: on an
    idle machine a practice can publish after a dozen kills (its stages end inside their slots'
    delays), so another one takes the rest."""
    recording = tmp_path / "take.wav"
    soundfile.write(str(recording), bowed_string(practice_score(7.0, seed=6), 16000, seed=6), 16000)
    rng = random.Random(SEED)
    kills, episodes = 0, 0
    while kills < KILL_POINTS:
        assert episodes < MAX_EPISODES, f"{kills} kill points in {episodes} practices"
        kills += _episode(tmp_path / f"home-{episodes}", recording, rng)
        episodes += 1
