"""The priors pipeline compiles (one GPU task per family) and really runs under kfp.local,
publishing each prior to the registry as ``prior-<family>``."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from instrument_agent.personality.store import PersonalityStore
from pipelines.kfp_pipelines.priors import compile_priors_pipeline, run_priors_local
from pipelines.priors import FAMILIES, UnknownFamilyError

pytestmark = pytest.mark.slow

TINY = {"hidden_size": 16, "gru_units": 16, "n_harmonics": 8, "n_noise_bands": 8, "example_seconds": 1.0,
        "batch_size": 2, "f0_method": "yin", "steps": 3, "checkpoint_every": 3, "preview_every": -1}  # fmt: skip


def test_compiles_one_gpu_task_per_family(tmp_path):
    spec = yaml.safe_load(open(compile_priors_pipeline(tmp_path / "priors.yaml")))
    tasks = spec["root"]["dag"]["tasks"]
    assert len(tasks) == len(FAMILIES)
    assert sorted(t["taskInfo"]["name"] for t in tasks.values()) == sorted(f"build-prior-{f}" for f in FAMILIES)
    executors = spec["deploymentSpec"]["executors"].values()
    assert all(e["container"]["resources"]["accelerator"]["resourceCount"] == "1" for e in executors)


def test_an_unknown_family_is_refused_before_compiling(tmp_path):
    with pytest.raises(UnknownFamilyError, match="unknown prior family 'kazoos'"):
        compile_priors_pipeline(tmp_path / "p.yaml", ["kazoos"])
    assert not (tmp_path / "p.yaml").exists()


def test_runs_on_kfp_local_and_publishes_each_prior(tmp_path, monkeypatch):
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    run_priors_local(
        ["reeds", "brass"], pipeline_root=tmp_path / "root", seconds_per_instrument=2.0,
        learner_profile_json=json.dumps(TINY),
    )  # fmt: skip
    store = PersonalityStore(tmp_path / "home")
    for name in ("reeds", "brass"):
        (packed,) = [p.parent for p in (tmp_path / "root").glob("amadeus-priors-*/*/prior/card.json")
                     if json.loads(p.read_text())["family"] == name]  # fmt: skip
        card = json.loads((packed / "card.json").read_text())
        assert card["registry"]["deu"] == f"prior-{name}"
        assert store.get(f"prior-{name}", card["registry"]["version"]).digest == card["registry"]["digest"]
        assert card["model"]["hidden_size"] == 16 and (packed / "decoder.npz").is_file()
        assert hashlib.sha256((packed / "decoder.npz").read_bytes()).hexdigest() == card["decoder_sha256"]
