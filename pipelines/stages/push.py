"""Stage 5, ``push`` (TFX's Pusher): a blessed personality becomes a new version in the store.

The manifest records the profiles, the training data's feature statistics
and sha256 digests, the evaluation metrics, the practice (kind, id, times,
runner, parameters) and the lineage (parent version and digest when the
practice continued an earlier version). The store publishes atomically: a
failure here leaves the previous latest version untouched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from google.protobuf import timestamp_pb2

from instrument_agent.personality import PersonalityError
from instrument_agent.proto import personality_pb2

from ._artifacts import learner_profile as _resolve
from ._artifacts import read_json

__all__ = ["PRACTICE_KINDS", "EvaluationGateError", "MissingPreviewError", "UnknownPracticeKindError", "push"]

PRACTICE_KINDS = ("imitation", "tuning", "feedback")


class EvaluationGateError(PersonalityError):
    """The personality failed the learnerProfile's evaluation gates; nothing was pushed."""


class UnknownPracticeKindError(ValueError):
    """A practice kind other than imitation, tuning or feedback."""


class MissingPreviewError(FileNotFoundError):
    """The preview push was given is not a folder holding the evaluate stage's preview files."""


def _preview(deu: str, preview_dir: str | Path | None) -> Path | None:
    """The evaluate stage's preview folder, checked before anything is published (None: no preview)."""
    if preview_dir is None:
        return None
    from instrument_agent.images import PREVIEW_FILES

    preview = Path(preview_dir)
    missing = [name for name in PREVIEW_FILES if not (preview / name).is_file()]
    if missing:
        raise MissingPreviewError(
            f"deu {deu!r}: not pushed, the evaluate stage's preview {str(preview)!r} lacks {', '.join(missing)}"
        )
    return preview


def _practice_kind(kind: str) -> int:
    if kind not in PRACTICE_KINDS:
        raise UnknownPracticeKindError(
            f"push: unknown practice kind {kind!r} (expected one of {', '.join(PRACTICE_KINDS)})"
        )
    return personality_pb2.PracticeRecord.Kind.Value(kind.upper())


def _timestamp(iso: str | None) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    if iso:
        stamp.FromJsonString(iso)
    else:
        stamp.GetCurrentTime()
    return stamp


def _coverage(manifest, stats: dict, parent, kind: str) -> None:
    """The new version's coverage map: an imitation adds its training audio's map to the parent's
    (it continued practising that version); a tuning or feedback keeps the parent's (it practised
    no new notes); without stats (older features output) and no parent, none."""
    from instrument_agent.coverage_map import CoverageMap, bundle_coverage

    inherited = bundle_coverage(parent) if parent is not None else None
    new = CoverageMap.from_dict(stats["coverage"]) if "coverage" in stats else None
    if kind != "imitation" and inherited is not None:
        coverage = inherited
    else:
        coverage = new.merged(inherited) if new is not None else inherited
    if coverage is not None:
        coverage.to_proto(manifest.coverage)


def _record_prior(manifest: personality_pb2.PersonalityManifest, export_dir: Path) -> None:
    """The family prior the train stage started from, in the manifest's lineage (and its auto table)."""
    from .train import PRIOR_RECORD

    path = export_dir / PRIOR_RECORD
    if not path.is_file():
        return
    choice = read_json(path)
    manifest.prior_name = choice.get("prior", "")
    manifest.prior_digest = choice.get("prior_digest", "")
    if choice.get("losses"):
        manifest.practice.params["prior_losses"] = json.dumps(choice["losses"], sort_keys=True)


def push(
    deu: str,
    export_dir: str | Path,
    features_dir: str | Path,
    metrics_path: str | Path,
    learner_profile,
    *,
    ingest_dir: str | Path | None = None,
    preview_dir: str | Path | None = None,
    player_profile: personality_pb2.PlayerProfile | Mapping[str, Any] | None = None,
    parent_version: int = 0,
    practice_id: str = "",
    started: str | None = None,
    params: dict[str, str] | None = None,
    runner: str = "embedded",
    kind: str = "imitation",
    home: str | Path | None = None,
) -> dict:
    """Publish the exported personality as the next version of ``deu``.

    Args:
        deu: the deu's name.
        export_dir: bundle files from the train stage (``saved_model/``,
            ``decoder.tflite``, ``decoder.npz``, ``reverb_ir.npy``).
        features_dir: the features stage's output (``stats.json``).
        metrics_path: the evaluate stage's ``metrics.json``.
        learner_profile: message or dict.
        ingest_dir: the ingest stage's output (data digests); default ``<features_dir>/../ingest``.
        preview_dir: the evaluate stage's preview (its ``bundle_preview`` output: the held-out
            recording and its resynthesis, WAVs and spectrogram PNGs), bundled as ``preview/``
            for the agent; None: the version has no preview. Only this folder is read: nothing
            is looked for beside ``metrics_path`` (on a cluster each artifact moves on its own).
        player_profile: the new version's playerProfile (a message), or playerProfile fields to
            change over the parent's (a mapping, :func:`~pipelines.stages.derive.player_profile_over`);
            default: the parent's, else the defaults.
        parent_version: the version this practice continued (0 = a new deu).
        practice_id, started (RFC 3339), params, runner: the practice record. ``params``
            gets ``audio_uris`` (JSON list: the audio as given to ingest, local paths made
            absolute) unless it sets it, so a later tuning can find the recordings again.
        kind: the practice kind recorded: imitation | tuning | feedback.
        home: the Amadeus home of the store (default ``$AMADEUS_HOME``).

    Returns:
        ``{"deu", "version", "digest", "path", "parent_version"}``.

    Raises:
        EvaluationGateError: evaluate did not bless the personality.
        UnknownPracticeKindError: ``kind`` is not imitation, tuning or feedback.
        MissingPreviewError: ``preview_dir`` was given but is not a folder of preview files.
    """
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import resolve_player_profile

    from .derive import player_profile_over

    practice_kind = _practice_kind(kind)
    preview = _preview(deu, preview_dir)
    profile = _resolve(learner_profile)
    evaluation = read_json(metrics_path)
    if not evaluation.get("blessed", False):
        raise EvaluationGateError(
            f"deu {deu!r}: not pushed, the evaluation gates failed: " + "; ".join(evaluation["reasons"])
        )
    features_dir = Path(features_dir)
    stats = read_json(features_dir / "stats.json")
    ingest_dir = Path(ingest_dir) if ingest_dir else features_dir.parent / "ingest"
    recordings = json.loads((ingest_dir / "recordings.json").read_text())["recordings"]

    store = PersonalityStore(home)
    manifest = personality_pb2.PersonalityManifest(sample_rate=profile.sample_rate, frame_rate=profile.frame_rate)
    manifest.learner_profile.CopyFrom(profile)
    parent_player = parent = None
    if parent_version:
        parent = store.get(deu, parent_version)
        manifest.parent_version = parent.version
        manifest.parent_digest = parent.digest
        parent_player = parent.manifest.player_profile
    if isinstance(player_profile, Mapping):
        player_profile = player_profile_over(parent_player, player_profile)
    if player_profile is None:
        player_profile = parent_player
    manifest.player_profile.CopyFrom(resolve_player_profile(player_profile))
    for key, value in stats["feature_stats"].items():
        setattr(manifest.feature_stats, key, value)
    # The level calibration measured on held-out audio (absent in metrics from before it: 0, no gain).
    manifest.feature_stats.level_gain_db = float(evaluation.get("calibration", {}).get("level_gain_db", 0.0))
    _coverage(manifest, stats, parent, kind)
    for key, value in evaluation["metrics"].items():
        manifest.metrics[key] = float(value)
    practice = manifest.practice
    practice.kind = practice_kind
    practice.practice_id = practice_id
    practice.started.CopyFrom(_timestamp(started))
    practice.finished.GetCurrentTime()
    practice.data_digests.extend(row["sha256"] for row in recordings)
    practice.params["audio_uris"] = json.dumps([row.get("uri", row["source"]) for row in recordings])
    practice.params.update({k: str(v) for k, v in (params or {}).items()})
    practice.runner = runner

    export_dir = Path(export_dir)
    _record_prior(manifest, export_dir)
    files = {entry.name: entry for entry in sorted(export_dir.iterdir()) if not entry.name.startswith(".")}
    if preview is not None:
        from instrument_agent.images import PREVIEW_DIR

        files[PREVIEW_DIR] = preview  # evaluate's recording / resynthesis pictures and sounds
    bundle = store.commit(deu, manifest, files)
    return {
        "deu": deu,
        "version": bundle.version,
        "digest": bundle.digest,
        "path": str(bundle.path),
        "parent_version": manifest.parent_version,
    }
