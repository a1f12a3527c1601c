"""The local personality store: every version of every deu, with lineage.

Layout under the Amadeus home (``$AMADEUS_HOME``, default: the user's data
directory, e.g. ``~/.local/share/amadeus``)::

    personalities/<deu>/index.json     version → manifest digest, parent, practice, created
    personalities/<deu>/v000001/       one immutable bundle per version
    personalities/<deu>/champion.json  the champion history (see :mod:`.champion`)
    personalities/<deu>/.lock          serialises version allocation and champion changes

A new version is published by writing its bundle to a staging directory,
renaming it into place, then appending it to ``index.json`` (written
atomically) — all under an exclusive file lock, so two practices finishing at
once for the same deu get distinct version numbers. A version is visible only
once it is in the index; loading checks the manifest digest recorded there,
then every file digest.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from instrument_agent.personality import (
    Bundle,
    BundleCorruptError,
    PersonalityError,
    UnknownDeuError,
    UnknownVersionError,
    read_bundle,
    write_bundle,
)
from instrument_agent.personality.atomic import atomic_write
from instrument_agent.personality.champion import (
    ChampionEvent,
    NoChampionError,
    champion_of,
    champion_stack,
    now_rfc3339,
)
from instrument_agent.personality.home import amadeus_home
from instrument_agent.proto import personality_pb2

__all__ = ["InvalidDeuNameError", "PersonalityStore", "VersionInfo", "validate_deu_name"]

_DEU_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")


class InvalidDeuNameError(PersonalityError, ValueError):
    """A deu name that can't be used as a directory, S3 prefix, MLflow model or Kubernetes label."""


def validate_deu_name(deu: str) -> str:
    """Return ``deu`` if it is a valid deu name, else raise :class:`InvalidDeuNameError`."""
    if not isinstance(deu, str) or not _DEU_NAME.match(deu):
        raise InvalidDeuNameError(
            f"invalid deu name {deu!r}: use 1-63 lowercase letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return deu


@dataclass(frozen=True)
class VersionInfo:
    """One line of a deu's history."""

    deu: str
    version: int
    digest: str
    parent_version: int
    practice: str
    created: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except ImportError:  # Windows
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined,unused-ignore]
        try:
            yield
        finally:
            try:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            except ImportError:
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined,unused-ignore]


class PersonalityStore:
    """Versioned personalities of every deu on the local filesystem.

    Args:
        home: the Amadeus home directory; default :func:`amadeus_home`.
    """

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home) if home is not None else amadeus_home()
        self.root = self.home / "personalities"

    def __repr__(self) -> str:
        return f"PersonalityStore({str(self.home)!r})"

    # -- reading -----------------------------------------------------------
    def _deu_dir(self, deu: str) -> Path:
        return self.root / validate_deu_name(deu)

    def _read_index(self, deu: str) -> list[dict]:
        index_path = self._deu_dir(deu) / "index.json"
        if not index_path.exists():
            return []
        try:
            return json.loads(index_path.read_text())["versions"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleCorruptError(f"{index_path}: store index is unreadable ({exc})", str(index_path)) from None

    def deus(self) -> list[str]:
        """Names of every deu with at least one version, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "index.json").is_file() and self._read_index(p.name))

    def versions(self, deu: str) -> list[VersionInfo]:
        """The history of ``deu``, oldest first (empty when it has none)."""
        return [
            VersionInfo(
                deu=deu,
                version=row["version"],
                digest=row["digest"],
                parent_version=row.get("parent_version", 0),
                practice=row.get("practice", ""),
                created=row.get("created", ""),
            )
            for row in self._read_index(deu)
        ]

    def latest_version(self, deu: str) -> int:
        """Newest version number of ``deu``; raises :class:`UnknownDeuError` when it has none."""
        rows = self.versions(deu)
        if not rows:
            raise UnknownDeuError(
                f"no personality of deu {deu!r} in {self.root} (known: {', '.join(self.deus()) or 'none'})"
            )
        return rows[-1].version

    def info(self, deu: str, version: int | None = None) -> VersionInfo:
        """The index entry of one version (the latest when ``version`` is None)."""
        rows = self.versions(deu)
        if not rows:
            self.latest_version(deu)  # raises UnknownDeuError
        if version is None:
            return rows[-1]
        for row in rows:
            if row.version == version:
                return row
        raise UnknownVersionError(
            f"deu {deu!r} has no version {version} (versions: {', '.join(str(r.version) for r in rows)})"
        )

    def default_version(self, deu: str) -> int:
        """The version played when none is named: the champion when one is set (and still in the
        store with the digest it was promoted with), else the latest. Raises UnknownDeuError."""
        latest = self.latest_version(deu)
        champion = self.champion(deu)
        if champion is not None:
            digests = {row.version: row.digest for row in self.versions(deu)}
            if digests.get(champion.version) == champion.digest:
                return champion.version
        return latest

    def resolve(self, deu: str, version: int | None = None) -> int:
        """``version`` when given, else :meth:`default_version` (the champion, else the latest)."""
        return self.info(deu, version).version if version is not None else self.default_version(deu)

    # -- the champion --------------------------------------------------------
    def champion_history(self, deu: str) -> list[ChampionEvent]:
        """Every promote and rollback of ``deu``, oldest first (empty when none)."""
        path = self._deu_dir(deu) / "champion.json"
        if not path.exists():
            return []
        try:
            return [ChampionEvent.from_dict(row) for row in json.loads(path.read_text())["events"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise BundleCorruptError(f"{path}: champion history is unreadable ({exc})", str(path)) from None

    def champion(self, deu: str) -> ChampionEvent | None:
        """The current champion of ``deu`` (None when no version was promoted)."""
        return champion_of(self.champion_history(deu))

    def promote(self, deu: str, version: int, *, by: str = "cli") -> ChampionEvent:
        """Make ``version`` the champion of ``deu`` (atomically; the history keeps the earlier ones).

        Promoting the current champion again changes nothing. Raises UnknownDeuError / UnknownVersionError.
        """
        with _exclusive(self._deu_dir(deu) / ".lock"):
            row = self.info(deu, version)
            history = self.champion_history(deu)
            current = champion_of(history)
            if current is not None and (current.version, current.digest) == (row.version, row.digest):
                return current
            event = ChampionEvent("promote", row.version, row.digest, now_rfc3339(), by)
            self._write_champion(deu, [*history, event])
        return event

    def rollback(self, deu: str, *, by: str = "cli") -> ChampionEvent:
        """Make the champion before the current one the champion again; returns the new champion.

        Raises :class:`NoChampionError` when there is no earlier champion (nothing changes).
        """
        with _exclusive(self._deu_dir(deu) / ".lock"):
            self.latest_version(deu)  # UnknownDeuError for a deu with no versions
            history = self.champion_history(deu)
            stack = champion_stack(history)
            if len(stack) < 2:
                now = f"v{stack[-1].version}" if stack else "none"
                raise NoChampionError(
                    f"deu {deu!r} has no earlier champion to roll back to (champion: {now}); "
                    f"promote a version instead: amadeus personalities promote {deu} N"
                )
            previous = stack[-2]
            event = ChampionEvent("rollback", previous.version, previous.digest, now_rfc3339(), by)
            self._write_champion(deu, [*history, event])
        return event

    def _write_champion(self, deu: str, events: list[ChampionEvent]) -> None:
        data = {"deu": deu, "events": [event.to_dict() for event in events]}
        atomic_write(self._deu_dir(deu) / "champion.json", json.dumps(data, indent=2))

    def bundle_path(self, deu: str, version: int) -> Path:
        return self._deu_dir(deu) / f"v{version:06d}"

    def get(self, deu: str, version: int | None = None, *, verify: bool = True) -> Bundle:
        """Load and verify one version (the latest when ``version`` is None).

        Raises UnknownDeuError, UnknownVersionError, BundleCorruptError (a file
        or the manifest was changed or truncated) or BundleSchemaError.
        """
        row = self.info(deu, version)
        return read_bundle(self.bundle_path(deu, row.version), expected_digest=row.digest, verify=verify)

    def lineage(self, deu: str, version: int | None = None) -> list[VersionInfo]:
        """``version`` and its ancestors, newest first."""
        by_version = {row.version: row for row in self.versions(deu)}
        chain = [self.info(deu, version)]
        while chain[-1].parent_version and chain[-1].parent_version in by_version:
            chain.append(by_version[chain[-1].parent_version])
        return chain

    # -- writing -----------------------------------------------------------
    def commit(
        self,
        deu: str,
        manifest: personality_pb2.PersonalityManifest,
        files: Mapping[str, Path | str | bytes],
        *,
        link: bool = False,
        version: int | None = None,
    ) -> Bundle:
        """Publish a new version of ``deu`` and return its verified bundle.

        The version number is the next free one (or ``version``, when syncing
        a version made elsewhere; it must not exist yet). ``manifest.deu``,
        ``manifest.version`` and ``manifest.created`` (if unset) are filled in.
        On any failure nothing becomes visible and the previous latest version
        stays the latest.
        """
        deu_dir = self._deu_dir(deu)
        with _exclusive(deu_dir / ".lock"):
            rows = self._read_index(deu)
            on_disk = [int(p.name[1:]) for p in deu_dir.glob("v[0-9]*") if p.name[1:].isdigit()]
            taken = {row["version"] for row in rows}
            if version is None:
                version = max([0, *taken, *on_disk]) + 1
            elif version in taken:
                raise PersonalityError(f"deu {deu!r} already has version {version}; versions are immutable")
            manifest = _copy(manifest)
            manifest.deu = deu
            manifest.version = version
            if not manifest.HasField("created"):
                manifest.created.GetCurrentTime()
            destination = self.bundle_path(deu, version)
            if destination.exists():  # an orphan from a crash between rename and index write
                shutil.rmtree(destination)
            bundle = write_bundle(destination, manifest, files, link=link)
            rows.append(
                {
                    "version": version,
                    "digest": bundle.digest,
                    "parent_version": manifest.parent_version,
                    "practice": personality_pb2.PracticeRecord.Kind.Name(manifest.practice.kind).lower(),
                    "created": manifest.created.ToJsonString(),
                }
            )
            rows.sort(key=lambda row: row["version"])
            atomic_write(deu_dir / "index.json", json.dumps({"deu": deu, "versions": rows}, indent=2))
        return bundle

    def derive(
        self,
        parent: Bundle,
        *,
        player_profile: personality_pb2.PlayerProfile | None = None,
        practice: personality_pb2.PracticeRecord | None = None,
    ) -> Bundle:
        """A new version that shares ``parent``'s model files (hard links) with
        a changed playerProfile — a tuning that needs no training."""
        manifest = _copy(parent.manifest)
        manifest.ClearField("created")
        manifest.parent_version = parent.version
        manifest.parent_digest = parent.digest
        if player_profile is not None:
            manifest.player_profile.CopyFrom(player_profile)
        if practice is not None:
            manifest.practice.CopyFrom(practice)
        files = {entry.path: parent.path / entry.path for entry in parent.manifest.files}
        return self.commit(parent.deu, manifest, files, link=True)


def _copy(manifest: personality_pb2.PersonalityManifest) -> personality_pb2.PersonalityManifest:
    copy = personality_pb2.PersonalityManifest()
    copy.CopyFrom(manifest)
    return copy
