"""Family priors end to end: build two tiny ones from FluidR3_GM, list them, start new deus from
them (auto and by name), and refuse a bad name before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest

from instrument_agent.cli.app import main
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.priors import PRIORS_ENV, UnknownPriorError, find_prior, list_priors
from pipelines.practice import PracticeRequest, run_practice

from ._priors_support import FAMILIES, TINY, ama_audio, build_tiny_priors


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("priors")
    return root, build_tiny_priors(root)


@pytest.fixture
def priors(built, monkeypatch):
    monkeypatch.setenv(PRIORS_ENV, str(built[1]))
    return built[1]


def test_build_writes_a_data_card_per_family(priors):
    listed = list_priors()
    assert [p.name for p in listed] == sorted(FAMILIES)
    reeds = find_prior("reeds")
    card = reeds.card
    assert card["soundfont"]["name"] == "FluidR3_GM" and card["soundfont"]["licence"] == "MIT"
    assert [i["program"] for i in card["instruments"]] == [71, 68, 70, 65]
    assert all(i["notes"] and i["seed"] == 71 for i in card["instruments"])
    assert card["model"]["hidden_size"] == 32 and card["steps"] == 10
    assert card["decoder_sha256"] == reeds.digest
    assert card["registry"]["deu"] == "prior-reeds" and card["registry"]["version"] == 1
    with np.load(reeds.path / "decoder.npz") as weights:
        assert {w.dtype for w in weights.values()} == {np.dtype(np.float16)}


def test_priors_list_prints_family_instruments_size_data_licence(priors, capsys):
    assert main(["priors", "list"]) == 0
    out = capsys.readouterr().out
    for text in ("reeds", "bowed-strings", "Clarinet", "Violin", "MIT", "MB", "FluidR3_GM"):
        assert text in out, text


@pytest.mark.parametrize(("family_name", "expected"), [("reeds", "reeds"), ("bowed-strings", "bowed-strings")])
def test_auto_picks_the_matching_family_and_lineage_records_it(priors, built, amadeus_home, family_name, expected):
    wav = ama_audio(built[0], family_name)
    result = run_practice(
        "imitation", PracticeRequest(f"ama-{family_name}", audio=[str(wav)], learner_profile={**TINY, "steps": 2})
    )
    manifest = PersonalityStore(amadeus_home).get(result.deu, result.version).manifest
    losses = json.loads(manifest.practice.params["prior_losses"])
    assert set(losses) == {*FAMILIES, "(from noise)"}
    assert min(FAMILIES, key=losses.get) == expected, losses
    assert manifest.prior_name == expected
    assert manifest.prior_digest == find_prior(expected).digest
    assert manifest.learner_profile.prior == "auto"


def test_a_named_prior_warm_starts_lower_than_noise(priors, built, amadeus_home):
    """The first optimiser step's loss on clarinet audio: from the reeds prior vs from noise."""
    from instrument_agent.profiles import merge_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.training import Trainer

    wav = ama_audio(built[0], "reeds")
    result = run_practice(
        "imitation",
        PracticeRequest("clarinet", audio=[str(wav)], learner_profile={**TINY, "steps": 2, "prior": "reeds"}),
    )
    manifest = PersonalityStore(amadeus_home).get("clarinet", result.version).manifest
    assert manifest.prior_name == "reeds" and "prior_losses" not in manifest.practice.params
    examples = np.load(f"{result.work_dir}/features/train.npz")
    batch = {k: examples[k][:4].astype(np.float32) for k in ("audio", "f0_hz", "loudness_db")}
    profile = resolve_learner_profile(merge_profile(personality_pb2.LearnerProfile(), {**TINY, "steps": 2}))
    first = {}
    for start in ("noise", "reeds"):
        trainer = Trainer(profile, built[0] / f"ckpt-{start}", progress=False)
        if start == "reeds":
            trainer.warm_start(find_prior("reeds").path)
        first[start] = trainer.train_step(**batch)
    assert first["reeds"] < first["noise"], first


def test_an_unknown_prior_is_refused_before_any_work(priors, built, amadeus_home, capsys):
    wav = ama_audio(built[0], "reeds")
    with pytest.raises(UnknownPriorError, match=r"unknown prior 'oboes' \(known: bowed-strings, reeds"):
        run_practice("imitation", PracticeRequest("oboe", audio=[str(wav)], learner_profile={**TINY, "prior": "oboes"}))
    code = main(["practice", "imitation", str(wav), "--deu", "oboe", "--prior", "oboes", "--steps", "2"])
    assert code == 2 and "unknown prior 'oboes'" in capsys.readouterr().err
    assert not (amadeus_home / "practice").exists()
    assert not list((amadeus_home).glob("**/manifest.json"))


def test_a_prior_that_does_not_fit_the_learner_profile_is_named(priors, built):
    wav = ama_audio(built[0], "reeds")
    with pytest.raises(
        ValueError, match=r"prior 'reeds' does not fit the learnerProfile: hidden_size=32 \(profile 64\)"
    ):
        run_practice(
            "imitation",
            PracticeRequest("oboe", audio=[str(wav)], learner_profile={**TINY, "hidden_size": 64, "prior": "reeds"}),
        )


def test_a_prior_that_fails_its_digest_is_refused(built, tmp_path, monkeypatch, amadeus_home):
    import shutil

    damaged = tmp_path / "priors"
    shutil.copytree(built[1] / "reeds", damaged / "reeds")
    data = bytearray((damaged / "reeds" / "decoder.npz").read_bytes())
    data[-100] ^= 0xFF
    (damaged / "reeds" / "decoder.npz").write_bytes(bytes(data))
    monkeypatch.setenv(PRIORS_ENV, str(damaged))
    wav = ama_audio(built[0], "reeds")
    with pytest.raises(ValueError, match=r"prior 'reeds': decoder.npz fails its digest"):
        run_practice("imitation", PracticeRequest("oboe", audio=[str(wav)], learner_profile={**TINY, "prior": "reeds"}))
    assert not (amadeus_home / "practice").exists()
