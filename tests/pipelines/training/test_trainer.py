"""The Trainer on real (synthesised) harmonic audio: learning, interruption and resume, budgets, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from _training_support import harmonic_examples, tiny_profile

from pipelines.export import export
from pipelines.training import (
    DeviceUnavailableError,
    Trainer,
    TrainingDataError,
    TrainingInterrupted,
)

_profile, _examples = tiny_profile, harmonic_examples


@pytest.mark.slow
def test_loss_goes_down_on_a_harmonic_target(tmp_path):
    trainer = Trainer(_profile(steps=30), tmp_path / "ckpt", progress=False)
    result = trainer.fit(_examples())
    assert result.step == 30 and len(result.history) == 30
    first, last = np.mean(result.history[:3]), np.mean(result.history[-3:])
    assert last < 0.8 * first, (first, last)
    assert result.stopped == "steps"
    assert result.summary()["steps_run"] == 30


@pytest.mark.slow
def test_interrupted_training_resumes_at_the_saved_step(tmp_path):
    examples = _examples()
    profile = _profile(steps=8, checkpoint_every=100)

    def interrupt_at_4(step, loss):
        if step == 4:
            raise KeyboardInterrupt

    first = Trainer(profile, tmp_path / "run", progress=False)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 4.*resume with the same command"):
        first.fit(examples, on_step=interrupt_at_4)
    saved_moment = first.optimizer.variables[1].numpy().copy()  # Adam's first moment of the first weight

    resumed = Trainer(profile, tmp_path / "run", progress=False)
    assert resumed.restore() == 4
    assert int(resumed.optimizer.iterations.numpy()) == 4
    np.testing.assert_array_equal(resumed.optimizer.variables[1].numpy(), saved_moment)
    result = resumed.fit(examples)
    assert result.start_step == 4 and result.step == 8 and len(result.history) == 4
    assert int(resumed.optimizer.iterations.numpy()) == 8

    # Same batches, noise and optimizer state: the resumed run retraces the uninterrupted one.
    straight = Trainer(profile, tmp_path / "straight", progress=False).fit(examples)
    np.testing.assert_allclose(result.history, straight.history[4:], rtol=1e-3)


def test_a_finished_run_does_nothing_more(tmp_path):
    examples = _examples(count=2)
    profile = _profile(steps=2, batch_size=2)
    Trainer(profile, tmp_path / "run", progress=False).fit(examples)
    again = Trainer(profile, tmp_path / "run", progress=False).fit(examples)
    assert again.start_step == 2 and again.step == 2 and again.history == []


def test_wall_time_budget_stops_early(tmp_path):
    profile = _profile(steps=1000, batch_size=2, max_train_seconds=0.01)
    result = Trainer(profile, tmp_path / "run", progress=False).fit(_examples(count=2))
    assert result.stopped == "time_budget" and result.step == 1
    # The checkpoint holds the step it stopped at.
    assert Trainer(profile, tmp_path / "run", progress=False).restore() == 1


def test_malformed_examples_name_the_field(tmp_path):
    trainer = Trainer(_profile(), tmp_path / "run", progress=False)
    good = _examples(count=2)
    with pytest.raises(TrainingDataError, match="missing field 'loudness_db'"):
        trainer.fit({"audio": good["audio"], "f0_hz": good["f0_hz"]})
    with pytest.raises(TrainingDataError, match=r"examples\['audio'\]: shape \(2, 7999\), expected \(2, 8000\)"):
        trainer.fit({**good, "audio": good["audio"][:, :-1]})
    bad = good["f0_hz"].copy()
    bad[0, 3] = np.nan
    with pytest.raises(TrainingDataError, match=r"examples\['f0_hz'\]: contains NaN"):
        trainer.fit({**good, "f0_hz": bad})
    assert trainer.step == 0


def test_asking_for_a_gpu_without_one_is_a_clear_error(tmp_path):
    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(DeviceUnavailableError, match="device='gpu' but TensorFlow sees no GPU"):
        Trainer(_profile(device="gpu"), tmp_path / "run", progress=False)


def test_warm_start_continues_from_an_exported_personality(tmp_path):
    profile = _profile(steps=1, batch_size=2)
    parent = Trainer(profile, tmp_path / "parent", progress=False)
    parent.fit(_examples(count=2))
    export(parent.model, profile, tmp_path / "export")
    child = Trainer(_profile(steps=1, batch_size=2, seed=99), tmp_path / "child", progress=False)
    child.warm_start(tmp_path / "export")
    a, b = parent.model.decoder.weights_dict(), child.model.decoder.weights_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    np.testing.assert_array_equal(parent.model.reverb_impulse_response(), child.model.reverb_impulse_response())


class _Weighted:
    """A TrainingObjective: the spectral loss of each example times its ``weight``."""

    fields = ("weight",)

    def __call__(self, model, batch, noise_seed):
        from pipelines.ddsp import per_example_spectral_loss

        out = model(
            {"f0_hz": batch["f0_hz"], "loudness_db": batch["loudness_db"]}, training=True, noise_seed=noise_seed
        )
        losses = per_example_spectral_loss(batch["audio"], out["audio"], (1024, 256, 64))
        return tf.reduce_mean(batch["weight"] * losses)


def test_an_objective_reads_its_fields_and_decides_the_step(tmp_path):
    examples = _examples()
    trainer = Trainer(_profile(steps=3), tmp_path / "zero", progress=False, objective=_Weighted())
    before = [v.numpy().copy() for v in trainer.model.trainable_variables]
    result = trainer.fit({**examples, "weight": np.zeros(6, np.float32)})
    assert result.history == [0.0, 0.0, 0.0]  # every example weighted 0: nothing to learn
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, trainer.model.trainable_variables, strict=True))

    weighted = Trainer(_profile(steps=3), tmp_path / "one", progress=False, objective=_Weighted())
    plain = Trainer(_profile(steps=3), tmp_path / "plain", progress=False)
    first = weighted.fit({**examples, "weight": np.ones(6, np.float32)}).history[0]
    assert first == pytest.approx(plain.fit(examples).history[0], rel=1e-4)  # weight 1 is the plain loss
    with pytest.raises(TrainingDataError, match="missing field 'weight', which the training objective reads"):
        Trainer(_profile(steps=1), tmp_path / "missing", progress=False, objective=_Weighted()).fit(examples)
    with pytest.raises(TrainingDataError, match=r"examples\['weight'\]: expected 6 finite values"):
        Trainer(_profile(steps=1), tmp_path / "bad", progress=False, objective=_Weighted()).fit(
            {**examples, "weight": np.ones(5, np.float32)}
        )
