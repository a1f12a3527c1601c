"""Feedback that fine-tunes, on a case that is not a knob: a personality practised on a mix of a
clarinet and a violin (FluidR3 renders of the same notes), a performance whose liked half is the
clarinet's notes and disliked half the violin's. ``run_practice("feedback")`` with ``auto`` must
choose the fine-tune, publish a version with lineage and its reasons, and on held-out notes move
the resynthesis toward the clarinet and away from the violin, further than the knobs can."""

from __future__ import annotations

import dataclasses
import json

import pytest
from _duo_support import REGIONS, held_out_distances, render_duo

from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.practice import PracticeRequest, run_practice

PARENT_PROFILE = {
    "steps": 100,
    "hidden_size": 32,
    "gru_units": 32,
    "n_harmonics": 40,
    "n_noise_bands": 17,
    "example_seconds": 1.0,
    "batch_size": 8,
    "learning_rate": 3e-3,
    "reverb": False,
    "f0_method": "yin",
    "holdout_fraction": 0.1,
    "checkpoint_every": 1000,
}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A home with deu 'duo' v1 practised on clarinet + violin, and the case (:class:`Duo`)."""
    folder = tmp_path_factory.mktemp("duo")
    duo = render_duo(folder)
    home = folder / "home"
    parent = run_practice("imitation", PracticeRequest("duo", audio=duo.train, learner_profile=PARENT_PROFILE), home)
    return home, parent.version, duo


@pytest.mark.slow
def test_feedback_on_a_timbre_no_knob_expresses_fine_tunes_toward_the_liked_instrument(mixed):
    home, v1, duo = mixed
    performance = duo.performance
    store = PersonalityStore(home)
    parent = store.get("duo", v1)
    request = PracticeRequest("duo", performance=performance, regions=REGIONS, base_version=v1, finetune_steps=60)
    tuned = run_practice("feedback", request, home)
    report = tuned.steps["feedback"]

    assert report["method"] == "finetune" and report["envelope_residual"]["residual_db"] > 3.0, report
    new = store.get("duo", tuned.version)
    record = new.manifest.practice
    assert record.kind == personality_pb2.PracticeRecord.FEEDBACK
    assert (new.manifest.parent_version, new.manifest.parent_digest) == (v1, parent.digest)
    assert record.params["method"] == "finetune" and record.params["method_requested"] == "auto"
    assert record.params["method_reason"].startswith("auto chose finetune: the liked regions' harmonic envelope")
    assert json.loads(record.params["finetune"])["settings"]["steps"] == 60
    assert new.manifest.learner_profile == parent.manifest.learner_profile
    digests = lambda bundle: {e.path: e.sha256 for e in bundle.manifest.files}  # noqa: E731
    assert digests(new)["decoder.npz"] != digests(parent)["decoder.npz"]  # the model itself changed
    assert new.manifest.metrics["feedback/liked_after"] < new.manifest.metrics["feedback/liked_before"]

    knobs = run_practice(
        "feedback",
        PracticeRequest("duo", performance=performance, regions=REGIONS, base_version=v1, feedback_method="knobs"),
        home,
    )
    assert knobs.steps["feedback"]["method"] == "knobs"
    assert (
        store.get("duo", knobs.version).manifest.practice.params["method_reason"].startswith("asked for --method knobs")
    )

    before = held_out_distances(parent, duo)
    after = held_out_distances(new, duo)
    knobbed = held_out_distances(store.get("duo", knobs.version), duo)
    figures = {"before": before, "finetune": after, "knobs": knobbed}
    # Stated margins (measured: -21 %, +46 %, 1.66x; since the level calibration sets every version at
    # its recording's level: -27 %, +23 %, 1.44x): toward the clarinet by at least 10 %, away from
    # the violin by at least 10 %, and the knobs, on the same case, end at least 20 % further from
    # the clarinet than the fine-tune.
    assert after["clarinet"] < 0.90 * before["clarinet"], figures
    assert after["violin"] > 1.10 * before["violin"], figures
    assert knobbed["clarinet"] > 1.20 * after["clarinet"], figures


@pytest.mark.slow
def test_an_interrupted_fine_tune_resumes_from_its_checkpoint(mixed):
    home, v1, duo = mixed
    performance = duo.performance
    stopped: list[int] = []

    def progress(stage: str, message: str, step: int | None = None, **fields) -> None:
        if stage == "feedback" and step is not None and step >= 3 and fields.get("total_steps") == 10:
            stopped.append(step)
            raise KeyboardInterrupt  # what a Ctrl-C does inside the training loop

    request = PracticeRequest(
        "duo", performance=performance, regions=REGIONS, base_version=v1, feedback_method="finetune", finetune_steps=10
    )
    latest = PersonalityStore(home).latest_version("duo")
    with pytest.raises(KeyboardInterrupt, match="training interrupted at step"):  # as run_practice documents
        run_practice("feedback", dataclasses.replace(request, progress=progress), home)
    assert PersonalityStore(home).latest_version("duo") == latest  # nothing published

    resumed = run_practice("feedback", request, home)
    training = resumed.steps["feedback"]["training"]
    (step,) = stopped
    assert (training["start_step"], training["step"], training["steps_run"]) == (step, 10, 10 - step)
    assert resumed.version == latest + 1
    assert resumed.steps["feedback"]["method_reason"].startswith("asked for --method finetune")
