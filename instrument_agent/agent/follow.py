"""Hear it learn: follow a running practice's previews in the player.

A :class:`PreviewFollower` polls a :class:`~instrument_agent.client.previews.PreviewSource`
(a studio, or an embedded practice's work directory) and, for every newer preview
generation, loads it into the :class:`~instrument_agent.agent.player.PlayerHost`: the
engine is built off the audio thread and crossfaded in (equal power, ``crossfade_s``) with
every held note carried over, so the ama hears the personality-in-training change while
playing. When the practice publishes, the agent's sync plays the new version, which
replaces the preview; when it fails, the last version plays again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from instrument_agent.personality import PersonalityError, PreviewInfo

__all__ = ["PreviewFollower"]


class PreviewFollower:
    """Plays each new preview of one practice as it appears.

    Args:
        player: the :class:`~instrument_agent.agent.player.PlayerHost`.
        source: the practice's previews (``latest()`` / ``fetch(info)``).
        practice_id: the practice (shown in the status).
        deu: the deu practised; a preview of another deu is refused ("": the first preview's).
        interval_s: how often to look for a newer preview, seconds.
        on_error: called with each error (a preview that would not load); following goes on.
        base_digest: the version of ``deu`` current when following began (default: what plays);
            once another version is current, the agent plays it instead of the previews.
    """

    def __init__(
        self,
        player,
        source,
        *,
        practice_id: str,
        deu: str,
        interval_s: float = 1.0,
        on_error: Callable[[BaseException], None] | None = None,
        base_digest: str | None = None,
    ):
        self.player = player
        self.source = source
        self.practice_id = practice_id
        self.deu = deu
        self.interval_s = interval_s
        self.on_error = on_error
        if base_digest is None:
            base_digest = player.playing.digest if player.playing is not None else ""
        self.base_digest = base_digest  # the version playing when the practice began: a newer one wins
        self.played: PreviewInfo | None = None
        self.swaps = 0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> PreviewInfo | None:
        """Look once; load a newer preview when there is one. Returns the preview now playing."""
        info = self.source.latest()
        if info is None or (self.played is not None and info.generation <= self.played.generation):
            return self.played
        playing = self.player.playing
        if self.deu and playing is not None and playing.deu != self.deu:
            self.error = f"not played: the player plays {playing.deu}, not {self.deu}"  # the ama chose another deu
            return self.played
        bundle = self.source.fetch(info)
        if not self.deu:
            self.deu = bundle.deu  # following a work directory: its first preview names the deu
        if bundle.deu != self.deu:
            raise PersonalityError(
                f"practice {self.practice_id!r}: its preview is of deu {bundle.deu!r}, not {self.deu!r}; not played"
            )
        self.player.load(bundle, preview=info, practice_id=self.practice_id)
        self.played, self.swaps, self.error = info, self.swaps + 1, ""
        return info

    def start(self) -> PreviewFollower:
        self._thread = threading.Thread(target=self._loop, name=f"amadeus-preview-{self.practice_id}", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - a preview is a courtesy: say why, keep playing
                self.error = f"preview not played: {exc}"
                if self.on_error is not None:
                    self.on_error(exc)
            self._stop.wait(self.interval_s)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict:
        """JSON-able: the practice followed, the preview playing ("preview step N"), the last error."""
        played = self.played
        return {
            "practice_id": self.practice_id,
            "deu": self.deu,
            "generation": played.generation if played else 0,
            "step": played.step if played else 0,
            "loss": played.loss if played else None,
            "label": played.label if played else "waiting for the first preview",
            "swaps": self.swaps,
            "error": self.error,
        }
