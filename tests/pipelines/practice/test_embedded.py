"""The embedded runner: the practice graphs walked in-process (one binding per graph step,
resumable markers, branches), and the imitation practice end to end (``run_practice``) with
a tiny learnerProfile: a verifiable version in a temporary store whose steps and wiring are
the compiled KFP pipeline's, resumption after an interrupt, and a failed practice that
leaves the store's last good version alone."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from instrument_agent.coverage_map import MIN_SECONDS, bundle_coverage, practised_region
from instrument_agent.images import PREVIEW_FILES, decode_png
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.proto import personality_pb2
from pipelines.data import NoVoicedFramesError
from pipelines.demo import bowed_string, practice_score
from pipelines.kfp_pipelines import compile_practice_pipeline, compiled_wiring
from pipelines.practice import InProcessSteps, PracticeRequest, execute_graph, run_practice
from pipelines.stages.graph import GRAPHS, IMITATION, Branch, Const, GraphError, Out, Param, PipelineGraph, Step
from pipelines.training import TrainingInterrupted

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


def test_every_graph_step_has_an_in_process_binding_taking_its_inputs():
    for graph in GRAPHS.values():
        for step in graph.steps():
            params = inspect.signature(getattr(InProcessSteps, step.name)).parameters
            names = set(params) - {"self"}
            required = {n for n in names if params[n].default is inspect.Parameter.empty}
            assert required <= set(step.inputs) <= names, step.name


class _Bindings:
    """Steps that append to a file, so the test sees what ran, in which order, with which values."""

    def __init__(self, log: Path):
        self.log = log

    def _note(self, line: str) -> None:
        with self.log.open("a") as handle:
            handle.write(line + "\n")

    def make(self, seed):
        self._note(f"make {seed}")
        return {"number": seed * 2, "mode": "odd" if seed % 2 else "even"}

    def odd(self, number):
        self._note(f"odd {number}")
        return {"version": number + 1}

    def even(self, number, label):
        self._note(f"even {number} {label}")
        return {"version": number + 100}


_TOY = PipelineGraph(
    "toy",
    (
        Step("make", "toy.make", {"seed": Param("seed")}, outputs=("number", "mode")),
        Branch(
            Out("make", "mode"),
            "odd",
            then=(Step("odd", "toy.odd", {"number": Out("make", "number")}, returns="version"),),
            otherwise=(
                Step("even", "toy.even", {"number": Out("make", "number"), "label": Const("x")}, returns="version"),
            ),
        ),
    ),
    result=(Out("odd", "version"), Out("even", "version")),
)


def test_execute_graph_follows_the_wiring_branches_and_resumes(tmp_path):
    log = tmp_path / "log.txt"
    seen = []
    version, outputs = execute_graph(
        _TOY, {"seed": 3}, _Bindings(log), tmp_path / "w", report=lambda s, o, r: seen.append((s, r))
    )
    assert version == 7 and list(outputs) == ["make", "odd"] and seen == [("make", False), ("odd", False)]
    marker = json.loads((tmp_path / "w" / "odd.done.json").read_text())
    assert marker["inputs"] == {"number": "make.number"} and marker["outputs"] == {"version": 7}

    # Again: both steps are reused from their markers, nothing runs.
    seen.clear()
    assert (
        execute_graph(_TOY, {"seed": 3}, _Bindings(log), tmp_path / "w", report=lambda s, o, r: seen.append((s, r)))[0]
        == 7
    )
    assert seen == [("make", True), ("odd", True)] and log.read_text().splitlines() == ["make 3", "odd 6"]

    assert execute_graph(_TOY, {"seed": 4}, _Bindings(log), tmp_path / "v")[0] == 108
    assert log.read_text().splitlines()[-1] == "even 8 x"


def test_a_marker_without_an_output_the_step_now_declares_runs_the_step_again(tmp_path):
    """A work directory from before a step gained an output (evaluate's ``bundle_preview``): resuming
    runs that step again instead of handing a later step a missing value."""
    log = tmp_path / "log.txt"
    execute_graph(_TOY, {"seed": 3}, _Bindings(log), tmp_path / "w")
    marker = tmp_path / "w" / "make.done.json"
    old = json.loads(marker.read_text())
    del old["outputs"]["mode"]
    marker.write_text(json.dumps(old))
    assert execute_graph(_TOY, {"seed": 3}, _Bindings(log), tmp_path / "w")[0] == 7
    assert log.read_text().splitlines() == ["make 3", "odd 6", "make 3"]  # make again, odd reused
    assert json.loads(marker.read_text())["outputs"]["mode"] == "odd"


def test_a_ctrl_c_tensorflow_rewrapped_is_still_an_interrupt_and_the_step_runs_again(tmp_path):
    class Interrupted(_Bindings):
        def odd(self, number):  # what TensorFlow's pybind layer raises for a Ctrl-C inside its C++ code
            raise RuntimeError(
                "pybind11::error_already_set: MISMATCH of original and normalized active exception types: "
                "ORIGINAL InvalidArgumentError REPLACED BY KeyboardInterrupt: <EMPTY MESSAGE>"
            )

    log = tmp_path / "log.txt"
    with pytest.raises(KeyboardInterrupt, match="REPLACED BY KeyboardInterrupt"):
        execute_graph(_TOY, {"seed": 3}, Interrupted(log), tmp_path / "w")
    assert (tmp_path / "w" / "make.done.json").is_file() and not (tmp_path / "w" / "odd.done.json").exists()
    assert execute_graph(_TOY, {"seed": 3}, _Bindings(log), tmp_path / "w")[0] == 7  # resumed
    assert log.read_text().splitlines() == ["make 3", "odd 6"]


def test_an_interrupted_training_is_a_keyboard_interrupt_for_the_practice(tmp_path):
    class Interrupted(_Bindings):
        def odd(self, number):
            raise TrainingInterrupted(7, tmp_path / "checkpoints")

    with pytest.raises(KeyboardInterrupt, match="training interrupted at step 7"):
        execute_graph(_TOY, {"seed": 3}, Interrupted(tmp_path / "log.txt"), tmp_path / "w")
    assert not (tmp_path / "w" / "odd.done.json").exists()


def test_a_step_without_binding_or_output_is_a_graph_error(tmp_path):
    class Missing:
        def make(self, seed):
            return {"number": 1}

    with pytest.raises(GraphError, match="returned no mode"):
        execute_graph(_TOY, {"seed": 1}, Missing(), tmp_path / "w")
    assert not (tmp_path / "w" / "make.done.json").exists()
    with pytest.raises(GraphError, match="step 'make' has no in-process binding"):
        execute_graph(_TOY, {"seed": 1}, object(), tmp_path / "w")


@pytest.mark.slow
def test_practice_publishes_a_verified_version_and_continues_from_it(recording, tmp_path):
    home = tmp_path / "home"
    stages_seen = []
    request = PracticeRequest(
        "violin",
        audio=[recording],
        learner_profile=dict(TINY, steps=10),
        progress=lambda **f: stages_seen.append((f["stage"], f["message"])),
    )
    result = run_practice("imitation", request, home)
    store = PersonalityStore(home)
    bundle = store.get("violin", result.version)  # verifies every file digest
    first = bundle.manifest
    assert result.digest == bundle.digest and result.metrics == dict(first.metrics)
    assert first.version == 1 and first.parent_version == 0
    assert {"eval/spectral_loss", "baseline/sine", "baseline/harmonic_1_over_k"} <= set(first.metrics)
    assert first.practice.data_digests[0] and first.feature_stats.f0_hz_max > first.feature_stats.f0_hz_min > 0
    assert bundle.has_file("saved_model") and bundle.has_file("decoder.npz")
    assert first.practice.kind == personality_pb2.PracticeRecord.IMITATION and first.practice.runner == "embedded"
    assert json.loads(first.practice.params["audio_uris"]) == [str(recording.resolve())]  # for a later tuning
    # The coverage map: the training part's voiced frames, on the score's notes (the held-out tail's
    # notes may be missing; a frame tracked a semitone off at an onset is under MIN_SECONDS).
    coverage = bundle_coverage(bundle)
    region = practised_region(coverage)
    played = sorted({n.pitch for n in practice_score(8.0, seed=4)})
    assert not region.empty and played[0] <= region.lowest and region.highest <= played[-1]
    strong = set(np.flatnonzero(coverage.pitch_seconds >= MIN_SECONDS))
    assert strong <= set(played) and len(strong) >= len(played) // 2
    assert 0 < coverage.voiced_seconds <= coverage.total_seconds <= 8.0 * (1 - TINY["holdout_fraction"]) + 0.5
    # The evaluate stage's preview travels in the bundle: a recording beside its resynthesis.
    for name in PREVIEW_FILES:
        assert bundle.has_file(f"preview/{name}")
    picture = decode_png(bundle.file("preview/recording.png").read_bytes())
    assert picture.shape[2] == 3 and picture.std() > 5  # a spectrogram, not a flat image

    # The steps it ran, in order, and where each input came from: those of the compiled KFP pipeline.
    (workdir,) = (home / "practice" / "violin").iterdir()
    markers = {p.name.removesuffix(".done.json"): json.loads(p.read_text()) for p in workdir.glob("*.done.json")}
    compiled = compiled_wiring(compile_practice_pipeline("imitation", str(tmp_path / "imitation.yaml"), image="img:1"))
    assert {step: marker["inputs"] for step, marker in markers.items()} == compiled == IMITATION.wiring()
    assert [s for s, _ in stages_seen if s in markers][:1] == ["ingest"]
    assert list(dict.fromkeys(s for s, _ in stages_seen)) == [s.name for s in IMITATION.steps()]

    # The next practice continues the deu: v2 starts from v1's weights in a work dir of its own and
    # trains its 20 steps (an interrupted practice resuming in its work dir: tests/faults/).
    again = run_practice("imitation", PracticeRequest("violin", audio=[recording], learner_profile=TINY), home)
    second = store.get("violin", again.version).manifest
    assert second.version == 2 and second.parent_version == 1 and again.parent_version == 1
    # It practised the same audio again: its map is v1's plus this practice's.
    assert np.allclose(np.asarray(second.coverage.seconds), 2 * np.asarray(first.coverage.seconds), atol=1e-5)
    assert Path(again.work_dir) != workdir and Path(again.work_dir).parent == workdir.parent
    train_info = json.loads((Path(again.work_dir) / "train" / "train.json").read_text())
    assert (train_info["start_step"], train_info["step"], train_info["steps_run"]) == (0, 20, 20)


@pytest.mark.slow
def test_a_practice_stopped_between_its_publish_and_its_marker_adopts_its_version_when_rerun(recording, tmp_path):
    home = tmp_path / "home"
    store = PersonalityStore(home)

    def practise():
        return run_practice("imitation", PracticeRequest("violin", audio=[recording], learner_profile=TINY), home)

    first = practise()
    (Path(first.work_dir) / "push.done.json").unlink()  # what a SIGKILL right after the store's commit leaves
    again = practise()  # the same command: the version it published is found, not practised a second time
    assert (again.version, again.digest, again.work_dir) == (1, first.digest, first.work_dir)
    assert [info.version for info in store.versions("violin")] == [1]
    assert (Path(first.work_dir) / "push.done.json").is_file()

    second = practise()  # with the push marked, the same command practises on from v1
    assert (second.version, second.parent_version) == (2, 1) and second.work_dir != first.work_dir
    (Path(second.work_dir) / "push.done.json").unlink()
    third = practise()  # v2 was published from v1's practice: adopted, not a v3
    assert (third.version, third.digest, third.parent_version) == (2, second.digest, 1)
    assert [info.version for info in store.versions("violin")] == [1, 2]


@pytest.mark.slow
def test_failed_practice_keeps_the_last_good_version(recording, tmp_path):
    home = tmp_path / "home"
    good = run_practice(
        "imitation", PracticeRequest("violin", audio=[recording], learner_profile=dict(TINY, steps=5)), home
    )
    noise = tmp_path / "noise.wav"
    soundfile.write(str(noise), np.random.default_rng(0).uniform(-0.3, 0.3, 5 * 16000).astype(np.float32), 16000)
    with pytest.raises(NoVoicedFramesError, match="noise.wav"):
        run_practice("imitation", PracticeRequest("violin", audio=[noise], learner_profile=dict(TINY, steps=5)), home)
    store = PersonalityStore(home)
    assert store.latest_version("violin") == good.version
    store.get("violin")


@pytest.mark.slow
def test_a_practice_writes_previews_in_its_work_directory_that_never_become_versions(recording, tmp_path):
    from instrument_agent.engine import Engine
    from instrument_agent.personality import is_preview, latest_preview, read_preview

    home = tmp_path / "home"
    announced = []
    request = PracticeRequest(
        "violin",
        audio=[recording],
        learner_profile=dict(TINY, steps=12, preview_every=4),
        progress=lambda **f: announced.append(f["preview_step"]) if "preview_step" in f else None,
    )
    result = run_practice("imitation", request, home)
    assert announced == [4, 8, 12]  # each preview is reported as it is written
    info = latest_preview(Path(result.work_dir) / "preview")
    assert (info.generation, info.step, info.deu) == (3, 12, "violin")
    preview = read_preview(info)
    assert is_preview(preview) and preview.version == 0
    manifest = preview.manifest
    assert manifest.learner_profile.steps == 12 and manifest.feature_stats.f0_hz_max > 0  # the practice's own
    assert manifest.player_profile.configured  # a complete playerProfile (the defaults: a new deu)
    # The store has the published version only; the preview plays in the agent's engine as it is.
    store = PersonalityStore(home)
    assert [v.version for v in store.versions("violin")] == [1]
    assert store.get("violin").digest == result.digest != preview.digest
    engine = Engine.from_bundle(preview, sample_rate=16000, backend="numpy")
    engine.send(mido.Message("note_on", note=60, velocity=100))
    assert np.isfinite(engine.render(4000)).all()
    train = json.loads((Path(result.work_dir) / "train" / "train.json").read_text())
    assert train["previews"] == 3 and train["previews_skipped"] == 0
