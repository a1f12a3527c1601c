"""``amadeus practice imitation|tuning|feedback``: parse the options, call
:func:`pipelines.practice.run_practice`, print what it published. Only typer and rich at
import time; TensorFlow and librosa load when a command runs.

The commands take both the friendly form (``amadeus practice imitation a.wav b.wav --deu
viola``) and the form the studio operator's Kubernetes Job runs
(``studio_operator.operator.job_backend.practice_command``)::

    amadeus practice <imitation|tuning|feedback> --deu D --practice-id UID --runner job
        [--audio URI]... [--base-version N] [--learner-profile JSON] [--player-profile JSON]
        [--performance URI --good A-B --bad A-B [--method auto|knobs|finetune]]

URIs are local paths or ``s3://`` objects (fetched, size-verified; :mod:`pipelines.inputs`).
The new version goes where :meth:`pipelines.practice.Publisher.from_env` says (the registry
the environment names), its practice record carrying ``practice_id`` and ``runner``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ._output import console, metrics_table, published

__all__ = ["RUNNERS", "practice_app"]

RUNNERS = ("embedded", "job")

# The two options every practice command takes from the studio operator's Job (its practice record's fields).
PracticeIdOpt = Annotated[str, typer.Option("--practice-id", help="Recorded in the new version's practice record.")]
RunnerOpt = Annotated[str, typer.Option("--runner", help="Recorded as the practice's runner: embedded | job.")]

practice_app = typer.Typer(
    help=(
        "Practice sessions that make a new personality version of a deu: "
        "[bold]imitation[/bold] learns from recordings, [bold]tuning[/bold] changes the "
        "profiles, [bold]feedback[/bold] moves the sound toward the regions you liked."
    ),
    no_args_is_help=True,
)


def _json_object(text: str | None, flag: str) -> dict:
    """``--learner-profile`` / ``--player-profile`` JSON text → dict (a usage error otherwise)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{flag}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{flag}: expected a JSON object of profile fields, got {type(value).__name__}")
    return value


def _check_runner(runner: str) -> str:
    if runner not in RUNNERS:
        raise typer.BadParameter(f"--runner {runner!r}: expected one of {', '.join(RUNNERS)}")
    return runner


@practice_app.command("imitation")
def imitation(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to practise (created if new).")],
    audio: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Recordings of one monophonic instrument (wav, flac, ogg, aiff; any rate/channels): "
            "paths or s3:// URIs."
        ),
    ] = None,
    audio_option: Annotated[
        Optional[list[str]], typer.Option("--audio", help="A recording (path or s3:// URI); repeatable.")
    ] = None,
    profile: Annotated[
        Optional[Path], typer.Option("--profile", "-p", help="learnerProfile YAML (proto field names).")
    ] = None,
    learner_profile: Annotated[
        Optional[str],
        typer.Option("--learner-profile", help="learnerProfile fields as a JSON object (over --profile)."),
    ] = None,
    player_profile: Annotated[
        Optional[str], typer.Option("--player-profile", help="playerProfile changes as a JSON object.")
    ] = None,
    base_version: Annotated[
        Optional[int], typer.Option("--base-version", help="The version to continue (default: the latest).")
    ] = None,
    practice_id: PracticeIdOpt = "",
    runner: RunnerOpt = "embedded",
    steps: Annotated[Optional[int], typer.Option(help="Optimiser steps.")] = None,
    sample_rate: Annotated[Optional[int], typer.Option(help="Model sample rate, Hz (16000..48000).")] = None,
    frame_rate: Annotated[
        Optional[int], typer.Option(help="Control frames per second (must divide the sample rate).")
    ] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Examples per step.")] = None,
    example_seconds: Annotated[Optional[float], typer.Option(help="Length of one training example, s.")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Adam learning rate.")] = None,
    f0_method: Annotated[Optional[str], typer.Option(help="Pitch tracker: pyin | yin.")] = None,
    max_minutes: Annotated[Optional[float], typer.Option(help="Stop training after this many minutes.")] = None,
    device: Annotated[Optional[str], typer.Option(help="auto | cpu | gpu.")] = None,
    prior: Annotated[
        Optional[str],
        typer.Option(
            "--prior",
            help="A new deu's starting point: auto (default: the family prior that resynthesises your audio "
            "best, measured; the table is printed), none (from noise), or a prior's name (`amadeus priors list`).",
        ),
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="Start afresh instead of continuing the latest version.")] = False,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an interrupted run of this practice instead of resuming it.")
    ] = False,
) -> None:
    """Learn a personality by imitating recordings (DDSP), and publish it as the deu's next version.

    Prepares the audio (mono, resampled, silence trimmed, cut into examples, the
    last part held out), extracts f0 and loudness (cached), trains with
    checkpoints, exports, scores the held-out audio against a sine and a 1/k
    baseline, and publishes atomically. Interrupt it at any time: the same
    command resumes where it stopped (with the local store; a remote registry, set by
    AMADEUS_REGISTRY_URI / AMADEUS_REGISTRY, gets the version when it is done).
    """
    from instrument_agent.profiles import learner_profile_from_yaml, merge_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.practice import PracticeRequest, Publisher, run_practice

    _check_runner(runner)
    uris = [*(audio or ()), *(audio_option or ())]
    if not uris:
        raise typer.BadParameter("give at least one recording (AUDIO... or --audio URI)")
    learner_changes = _json_object(learner_profile, "--learner-profile")
    player_changes = _json_object(player_profile, "--player-profile")
    merge_profile(personality_pb2.PlayerProfile(), player_changes, source="--player-profile")  # names a bad field now
    base = learner_profile_from_yaml(profile) if profile else personality_pb2.LearnerProfile()
    base = merge_profile(base, learner_changes, source="--learner-profile")
    overrides = {
        "steps": steps,
        "sample_rate": sample_rate,
        "frame_rate": frame_rate,
        "batch_size": batch_size,
        "example_seconds": example_seconds,
        "learning_rate": learning_rate,
        "f0_method": f0_method,
        "max_train_seconds": max_minutes * 60.0 if max_minutes else None,
        "device": device,
        "prior": prior,
    }
    learner = resolve_learner_profile(merge_profile(base, overrides, source="command-line flags"))
    request = PracticeRequest(
        deu,
        audio=uris,
        learner_profile=learner,
        player_profile=player_changes or None,
        base_version=base_version or 0,
        new=new,
        practice_id=practice_id,
        runner=runner,
        resume=not restart,
        progress=True,
    )
    result = run_practice("imitation", request, publisher=Publisher.from_env())
    console.print(metrics_table(result.metrics, f"{deu} v{result.version}"))
    published(deu, result.version, result.location, practice_id)


@practice_app.command("tuning")
def tuning(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu to tune.")],
    player: Annotated[
        Optional[str],
        typer.Option(
            "--player", "--player-profile", help="playerProfile changes as JSON, e.g. '{\"harmonic_tilt\": -3}'."
        ),
    ] = None,
    learner: Annotated[
        Optional[str],
        typer.Option(
            "--learner",
            "--learner-profile",
            help="learnerProfile changes as JSON, e.g. '{\"steps\": 3000}' (re-practises).",
        ),
    ] = None,
    version: Annotated[
        int, typer.Option("--version", "--base-version", help="The version to tune (0 = the latest).")
    ] = 0,
    practice_id: PracticeIdOpt = "",
    runner: RunnerOpt = "embedded",
) -> None:
    """Change a deu's profiles: a playerProfile change is a new version at once; a learnerProfile
    change re-runs its last practice on the same audio (cached features) with the new parameters."""
    from pipelines.practice import PracticeRequest, Publisher, run_practice

    _check_runner(runner)
    try:
        changes = {name: json.loads(text) if text else {} for name, text in (("player", player), ("learner", learner))}
    except ValueError as exc:
        raise typer.BadParameter(f"profile changes must be JSON objects ({exc})") from None
    if not all(isinstance(v, dict) for v in changes.values()):
        raise typer.BadParameter("profile changes must be JSON objects of profile fields")
    if not changes["player"] and not changes["learner"]:
        raise typer.BadParameter("give at least one change: --player-profile JSON and/or --learner-profile JSON")
    started = time.perf_counter()
    request = PracticeRequest(
        deu,
        learner_profile=changes["learner"],
        player_profile=changes["player"] or None,
        base_version=version,
        practice_id=practice_id,
        runner=runner,
        progress=True,
    )
    result = run_practice("tuning", request, publisher=Publisher.from_env())
    how = "re-practised" if result.mode == "learner" else "no training"
    console.print(f"[green]{deu} v{result.version}[/green] ({how}, {time.perf_counter() - started:.1f} s)")
    published(deu, result.version, result.location, practice_id)


@practice_app.command("feedback")
def feedback(
    deu: Annotated[str, typer.Option("--deu", "-d", help="The deu that played the performance.")],
    performance: Annotated[
        str, typer.Option("--performance", help="Audio of the performance (wav, flac...): a path or s3:// URI.")
    ],
    good: Annotated[
        Optional[list[str]], typer.Option("--good", help="A liked region START-END in seconds; repeatable.")
    ] = None,
    bad: Annotated[
        Optional[list[str]], typer.Option("--bad", help="A disliked region START-END in seconds; repeatable.")
    ] = None,
    version: Annotated[
        Optional[int], typer.Option("--version", "--base-version", help="The judged version (default: the latest).")
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="knobs: move the playerProfile knobs (instant, no training); finetune: train the decoder a "
            "little on the marked regions; auto: the knobs unless what you liked differs from what you "
            "disliked in a way no knob can express (its harmonic envelope beyond a tilt and a gain).",
        ),
    ] = "auto",
    steps: Annotated[int, typer.Option(help="The knobs' optimiser steps.")] = 60,
    finetune_steps: Annotated[
        Optional[int], typer.Option("--finetune-steps", help="The fine-tune's training steps (default 150).")
    ] = None,
    practice_id: PracticeIdOpt = "",
    runner: RunnerOpt = "embedded",
) -> None:
    """Tell the deu what you liked and disliked in a performance; it moves toward the liked sound.

    Interrupt a fine-tune at any time: the same command resumes from its last checkpoint.
    """
    from rich.progress import Progress

    from pipelines.feedback import (
        FeedbackMethodError,
        FeedbackRegionError,
        PerformanceReadError,
        check_method,
        parse_region,
    )
    from pipelines.practice import PracticeRequest, Publisher, run_practice

    _check_runner(runner)
    try:
        regions = [parse_region(t, "good") for t in good or ()] + [parse_region(t, "bad") for t in bad or ()]
        method = check_method(method)
    except (FeedbackRegionError, FeedbackMethodError) as exc:
        raise typer.BadParameter(str(exc)) from None
    publisher = Publisher.from_env()
    try:
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("judging the performance", total=None)

            def progress(stage: str, message: str, step: int | None = None, **fields) -> None:
                if stage != "feedback":
                    return
                if "method" in fields:
                    bar.console.print(f"[bold cyan]feedback[/bold cyan] {message}")
                    what = "fine-tuning the decoder" if fields["method"] == "finetune" else "optimising the knobs"
                    bar.update(task, description=what)
                if step is not None:
                    bar.update(task, completed=step, total=fields.get("total_steps"))

            request = PracticeRequest(
                deu,
                performance=performance,
                regions=regions,
                base_version=version or 0,
                feedback_steps=steps,
                feedback_method=method,
                finetune_steps=finetune_steps,
                practice_id=practice_id,
                runner=runner,
                progress=progress,
            )
            result = run_practice("feedback", request, publisher=publisher)
    except (FeedbackRegionError, PerformanceReadError) as exc:
        raise typer.BadParameter(str(exc)) from None
    judged = result.steps["feedback"]
    title = f"{deu} v{result.version} (from v{result.parent_version}, {judged.get('method', 'knobs')})"
    table = Table(title=title)
    if "finetune_losses" in judged:  # spectral loss of the marked regions, before and after the fine-tune
        for column in ("regions", "loss before", "loss after"):
            table.add_column(column, justify="right" if column != "regions" else "left")
        losses = judged["finetune_losses"]
        for label in ("liked", "disliked"):
            table.add_row(label, f"{losses[f'{label}_before']:.3f}", f"{losses[f'{label}_after']:.3f}")
    else:
        for column in ("knob", "before", "after"):
            table.add_column(column, justify="right" if column != "knob" else "left")
        for key, value in judged["knobs"].items():
            table.add_row(key, f"{judged['previous_knobs'][key]:+.2f}", f"{value:+.2f}")
    console.print(table)
    console.print(judged.get("method_reason", ""))
    published(deu, result.version, result.location, practice_id)
