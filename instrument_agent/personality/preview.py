"""Previews: the personality-in-training of a running practice, to hear it learn.

A preview is a bundle (:mod:`.bundle`: manifest + ``decoder.npz`` + ``reverb_ir.npy``,
every digest checked on read) with version 0, written by the practice every
``learnerProfile.preview_every`` steps into its work directory::

    <work>/preview/
        current.json     {"generation", "step", "loss", "digest", "path", ...}  (atomic replace)
        g000007/         the newest preview bundle
        g000006/         the one before (kept so a reader that just read current.json still finds it)

It is **not** a personality version: it lives outside the store, is never listed,
numbered, synced or published; the practice's final version replaces it. A reader
(the agent, a studio) polls :func:`latest_preview` and loads :func:`read_preview`.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from instrument_agent.proto import personality_pb2

from .atomic import atomic_write
from .bundle import Bundle, FileSource, read_bundle, write_bundle
from .errors import BundleCorruptError

__all__ = [
    "PREVIEW_DIR",
    "PreviewInfo",
    "is_preview",
    "latest_preview",
    "read_preview",
    "write_preview",
]

PREVIEW_DIR = "preview"
"""The previews' folder inside a practice's work directory."""

_CURRENT = "current.json"
_KEEP = 2


@dataclass(frozen=True)
class PreviewInfo:
    """One preview of a practice.

    Attributes:
        generation: 1, 2, ... (a newer preview has a higher one, across resumed runs too).
        step: the optimiser step it was taken at.
        loss: the training loss at that step.
        digest: its manifest digest (sha256 of ``manifest.pb``).
        path: its bundle directory.
        deu: the deu being practised.
        written: Unix time it was written.
    """

    generation: int
    step: int
    loss: float
    digest: str
    path: Path
    deu: str = ""
    written: float = 0.0

    @property
    def label(self) -> str:
        """``"preview step N"`` (what the Play tab shows)."""
        return f"preview step {self.step}"


def _generation_dir(preview_dir: Path, generation: int) -> Path:
    return preview_dir / f"g{generation:06d}"


def latest_preview(preview_dir: str | Path) -> PreviewInfo | None:
    """The newest preview in ``preview_dir`` (``<work>/preview``), or None when there is none yet."""
    preview_dir = Path(preview_dir)
    try:
        data = json.loads((preview_dir / _CURRENT).read_text())
        return PreviewInfo(
            generation=int(data["generation"]),
            step=int(data["step"]),
            loss=float(data["loss"]),
            digest=str(data["digest"]),
            path=_generation_dir(preview_dir, int(data["generation"])),
            deu=str(data.get("deu", "")),
            written=float(data.get("written", 0.0)),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleCorruptError(f"{preview_dir / _CURRENT}: unreadable preview pointer ({exc!r})") from None


def read_preview(info: PreviewInfo) -> Bundle:
    """The preview's bundle, every digest verified against ``info.digest``.

    Raises :class:`~.errors.BundleNotFoundError` when a newer preview already replaced it
    (read :func:`latest_preview` again) and :class:`BundleCorruptError` on a mismatch.
    """
    return read_bundle(info.path, expected_digest=info.digest)


def is_preview(bundle: Bundle) -> bool:
    """True for a preview bundle (version 0, marked by its practice record), never for a version."""
    return bundle.version == 0 and "preview_generation" in bundle.manifest.practice.params


def write_preview(
    preview_dir: str | Path,
    manifest: personality_pb2.PersonalityManifest,
    files: Mapping[str, FileSource],
    *,
    step: int,
    loss: float,
) -> PreviewInfo:
    """Write the next preview generation and point ``current.json`` at it (both atomic).

    Args:
        preview_dir: ``<work>/preview`` (created).
        manifest: the personality-in-training's manifest (profiles, feature stats, deu);
            its version is set to 0 and its practice record marks the preview.
        files: ``decoder.npz`` (and ``reverb_ir.npy``): paths or bytes.
        step, loss: where training is.

    Returns the new :class:`PreviewInfo`. Older generations but the one before are removed.
    Raises :class:`~.errors.BundleWriteError` (disk full...): the previous preview stays current.
    """
    preview_dir = Path(preview_dir)
    current = latest_preview(preview_dir)
    generation = (current.generation if current else 0) + 1
    target = _generation_dir(preview_dir, generation)
    if target.exists():  # left by a run interrupted between the bundle and the pointer
        shutil.rmtree(target)
    staged = personality_pb2.PersonalityManifest()
    staged.CopyFrom(manifest)
    staged.version = 0
    staged.practice.params["preview_generation"] = str(generation)
    staged.practice.params["preview_step"] = str(int(step))
    staged.metrics["train_loss"] = float(loss)
    bundle = write_bundle(target, staged, files)
    written = time.time()
    pointer = {
        "generation": generation,
        "step": int(step),
        "loss": float(loss),
        "digest": bundle.digest,
        "path": target.name,
        "deu": staged.deu,
        "written": written,
    }
    atomic_write(preview_dir / _CURRENT, json.dumps(pointer))
    for old in preview_dir.glob("g[0-9]*"):
        if old.is_dir() and old.name[1:].isdigit() and int(old.name[1:]) <= generation - _KEEP:
            shutil.rmtree(old, ignore_errors=True)
    return PreviewInfo(generation, int(step), float(loss), bundle.digest, target, staged.deu, written)
