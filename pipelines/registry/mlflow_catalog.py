"""Personality versions in the MLflow model registry.

One registered model per deu (``<model_prefix><deu>``, default ``amadeus-<deu>``);
each personality version is

* an MLflow run in the experiment ``amadeus/<deu>`` with the learnerProfile and
  playerProfile as params (``learner.<field>``, ``player.<field>``, nested
  fields joined by dots), the manifest's metrics, and the bundle's files as
  artifacts under ``personality/``;
* a model version whose source is that artifact folder, tagged with the
  lineage: ``amadeus.deu``, ``amadeus.version`` (the store's number),
  ``amadeus.digest``, ``amadeus.parent_version``, ``amadeus.parent_digest``,
  ``amadeus.practice``, ``amadeus.practice_id``, ``amadeus.store_uri``.

Aliases (not the deprecated stages): ``latest`` is MLflow's reserved alias
for the newest model version (``models:/amadeus-<deu>@latest``), which MLflow
resolves itself and refuses to let clients set; ``champion`` moves to a version whose ``eval/spectral_loss`` is
strictly lower than the current champion's (the first version starts as
champion; a version without that metric never takes it) — until an ama chooses one:
:meth:`MlflowCatalog.set_champion` (``amadeus registry promote`` / ``rollback``) moves the alias,
tags the registered model ``amadeus.champion.pinned=true`` (from then on the loss no longer
moves it), ``amadeus.champion.version`` and ``amadeus.champion.history`` (the recent events,
JSON), and tags the model version ``amadeus.champion.promoted`` with the event's time.

Registration is idempotent: a version whose ``amadeus.version`` tag is
already registered is returned, not registered twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from instrument_agent.personality import Bundle, ChampionEvent
from instrument_agent.profiles import profile_to_dict
from instrument_agent.proto import personality_pb2

from ._retry import Backoff, with_backoff

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion

T = TypeVar("T")

__all__ = ["MlflowCatalog"]

CHAMPION_METRIC = "eval/spectral_loss"


def _flatten(prefix: str, data: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            out.update(_flatten(name, value))
        else:
            out[name] = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


class MlflowCatalog:
    """The MLflow side of the registry.

    Args:
        tracking_uri: the MLflow tracking server (also its model registry), e.g. ``http://mlflow:5000``.
        model_prefix: registered model name = prefix + deu.
        backoff: retry policy for an unreachable server.
    """

    def __init__(self, tracking_uri: str, *, model_prefix: str = "amadeus-", backoff: Backoff | None = None):
        from mlflow import MlflowClient

        self.tracking_uri = tracking_uri
        self.model_prefix = model_prefix
        self.backoff = backoff or Backoff()
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def __repr__(self) -> str:
        return f"MlflowCatalog({self.tracking_uri!r})"

    def model_name(self, deu: str) -> str:
        return f"{self.model_prefix}{deu}"

    def _retry(self, what: str, call: Callable[[], T]) -> T:
        import requests
        from mlflow.exceptions import MlflowException

        def guarded() -> T:
            try:
                return call()
            except MlflowException as exc:
                if getattr(exc, "get_http_status_code", lambda: 400)() >= 500:
                    raise ConnectionError(str(exc)) from exc
                raise

        return with_backoff(
            guarded,
            policy=self.backoff,
            transient=(requests.exceptions.ConnectionError, ConnectionError, OSError),
            endpoint=self.tracking_uri,
            what=f"MLflow {what}",
        )

    def _ensure_model(self, name: str, deu: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            try:
                self.client.create_registered_model(
                    name, tags={"amadeus.deu": deu}, description=f"Personalities of the deu {deu}"
                )
            except MlflowException as again:
                if again.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise

    def find(self, deu: str, version: int) -> ModelVersion | None:
        """The model version registered for store version ``version``, or None."""
        name = self.model_name(deu)
        found = self.client.search_model_versions(f"name = '{name}' and tags.`amadeus.version` = '{version}'")
        return found[0] if found else None

    def versions(self, deu: str) -> list[ModelVersion]:
        """Every model version of ``deu``, by store version number."""
        found = self.client.search_model_versions(f"name = '{self.model_name(deu)}'")
        return sorted(found, key=lambda mv: int(mv.tags.get("amadeus.version", 0)))

    def alias(self, deu: str, alias: str) -> ModelVersion:
        """The model version behind an alias (``latest``, ``champion``)."""
        return self.client.get_model_version_by_alias(self.model_name(deu), alias)

    def register(self, bundle: Bundle, *, store_uri: str = "") -> str:
        """Record ``bundle`` (a published version) as a run and a model version; move the aliases.

        Returns:
            The MLflow model version number (str).

        Raises:
            RegistryUnavailableError when the tracking server stays unreachable.
        """
        return self._retry(f"registering {bundle.deu} v{bundle.version}", lambda: self._register(bundle, store_uri))

    def _register(self, bundle: Bundle, store_uri: str) -> str:
        from mlflow.entities import Metric, Param

        manifest = bundle.manifest
        deu, name = manifest.deu, self.model_name(manifest.deu)
        self._ensure_model(name, deu)
        existing = self.find(deu, manifest.version)
        if existing is not None:
            return existing.version
        tags = {
            "amadeus.deu": deu,
            "amadeus.version": str(manifest.version),
            "amadeus.digest": bundle.digest,
            "amadeus.parent_version": str(manifest.parent_version),
            "amadeus.parent_digest": manifest.parent_digest,
            "amadeus.practice": personality_pb2.PracticeRecord.Kind.Name(manifest.practice.kind).lower(),
            "amadeus.practice_id": manifest.practice.practice_id,
            "amadeus.runner": manifest.practice.runner,
            "amadeus.store_uri": store_uri,
        }
        experiment_name = f"amadeus/{deu}"
        experiment = self.client.get_experiment_by_name(experiment_name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(experiment_name)
        run = self.client.create_run(experiment_id, run_name=f"{deu}-v{manifest.version:06d}", tags=tags)
        run_id = run.info.run_id
        params = {
            **_flatten("learner", profile_to_dict(manifest.learner_profile)),
            **_flatten("player", profile_to_dict(manifest.player_profile)),
            **{f"practice.{k}": v[:500] for k, v in manifest.practice.params.items()},
        }
        now = int(time.time() * 1000)
        items = sorted(params.items())
        for start in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(run_id, params=[Param(k, v) for k, v in items[start : start + 100]])
        metrics = [Metric(k, float(v), now, 0) for k, v in sorted(manifest.metrics.items())]
        if metrics:
            self.client.log_batch(run_id, metrics=metrics)
        self.client.log_artifacts(run_id, str(Path(bundle.path)), "personality")
        self.client.set_terminated(run_id)
        model_version = self.client.create_model_version(
            name,
            source=f"{run.info.artifact_uri}/personality",
            run_id=run_id,
            tags=tags,
            description=f"{deu} v{manifest.version} ({tags['amadeus.practice']})",
        )
        self._maybe_champion(name, model_version.version, manifest)
        return model_version.version

    def set_champion(self, deu: str, event: ChampionEvent) -> str:
        """Point the ``champion`` alias at store version ``event.version`` and record the choice.

        Returns the MLflow model version. Raises UnknownVersionError when that store version
        is not registered (run :meth:`Registry.sync_catalog` first).
        """
        return self._retry(f"setting the champion of {deu}", lambda: self._set_champion(deu, event))

    def _set_champion(self, deu: str, event: ChampionEvent) -> str:
        import json

        from instrument_agent.personality import UnknownVersionError

        name = self.model_name(deu)
        found = self.find(deu, event.version)
        if found is None or found.tags.get("amadeus.digest") != event.digest:
            raise UnknownVersionError(f"{name}: store version {event.version} ({event.digest[:12]}…) is not registered")
        self.client.set_registered_model_alias(name, "champion", found.version)
        self.client.set_model_version_tag(name, found.version, "amadeus.champion.promoted", event.at)
        history = json.loads(self.client.get_registered_model(name).tags.get("amadeus.champion.history", "[]"))
        history.append(event.to_dict())
        while len(json.dumps(history)) > 4800:  # MLflow tag values hold 5000 characters: keep the newest
            history.pop(0)
        for key, value in (
            ("amadeus.champion.pinned", "true"),
            ("amadeus.champion.version", str(event.version)),
            ("amadeus.champion.history", json.dumps(history)),
        ):
            self.client.set_registered_model_tag(name, key, value)
        return found.version

    def _maybe_champion(self, name: str, version: str, manifest: personality_pb2.PersonalityManifest) -> None:
        from mlflow.exceptions import MlflowException

        if self.client.get_registered_model(name).tags.get("amadeus.champion.pinned") == "true":
            return  # an ama chose the champion: a better loss does not overrule them
        loss = manifest.metrics.get(CHAMPION_METRIC)
        if loss is None:
            return
        try:
            current = self.client.get_model_version_by_alias(name, "champion")
        except MlflowException:
            current = None
        if current is not None:
            run_metrics = self.client.get_run(current.run_id).data.metrics if current.run_id else {}
            if CHAMPION_METRIC in run_metrics and not loss < run_metrics[CHAMPION_METRIC]:
                return
        self.client.set_registered_model_alias(name, "champion", version)
