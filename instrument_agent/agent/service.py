"""The ``amadeus agent`` service: offline-first background sync, practices, and the player.

On start the agent plays the personality it last synced (from the local store,
no network needed), then syncs from the selected studio in the background
every ``sync_interval_s``. When the studio doesn't answer it keeps playing and
says so, retrying with exponential backoff (2 s, 4 s, … up to the interval).
A sync that brings a newer version of the deu being played hot-swaps the
player to it without an audio dropout. A practice that ends triggers a sync
at once.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from instrument_agent.agent.follow import PreviewFollower
from instrument_agent.agent.player import PlayerHost
from instrument_agent.agent.practices import PracticeBoard
from instrument_agent.agent.state import AgentState
from instrument_agent.client.sync import Syncer, open_studio, translate_rpc_error
from instrument_agent.personality import PersonalityError
from instrument_agent.personality.store import PersonalityStore

__all__ = ["Agent"]

_FIRST_RETRY_S = 2.0


class Agent:
    """The instrument agent.

    Args:
        home: Amadeus home (``state.pb`` lives there); default ``$AMADEUS_HOME``.
        open_client: ``StudioRegistration -> client`` (default: the gRPC studio client).
        audio: use the sound card (False: the silent real-time clock).
        midi: open the virtual MIDI port ``Amadeus <deu>`` on start.
        backend: decoder runtime for the player.
        audio_backend: the player's audio output: auto (JACK when a JACK/PipeWire-JACK server runs,
            else the sound card), jack or portaudio.
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        open_client: Callable = open_studio,
        audio: bool = True,
        midi: bool = True,
        backend: str = "auto",
        sample_rate: int | None = None,
        audio_backend: str = "auto",
    ):
        self.state = AgentState(home)
        settings = self.state.load().settings
        self.open_client = open_client
        self.syncer = Syncer(self.state, open_client=open_client)
        self.player = PlayerHost(
            sample_rate=sample_rate or settings.sample_rate, block_size=settings.block_size, backend=backend
        )
        self.practices = PracticeBoard(
            lambda: self.open_client(self.state.studio()), self._practice_finished, on_progress=self._practice_progress
        )
        self.follow_previews = True  # start_practice follows the practice's previews in the player
        self.followers: dict[str, PreviewFollower] = {}
        self.audio = audio
        self.audio_backend = audio_backend
        self.midi = midi
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sync_lock = threading.Lock()
        self.online: bool | None = None  # None: not tried yet
        self.last_error = ""
        self.last_error_kind = ""
        self.last_sync = 0.0
        self.next_sync = 0.0
        self.failures = 0
        self.sync_progress: dict | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self, *, background_sync: bool = True) -> None:
        """Play the last synced personality, start audio (and MIDI), start background sync."""
        self.load_current()
        deu = self.state.load().selected_deu or "agent"
        self.player.start_audio(device=self.audio, backend=self.audio_backend, name=f"Amadeus {deu}")
        if self.midi:
            try:
                self.player.open_midi(virtual_name=f"Amadeus {deu}")
            except Exception:  # noqa: BLE001 - status already says why; the keyboard still plays
                pass
        if background_sync:
            self._thread = threading.Thread(target=self._loop, name="amadeus-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.practices.stop()
        for follower in list(self.followers.values()):
            follower.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.player.stop()

    def load_current(self) -> bool:
        """Load the selected deu's current personality into the player (hot swap when one plays).

        Returns False (and records why) when there is nothing to play yet or it fails to load."""
        state = self.state.load()
        deu = state.selected_deu or next(iter(sorted(state.current)), "")
        if not deu or deu not in state.current:
            return False
        current = state.current[deu]
        playing = self.player.playing
        if playing is not None and playing.digest == current.digest:
            return True
        if playing is not None and playing.preview_step and self._previewing(deu, current.digest):
            return True  # a practice's preview plays until the practice publishes (or fails)
        try:
            bundle = PersonalityStore(self.state.data_path).get(deu, current.version)
            self.player.load(bundle)
        except (PersonalityError, ValueError, RuntimeError) as exc:
            self._error(exc, "the current personality keeps playing" if playing else "nothing to play")
            return False
        return True

    def select_deu(self, deu: str) -> None:
        state = self.state.load()
        if deu not in state.current:
            raise PersonalityError(
                f"deu {deu!r} has not been synced (synced: {', '.join(sorted(state.current)) or 'none'})"
            )
        self.state.select_deu(deu)
        self.load_current()

    # -- sync ------------------------------------------------------------------
    def sync_now(self):
        """Sync from the selected studio now; returns the :class:`~instrument_agent.client.sync.SyncReport`.

        Errors are recorded in the status (offline-first) and re-raised."""
        with self._sync_lock:
            try:
                report = self.syncer.sync(progress=self._progress)
            except Exception as exc:
                self.online = not _is_offline(exc)
                self.failures += 1
                self._error(exc)
                raise
            finally:
                self.sync_progress = None
            self.online, self.failures, self.last_error, self.last_error_kind = True, 0, "", ""
            self.last_sync = time.time()
            self.load_current()
            return report

    def request_sync(self) -> None:
        """Ask the background loop to sync at once."""
        self._wake.set()

    def _progress(self, deu: str, done: int, total: int) -> None:
        self.sync_progress = {"deu": deu, "bytes": done, "total": total}

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.state.studio()
            except Exception:  # noqa: BLE001 - no studio registered: wait to be told
                delay = 3600.0
            else:
                try:
                    self.sync_now()
                    delay = float(self.state.load().settings.sync_interval_s)
                except Exception:  # noqa: BLE001 - recorded in the status
                    interval = float(self.state.load().settings.sync_interval_s)
                    delay = min(interval, _FIRST_RETRY_S * 2 ** (self.failures - 1))
            self.next_sync = time.time() + delay
            self._wake.wait(delay)
            self._wake.clear()

    def _practice_finished(self, row) -> None:
        follower = self.followers.pop(row.practice_id, None)
        if follower is not None:
            follower.stop()
            if row.phase != "SUCCEEDED":
                self.load_current()  # no new version: the last one plays again
        self.request_sync()  # a new version replaces the preview as soon as it is synced

    # -- hear it learn -----------------------------------------------------------
    def follow_practice(self, practice_id: str, deu: str, *, work_dir: str | Path | None = None) -> PreviewFollower:
        """Play the previews of practice ``practice_id`` (of ``deu``) as they appear.

        ``work_dir``: an embedded practice's work directory on this machine (its ``preview``
        folder is read directly); else the previews come through the selected studio."""
        from instrument_agent.client.previews import LocalPreviews, StudioPreviews

        old = self.followers.pop(practice_id, None)
        if old is not None:
            old.stop()
        source = (
            LocalPreviews(work_dir)
            if work_dir is not None
            else StudioPreviews(
                lambda: self.open_client(self.state.studio()),
                practice_id,
                self.state.data_path / "downloads" / "previews",
            )
        )
        current = self.state.load().current
        base = current[deu].digest if deu in current else ("" if deu else None)
        follower = PreviewFollower(self.player, source, practice_id=practice_id, deu=deu, base_digest=base)
        self.followers[practice_id] = follower
        return follower.start()

    def follow(self, practice: str) -> PreviewFollower:
        """``amadeus agent --follow-practice``: follow a practice by id on the selected studio (its
        progress in the Practice tab, a sync when it ends), or an embedded practice's work directory."""
        path = Path(practice).expanduser()
        if path.is_dir():
            return self.follow_practice(path.name, "", work_dir=path)
        registration = self.state.studio()
        try:
            row = self.practices.follow(practice)
        except Exception as exc:
            translated = translate_rpc_error(exc, registration.name, registration.address)
            if translated is exc:
                raise
            raise translated from None
        return self.follow_practice(row.practice_id, row.deu)

    def _previewing(self, deu: str, current_digest: str) -> bool:
        return any(f.deu == deu and f.base_digest in ("", current_digest) for f in self.followers.values())

    def _practice_progress(self, row, progress) -> None:
        from instrument_agent.client.previews import preview_of

        follower = self.followers.get(row.practice_id)
        info = preview_of(progress)
        if follower is not None and info is not None and hasattr(follower.source, "announced"):
            follower.source.announced = info

    def _error(self, exc: BaseException, consequence: str = "") -> None:
        studio = ""
        try:
            registration = self.state.studio()
            studio, address = registration.name, registration.address
            exc = translate_rpc_error(exc, studio, address)
        except Exception:  # noqa: BLE001 - no studio: keep the original error
            pass
        self.last_error = str(exc) + (f"; {consequence}" if consequence and consequence not in str(exc) else "")
        self.last_error_kind = type(exc).__name__

    # -- practice --------------------------------------------------------------
    def start_practice(self, deu: str, audio: list[Path], *, steps: int = 0, learner_profile=None):
        """Start an imitation practice of ``deu`` on the selected studio with ``audio`` files
        (``learner_profile``: overrides, see :meth:`PracticeBoard.start`)."""
        from instrument_agent.personality.store import validate_deu_name

        validate_deu_name(deu)
        registration = self.state.studio()
        try:
            row = self.practices.start(deu, audio, steps=steps, learner_profile=learner_profile)
        except Exception as exc:
            translated = translate_rpc_error(exc, registration.name, registration.address)
            if translated is exc:
                raise
            raise translated from None
        playing = self.player.playing
        if self.follow_previews and (playing is None or playing.deu == deu):
            self.follow_practice(row.practice_id, deu)
        return row

    # -- status ------------------------------------------------------------------
    def status(self) -> dict:
        """Everything the UI's header and ``amadeus status`` show (JSON-able)."""
        state = self.state.load()
        running = self.practices.running
        practice_line = (
            f"{len(running)} practice{'s' if len(running) != 1 else ''} running" if running else "up to date"
        )
        if self.online is False:
            connection = "offline: playing the last synced personality; retrying in the background"
        elif self.online:
            connection = "online"
        else:
            connection = "not synced yet" if state.selected_studio else "no studio registered"
        try:
            usage = shutil.disk_usage(self.state.data_path)
            free = usage.free
        except OSError:
            free = None
        return {
            "studio": state.selected_studio,
            "studios": [
                {"name": s.name, "address": s.address, "tls": s.tls, "has_token": bool(s.token)} for s in state.studios
            ],
            "online": self.online,
            "connection": connection,
            "practice": practice_line,
            "practices": self.practices.rows(),
            "last_sync": self.last_sync,
            "next_sync": self.next_sync,
            "sync_progress": self.sync_progress,
            "error": self.last_error,
            "error_kind": self.last_error_kind,
            "selected_deu": state.selected_deu,
            "current": {
                deu: {"version": c.version, "digest": c.digest, "studio": c.studio, "synced": c.synced.ToJsonString()}
                for deu, c in sorted(state.current.items())
            },
            "data_path": str(self.state.data_path),
            "free_bytes": free,
            "settings": {
                "sample_rate": state.settings.sample_rate,
                "block_size": state.settings.block_size,
                "audio_device": state.settings.audio_device,
                "midi_port_name": state.settings.midi_port_name,
                "sync_interval_s": state.settings.sync_interval_s,
                "ui_port": state.settings.ui_port,
            },
            "player": self.player.status(),
            "previews": [f.status() for f in list(self.followers.values())],
        }


def _is_offline(exc: BaseException) -> bool:
    from instrument_agent.client.sync import StudioUnreachableError

    return isinstance(exc, StudioUnreachableError)
