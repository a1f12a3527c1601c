"""The embedded imitation practice end to end with a tiny learnerProfile:
a verifiable version in a temporary store, resumption after an interrupt,
and a failed practice that leaves the store's last good version alone."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import soundfile

from instrument_agent.store import PersonalityStore
from pipelines.data import NoVoicedFramesError
from pipelines.demo import bowed_string, practice_score
from pipelines.practice import run_imitation

_HAS_CORE = all(importlib.util.find_spec(m) is not None for m in ("pipelines.training", "pipelines.export"))
pytestmark = pytest.mark.skipif(not _HAS_CORE, reason="the DDSP core (pipelines.training, pipelines.export) is not built yet")

TINY = {
    "sample_rate": 16000,
    "frame_rate": 50,
    "example_seconds": 1.0,
    "batch_size": 2,
    "steps": 20,
    "checkpoint_every": 10,
    "hidden_size": 32,
    "gru_units": 32,
    "n_harmonics": 16,
    "n_noise_bands": 16,
    "reverb": False,
    "holdout_fraction": 0.15,
    "f0_method": "yin",
}


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "violin.flac"
    soundfile.write(str(path), bowed_string(practice_score(8.0, seed=4), 22050, seed=4), 22050, subtype="PCM_24")
    return path


@pytest.mark.slow
def test_practice_publishes_a_verified_version_and_resumes(recording, tmp_path):
    home = tmp_path / "home"
    first = run_imitation("violin", [recording], dict(TINY, steps=10), home=home, progress=False)
    store = PersonalityStore(home)
    bundle = store.get("violin", first.version)  # verifies every file digest
    assert first.version == 1 and first.parent_version == 0
    assert {"eval/spectral_loss", "baseline/sine", "baseline/harmonic_1_over_k"} <= set(first.metrics)
    assert first.practice.data_digests[0] and first.feature_stats.f0_hz_max > first.feature_stats.f0_hz_min > 0
    assert bundle.has_file("saved_model") and bundle.has_file("decoder.npz")

    # "Interrupted" after 10 steps: the same practice with 20 steps continues from the checkpoint.
    second = run_imitation("violin", [recording], TINY, home=home, progress=False)
    assert second.version == 2 and second.parent_version == 1
    workdirs = sorted((home / "practice" / "violin").iterdir())
    assert len(workdirs) == 2
    train_info = json.loads((workdirs[-1] / "train" / "train.json").read_text())
    assert train_info


@pytest.mark.slow
def test_failed_practice_keeps_the_last_good_version(recording, tmp_path):
    home = tmp_path / "home"
    good = run_imitation("violin", [recording], dict(TINY, steps=5), home=home, progress=False)
    noise = tmp_path / "noise.wav"
    soundfile.write(str(noise), np.random.default_rng(0).uniform(-0.3, 0.3, 5 * 16000).astype(np.float32), 16000)
    with pytest.raises(NoVoicedFramesError, match="noise.wav"):
        run_imitation("violin", [noise], dict(TINY, steps=5), home=home, progress=False)
    store = PersonalityStore(home)
    assert store.latest_version("violin") == good.version
    store.get("violin")
