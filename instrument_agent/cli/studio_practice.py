"""``amadeus studio practice`` and ``amadeus studio watch``: start a practice in a studio and follow it.

The inputs of each practice type, with the same flags as the local ``amadeus practice``:

- imitation: audio files (uploaded in chunks);
- tuning: ``--player`` / ``--learner`` changes, ``KEY=VALUE`` (repeatable; dotted keys reach
  nested fields, values are JSON or a bare word) or one JSON object, plus the ``--gain-db`` and
  ``--steps`` shortcuts;
- feedback: ``--performance FILE`` (uploaded; or a URI the studio reads) and ``--good A-B`` /
  ``--bad A-B`` regions in seconds (:func:`instrument_agent.regions.parse_region`), plus
  ``--method knobs|finetune|auto`` and ``--finetune-steps N`` as ``amadeus practice feedback`` takes them.

:func:`practice_inputs` turns the flags into :class:`PracticeInputs`, whose
:meth:`~PracticeInputs.client_arguments` are the keyword arguments of
:meth:`instrument_agent.client.studio_client.StudioClient.practice`, which builds the ``PracticeHeader``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from instrument_agent.cli.groups import studio_group
from instrument_agent.cli.options import CaOpt, DeuArg, StudioOpt, TlsOpt, TokenOpt
from instrument_agent.cli.output import console, fail, progress_bar
from instrument_agent.cli.studio import PANEL
from instrument_agent.cli.studios import StudioTarget, resolve_studio
from instrument_agent.regions import FeedbackRegionError, Region, parse_regions

if TYPE_CHECKING:
    from instrument_agent.proto import personality_pb2

__all__ = ["FeedbackMethod", "PracticeInputs", "PracticeType", "practice_inputs", "profile_changes", "register"]


class FeedbackMethod(StrEnum):
    """How a feedback practice moves toward the liked regions (docs/practice.md, "Feedback")."""

    auto = "auto"
    knobs = "knobs"
    finetune = "finetune"


class PracticeType(StrEnum):
    """The three practice types (docs/practice.md)."""

    imitation = "imitation"
    tuning = "tuning"
    feedback = "feedback"


@dataclass(frozen=True)
class PracticeInputs:
    """What one studio practice is given. ``base_version`` 0 is the latest; regions in seconds."""

    practice_type: PracticeType
    audio: tuple[Path, ...] = ()
    base_version: int = 0
    learner_profile: personality_pb2.LearnerProfile | None = None  # only the changed fields set
    player_profile: personality_pb2.PlayerProfile | None = None  # likewise
    performance: Path | str | None = None  # feedback: a local file (uploaded) or a URI
    regions: tuple[Region, ...] = ()
    method: FeedbackMethod = FeedbackMethod.auto  # feedback
    finetune_steps: int = 0  # feedback: the fine-tune's budget (0 = the default)

    def client_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``StudioClient.practice(deu, practice_type, **arguments)``."""
        arguments: dict[str, Any] = {
            "audio": list(self.audio),
            "base_version": self.base_version,
            "learner_profile": self.learner_profile,
            "player_profile": self.player_profile,
        }
        if self.practice_type is PracticeType.feedback:
            arguments["performance"] = self.performance
            arguments["regions"] = [(r.start, r.end, r.label) for r in self.regions]
            arguments["feedback_method"] = self.method.value
            arguments["finetune_steps"] = self.finetune_steps
        return arguments


def profile_changes(values: Iterable[str], flag: str) -> dict[str, Any]:
    """``["harmonic_tilt=-3", "envelope.attack_s=0.02"]`` or ``['{"harmonic_tilt": -3}']`` → a dict of
    profile field → value (nested dicts for dotted keys). Raises :class:`typer.BadParameter` naming ``flag``."""
    changes: dict[str, Any] = {}
    for text in values:
        if text.lstrip().startswith("{"):
            try:
                parsed = json.loads(text)
            except ValueError as exc:
                raise typer.BadParameter(f"{text!r} is not a JSON object ({exc})", param_hint=flag) from None
            _merge(changes, parsed, flag)
            continue
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{text!r}: expected KEY=VALUE or a JSON object", param_hint=flag)
        try:
            parsed_value = json.loads(value)
        except ValueError:
            parsed_value = value  # a bare word is a string: f0_method=yin
        nested: Any = parsed_value
        for part in reversed(key.strip().split(".")):
            nested = {part: nested}
        _merge(changes, nested, flag)
    return changes


def _merge(into: dict[str, Any], changes: dict[str, Any], flag: str) -> None:
    if not isinstance(changes, dict):
        raise typer.BadParameter(f"{changes!r}: profile changes must be a JSON object of fields", param_hint=flag)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, flag)
        else:
            into[key] = value


def _profile(kind: str, changes: dict[str, Any], flag: str) -> Any:
    from instrument_agent.profiles import ProfileError, merge_profile
    from instrument_agent.proto import personality_pb2

    if not changes:
        return None
    try:
        return merge_profile(getattr(personality_pb2, kind)(), changes, source=flag)
    except ProfileError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None


def practice_inputs(
    practice_type: PracticeType | str,
    *,
    audio: Iterable[Path] = (),
    base_version: int = 0,
    player: Iterable[str] = (),
    learner: Iterable[str] = (),
    gain_db: float | None = None,
    steps: int | None = None,
    performance: str | None = None,
    good: Iterable[str] = (),
    bad: Iterable[str] = (),
    method: FeedbackMethod | str | None = None,
    finetune_steps: int | None = None,
) -> PracticeInputs:
    """Check the flags of one practice type and build its :class:`PracticeInputs`.

    Raises :class:`typer.BadParameter` (a one-line usage error) for a flag that does not belong to the
    type, a malformed change or region, a tuning without a change, or a feedback without
    ``--performance`` or without a liked region."""
    kind = PracticeType(practice_type)
    good, bad = list(good), list(bad)
    player_changes = profile_changes(player, "--player")
    learner_changes = profile_changes(learner, "--learner")
    if gain_db is not None:
        player_changes["gain_db"] = gain_db
    if steps is not None:
        learner_changes["steps"] = steps
    if kind is not PracticeType.feedback and (performance or good or bad or method or finetune_steps is not None):
        raise typer.BadParameter(
            "--performance, --good, --bad, --method and --finetune-steps are the inputs of --type feedback",
            param_hint="--type",
        )
    try:
        chosen = FeedbackMethod(method or "auto")
    except ValueError:
        raise typer.BadParameter(
            f"{method!r}: choose {', '.join(m.value for m in FeedbackMethod)}", param_hint="--method"
        ) from None
    if finetune_steps is not None and not 1 <= finetune_steps <= 100_000:
        raise typer.BadParameter(f"{finetune_steps}: 1..100000 steps", param_hint="--finetune-steps")
    if finetune_steps is not None and chosen is FeedbackMethod.knobs:
        raise typer.BadParameter(
            "the fine-tune's budget does not apply to --method knobs", param_hint="--finetune-steps"
        )
    if kind is PracticeType.tuning and not (player_changes or learner_changes):
        raise typer.BadParameter(
            "give at least one change: --player KEY=VALUE and/or --learner KEY=VALUE", param_hint="--type tuning"
        )
    regions: list[Region] = []
    performance_input: Path | str | None = None
    if kind is PracticeType.feedback:
        try:
            regions = parse_regions(good, bad)
        except FeedbackRegionError as exc:
            raise typer.BadParameter(str(exc)) from None
        if not performance:
            raise typer.BadParameter("name the judged performance: --performance FILE", param_hint="--type feedback")
        if not good:
            raise typer.BadParameter(
                "feedback needs at least one liked region (--good START-END)", param_hint="--type feedback"
            )
        performance_input = performance if "://" in performance else Path(performance)
        if isinstance(performance_input, Path) and not performance_input.is_file():
            raise typer.BadParameter(f"{performance}: no such audio file", param_hint="--performance")
    return PracticeInputs(
        kind,
        tuple(Path(p) for p in audio),
        base_version,
        _profile("LearnerProfile", learner_changes, "--learner"),
        _profile("PlayerProfile", player_changes, "--player"),
        performance_input,
        tuple(regions),
        chosen,
        finetune_steps or 0,
    )


_PRACTICE_HELP = """Start a practice in the studio (uploading its audio in chunks, with progress) and follow it.

    amadeus studio practice cello take1.wav take2.wav
    amadeus studio practice cello --type tuning --player harmonic_tilt=-3
    amadeus studio practice cello --type feedback --performance t.wav --good 1-2.5
    amadeus studio practice cello --type feedback --performance t.wav --good 1-2.5 --bad 4-5 --method finetune"""


def practice_command(
    deu: DeuArg,
    audio: Annotated[
        Optional[list[Path]], typer.Argument(help="imitation: audio files to upload.", show_default=False)
    ] = None,
    practice_type: Annotated[PracticeType, typer.Option("--type", help="The practice type.")] = PracticeType.imitation,
    base_version: Annotated[
        int, typer.Option("--version", "--base-version", "-v", help="The version to start from (0 = the latest).")
    ] = 0,
    player: Annotated[
        Optional[list[str]],
        typer.Option(
            "--player",
            "--player-profile",
            help="playerProfile change KEY=VALUE (repeatable; dotted keys for nested fields) or a JSON object.",
            show_default=False,
        ),
    ] = None,
    learner: Annotated[
        Optional[list[str]],
        typer.Option(
            "--learner",
            "--learner-profile",
            help="learnerProfile change KEY=VALUE (repeatable) or a JSON object; a tuning re-practises with it.",
            show_default=False,
        ),
    ] = None,
    gain_db: Annotated[Optional[float], typer.Option(help="Shortcut for --player gain_db=VALUE, dB.")] = None,
    steps: Annotated[Optional[int], typer.Option(help="Shortcut for --learner steps=VALUE.")] = None,
    performance: Annotated[
        Optional[str],
        typer.Option(
            help="feedback: the judged performance, a local audio file (uploaded) or a URI the studio reads.",
            show_default=False,
        ),
    ] = None,
    good: Annotated[
        Optional[list[str]],
        typer.Option("--good", help="feedback: a liked region START-END in seconds; repeatable.", show_default=False),
    ] = None,
    bad: Annotated[
        Optional[list[str]],
        typer.Option("--bad", help="feedback: a disliked region START-END in seconds; repeatable.", show_default=False),
    ] = None,
    method: Annotated[
        Optional[FeedbackMethod],
        typer.Option(
            "--method",
            help="feedback: knobs (move the playerProfile knobs, instant), finetune (train the decoder a little "
            "on the marked regions) or auto (the knobs unless the difference is one no knob can express). "
            "Default: auto.",
            show_default=False,
        ),
    ] = None,
    finetune_steps: Annotated[
        Optional[int],
        typer.Option(
            "--finetune-steps", help="feedback: the fine-tune's training steps (default 150).", show_default=False
        ),
    ] = None,
    watch: Annotated[bool, typer.Option(help="Follow the practice until it ends.")] = True,
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    inputs = practice_inputs(
        practice_type,
        audio=audio or (),
        base_version=base_version,
        player=player or (),
        learner=learner or (),
        gain_db=gain_db,
        steps=steps,
        performance=performance,
        good=good or (),
        bad=bad or (),
        method=method,
        finetune_steps=finetune_steps,
    )
    target = resolve_studio(studio, token, tls=tls, ca=ca)
    with target.session() as client, progress_bar() as bar:
        task = bar.add_task("uploading", total=None)
        ticket = client.practice(
            deu,
            inputs.practice_type.value,
            **inputs.client_arguments(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(f"practice [bold]{ticket.practice_id}[/bold] queued ({ticket.bytes_received} bytes uploaded)")
    if watch:
        follow(target, ticket.practice_id)


def follow(target: StudioTarget, practice_id: str) -> None:
    """Print each change of the practice until it ends; exit 1 unless it succeeded (2 if the studio
    fails: :meth:`~instrument_agent.cli.studios.StudioTarget.session`)."""
    from instrument_agent.proto import studio_pb2

    name = studio_pb2.PracticeProgress.Phase.Name
    last = p = None
    with target.session() as client:
        for p in client.watch(practice_id, timeout=None):
            line = f"{name(p.phase):<9} {p.stage:<9} step {p.step}/{p.total_steps} loss {p.loss:.4f} {p.message}"
            if p.preview.generation:  # hear it: amadeus agent --follow-practice ID
                line += f" [preview {p.preview.generation}: step {p.preview.step}]"
            if line != last:
                console.print(line, highlight=False, markup=False)
                last = line
    if p is None:
        fail(f"the studio sent no progress for practice {practice_id!r}")
    if p.phase == studio_pb2.PracticeProgress.SUCCEEDED:
        console.print(f"[green]{p.deu} v{p.version}[/green] {p.digest[:12]}")
    else:
        raise typer.Exit(1)


def watch_command(
    practice_id: Annotated[
        str, typer.Argument(help="The practice id (printed when it was queued).", show_default=False)
    ],
    studio: StudioOpt = None,
    token: TokenOpt = None,
    tls: TlsOpt = False,
    ca: CaOpt = None,
) -> None:
    """Follow a practice until it ends (exit 1 if it failed)."""
    follow(resolve_studio(studio, token, tls=tls, ca=ca), practice_id)


def register(app: typer.Typer) -> None:
    """Add ``studio practice|watch`` to the ``amadeus`` app's ``studio`` group."""
    group = studio_group(app)
    group.command("practice", help=_PRACTICE_HELP, rich_help_panel=PANEL)(practice_command)
    group.command("watch", rich_help_panel=PANEL)(watch_command)
