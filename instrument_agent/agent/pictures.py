"""What the UI's pictures need from the local store: a personality's coverage map (Practice tab:
what to record next; Play tab: the map under the notes being played) and its preview files (the
evaluate stage's recording beside the personality's resynthesis of it).

Kept apart from :mod:`instrument_agent.agent.web` (which only routes to it) so the pictures grow
without crowding the API module.
"""

from __future__ import annotations

import threading
from pathlib import Path

from instrument_agent.images import PREVIEW_DIR, PREVIEW_FILES

__all__ = ["PREVIEW_TYPES", "PictureSource"]

PREVIEW_TYPES = {".png": "image/png", ".wav": "audio/wav"}


class PictureSource:
    """Coverage views and preview files of the personalities an agent synced.

    Args:
        agent: the :class:`~instrument_agent.agent.service.Agent` (its state names the store and the
            current version of each deu).
    """

    def __init__(self, agent):
        self.agent = agent
        self._bundles: dict[tuple[str, int], object] = {}  # verified once per (deu, version)
        self._lock = threading.Lock()

    def _resolve(self, deu: str, version: int) -> tuple[str, int]:
        state = self.agent.state.load()
        deu = deu or state.selected_deu or next(iter(sorted(state.current)), "")
        if not deu:
            raise LookupError("no personality synced yet: sync or practise first")
        if not version:
            if deu not in state.current:
                raise LookupError(
                    f"deu {deu!r} has not been synced (synced: {', '.join(sorted(state.current)) or 'none'})"
                )
            version = state.current[deu].version
        return deu, int(version)

    def bundle(self, deu: str = "", version: int = 0):
        """The verified bundle of ``deu`` (default: the selected one) at ``version`` (default: current)."""
        from instrument_agent.personality.store import PersonalityStore

        key = self._resolve(deu, version)
        with self._lock:
            if key not in self._bundles:
                self._bundles[key] = PersonalityStore(self.agent.state.data_path).get(*key)
            return self._bundles[key]

    def coverage(self, deu: str = "", version: int = 0) -> dict:
        """``{deu, version, coverage (cells, or None), summary (lines, suggestion, range…), preview (files)}``."""
        from instrument_agent.coverage_map import bundle_coverage, bundle_summary

        bundle = self.bundle(deu, version)
        practised, summary = bundle_coverage(bundle), bundle_summary(bundle)
        return {
            "deu": bundle.deu,
            "version": bundle.version,
            "coverage": None if practised is None else practised.to_dict(),
            "summary": summary.to_dict(),
            "preview": [name for name in PREVIEW_FILES if bundle.has_file(f"{PREVIEW_DIR}/{name}")],
        }

    def preview_file(self, deu: str, version: int, name: str) -> tuple[bytes, str]:
        """(bytes, content type) of one preview file; LookupError when the version has none."""
        if name not in PREVIEW_FILES:
            raise LookupError(f"no preview file {name!r} (known: {', '.join(PREVIEW_FILES)})")
        bundle = self.bundle(deu, version)
        rel = f"{PREVIEW_DIR}/{name}"
        if not bundle.has_file(rel):
            raise LookupError(f"{bundle.deu} v{bundle.version} has no preview (practised before previews were kept)")
        return Path(bundle.file(rel)).read_bytes(), PREVIEW_TYPES[Path(name).suffix]
