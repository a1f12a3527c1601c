"""Previews while training, on real (synthesised) harmonic audio: every ``preview_every`` steps the
personality-in-training is written as a verified preview bundle into the work directory, holding
exactly the weights of that step; it is never a version; ``-1`` turns previews off."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from _training_support import harmonic_examples as _examples
from _training_support import tiny_profile as _profile

from instrument_agent.decoder import NumpyDecoder
from instrument_agent.personality import BundleNotFoundError, is_preview, latest_preview, read_preview
from instrument_agent.proto import personality_pb2
from pipelines.training import DEFAULT_PREVIEW_EVERY, PreviewWriter, Trainer, preview_interval


def _manifest() -> personality_pb2.PersonalityManifest:
    manifest = personality_pb2.PersonalityManifest(deu="violin", sample_rate=16000, frame_rate=50)
    manifest.learner_profile.CopyFrom(_profile())
    return manifest


@pytest.mark.slow
def test_previews_hold_the_weights_of_their_step_and_replace_each_other(tmp_path):
    trainer = Trainer(_profile(steps=16, preview_every=5), tmp_path / "ckpt", progress=False)
    writer = PreviewWriter(tmp_path / "preview", _manifest())
    seen: dict[int, dict[str, np.ndarray]] = {}

    def on_preview(step, loss, model):
        seen[step] = {k: v.copy() for k, v in model.decoder.weights_dict().items()}
        return writer(step, loss, model)

    result = trainer.fit(_examples(), on_preview=on_preview)
    assert result.step == 16 and sorted(seen) == [5, 10, 15] and writer.written == 3 and writer.failures == 0

    info = latest_preview(tmp_path / "preview")
    assert (info.generation, info.step, info.deu) == (3, 15, "violin")
    assert info.loss == pytest.approx(result.history[14], rel=1e-6)
    bundle = read_preview(info)  # every digest verified
    assert is_preview(bundle) and bundle.version == 0
    assert bundle.manifest.practice.params["preview_step"] == "15"
    assert {f.path for f in bundle.manifest.files} == {"decoder.npz", "reverb_ir.npy"}
    with np.load(bundle.file("decoder.npz")) as npz:
        assert set(npz.files) == set(seen[15])
        for key, value in seen[15].items():
            np.testing.assert_array_equal(npz[key], value)
    # The agent's numpy decoder runs it: the preview is playable as it is.
    decoder = NumpyDecoder(bundle.file("decoder.npz"), n_harmonics=16)
    controls, _ = decoder.step(np.array([220.0], np.float32), np.array([-30.0], np.float32), decoder.initial_state(1))
    assert controls.shape == (1, 1 + 16 + 17) and np.all(np.isfinite(controls))
    # The one before stays (a reader that just read the pointer finds it), older ones are removed.
    generations = sorted(p.name for p in (tmp_path / "preview").glob("g*"))
    assert generations == ["g000002", "g000003"]
    gone = info.__class__(1, 5, 0.0, "0" * 64, tmp_path / "preview" / "g000001")
    with pytest.raises(BundleNotFoundError):
        read_preview(gone)


@pytest.mark.slow
def test_generations_continue_across_a_resumed_run_and_minus_one_turns_previews_off(tmp_path):
    profile = _profile(steps=6, preview_every=3, checkpoint_every=3)
    writer = PreviewWriter(tmp_path / "preview", _manifest())
    Trainer(profile, tmp_path / "ckpt", progress=False).fit(_examples(), on_preview=writer)
    assert latest_preview(tmp_path / "preview").generation == 2
    resumed = Trainer(_profile(steps=9, preview_every=3, checkpoint_every=3), tmp_path / "ckpt", progress=False)
    resumed.fit(_examples(), on_preview=PreviewWriter(tmp_path / "preview", _manifest()))
    info = latest_preview(tmp_path / "preview")
    assert (info.generation, info.step) == (3, 9)

    off = PreviewWriter(tmp_path / "off", _manifest())
    Trainer(_profile(steps=4, preview_every=-1), tmp_path / "ckpt-off", progress=False).fit(_examples(), on_preview=off)
    assert off.written == 0 and not (tmp_path / "off").exists()


def test_preview_interval_defaults_and_off():
    assert preview_interval(personality_pb2.LearnerProfile()) == DEFAULT_PREVIEW_EVERY
    assert preview_interval(personality_pb2.LearnerProfile(preview_every=7)) == 7
    assert preview_interval(personality_pb2.LearnerProfile(preview_every=-1)) == 0


def test_a_preview_pointer_that_is_not_json_names_the_file(tmp_path):
    from instrument_agent.personality import BundleCorruptError

    (tmp_path / "current.json").write_text("{not json")
    with pytest.raises(BundleCorruptError, match="current.json: unreadable preview pointer"):
        latest_preview(tmp_path)
    (tmp_path / "current.json").write_text(json.dumps({"generation": 1}))
    with pytest.raises(BundleCorruptError, match="unreadable preview pointer"):
        latest_preview(tmp_path)


def test_the_default_previews_stay_within_their_share_of_the_time(tmp_path):
    from pipelines.ddsp import build_model
    from pipelines.training import DEFAULT_BUDGET, preview_budget

    assert preview_budget(personality_pb2.LearnerProfile()) == DEFAULT_BUDGET == 0.05
    assert preview_budget(personality_pb2.LearnerProfile(preview_every=10)) is None  # asked for: every one
    model = build_model(_profile())
    writer = PreviewWriter(tmp_path / "preview", _manifest(), budget=0.05)
    assert writer(25, 1.0, model) is not None
    cost = writer.seconds
    assert writer(50, 0.9, model) is None and writer.skipped == 1  # right after: over 5 % of the time
    time.sleep(cost / 0.05 + 0.05)
    assert writer(75, 0.8, model) is not None and writer.written == 2
    assert latest_preview(tmp_path / "preview").step == 75
