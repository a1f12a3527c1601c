"""A/B in the agent's Play tab: render the same notes with two versions of a deu, keep both WAVs
and their side-by-side spectrogram for the browser to switch between and draw.

The notes are the ones the ama just played on the on-screen keyboard (a list of
``{"note", "velocity", "start_s", "end_s"}``) or, when none are given, the bundled demo phrase.
Each comparison lives in ``<data path>/compare/<id>/`` (the newest few are kept).
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from instrument_agent.compare import compare_versions, parse_version
from instrument_agent.personality.store import PersonalityStore

__all__ = ["COMPARE_FILE", "AbComparer", "notes_to_midi"]

COMPARE_FILE = re.compile(r"^[0-9a-f]{12}/[a-z0-9._-]+\.(wav|png)$")
_KEEP = 8
_MAX_NOTES = 512


def notes_to_midi(notes: list, path: Path) -> Path:
    """Write ``notes`` (``note`` 0..127, ``velocity`` 1..127, ``start_s`` < ``end_s``, seconds) as a MIDI file.

    Raises ValueError naming the first bad note."""
    import mido

    if not isinstance(notes, list) or not notes or len(notes) > _MAX_NOTES:
        raise ValueError(f"notes: give 1..{_MAX_NOTES} notes, each {{note, velocity, start_s, end_s}}")
    events = []
    for i, item in enumerate(notes):
        try:
            note, velocity = int(item["note"]), int(item.get("velocity", 100))
            start, end = float(item["start_s"]), float(item["end_s"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"notes[{i}]: expected {{note, velocity, start_s, end_s}}, got {item!r}") from None
        if not (0 <= note <= 127 and 1 <= velocity <= 127 and 0 <= start < end <= 600):
            raise ValueError(f"notes[{i}]: note {note}, velocity {velocity}, {start}..{end} s is out of range")
        events += [(start, 1, note, velocity), (end, 0, note, 0)]
    track, ticks_per_s, now = mido.MidiTrack(), 960, 0  # 480 ticks a beat at 120 bpm
    for when, on, note, velocity in sorted(events):
        tick = int(round(when * ticks_per_s))
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, note=note, velocity=velocity, time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=480, tracks=[track])
    midi.save(str(path))
    return path


class AbComparer:
    """Runs comparisons for the web UI in the agent's store (``data_path``)."""

    def __init__(self, data_path: Path, sample_rate: int):
        self.store = PersonalityStore(data_path)
        self.root = Path(data_path) / "compare"
        self.sample_rate = sample_rate

    def versions(self, deu: str) -> dict:
        """The versions the ama can compare, with the champion and the default."""
        rows = self.store.versions(deu)
        if not rows:
            self.store.latest_version(deu)  # UnknownDeuError
        champion = self.store.champion(deu)
        return {
            "deu": deu,
            "versions": [row.to_dict() for row in rows],
            "champion": champion.version if champion else None,
            "default": self.store.default_version(deu),
        }

    def compare(self, deu: str, a: str, b: str, notes: list | None = None) -> dict:
        """Render both; returns the files' URLs (``/compare/<id>/<file>``) and the measurements."""
        va, vb = parse_version(self.store, deu, str(a)), parse_version(self.store, deu, str(b))
        ident = uuid.uuid4().hex[:12]
        folder = self.root / ident
        folder.mkdir(parents=True)
        try:
            midi = notes_to_midi(notes, folder / "notes.mid") if notes else None
            result = compare_versions(
                self.store, deu, va, vb, folder, midi=midi, sample_rate=self.sample_rate, show_progress=False
            )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._prune()
        return {
            "id": ident,
            "deu": deu,
            "phrase": "your notes" if notes else "the demo phrase",
            "a": {"version": va, "digest": result.a.digest, "url": f"/compare/{ident}/{result.wav_a.name}"},
            "b": {"version": vb, "digest": result.b.digest, "url": f"/compare/{ident}/{result.wav_b.name}"},
            "spectrogram": f"/compare/{ident}/{result.png.name}",
            "sample_rate": result.sample_rate,
            **result.comparison.to_dict(),
        }

    def file(self, name: str) -> Path | None:
        """The path of ``<id>/<file>`` if it is a comparison's WAV or PNG, else None."""
        if not COMPARE_FILE.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def _prune(self) -> None:
        folders = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in folders[:-_KEEP]:
            shutil.rmtree(old, ignore_errors=True)
