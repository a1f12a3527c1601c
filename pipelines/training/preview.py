"""Previews while training: every ``preview_every`` steps, the decoder as it is now.

:class:`PreviewWriter` is the trainer's ``on_preview`` hook: it copies the decoder weights
(``decoder.npz``) and the learned reverb (``reverb_ir.npy``) out of the model and writes
them as the next preview generation (:func:`instrument_agent.personality.write_preview`,
atomic) into ``<work>/preview``. A preview is no personality version: the agent plays it
while the practice runs, and the practice's published version replaces it.

Cost: one copy of the weights from the device, an ``np.savez`` into memory, a small bundle
write (sha256 + fsync). ``tests/benchmarks/bench_preview.py`` measures the slowdown against
``preview_every``; the default (:data:`DEFAULT_PREVIEW_EVERY`) keeps it under 5 %.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from instrument_agent.personality import BundleWriteError, PreviewInfo, write_preview
from instrument_agent.proto import personality_pb2

__all__ = ["DEFAULT_BUDGET", "DEFAULT_PREVIEW_EVERY", "PreviewWriter", "preview_interval", "preview_budget"]

DEFAULT_PREVIEW_EVERY = 25
"""Steps between previews when the learnerProfile leaves ``preview_every`` at 0 (then also at most
:data:`DEFAULT_BUDGET` of the training time goes to previews)."""

DEFAULT_BUDGET = 0.05
"""The default previews' share of the wall time: a preview whose predecessor cost more than 5 % of
the time since it is skipped (measured on the 2-core CPU: one preview of the default profile
costs 76 ms, a step 1.3 s; a fast GPU step would otherwise make every 25 steps too often)."""


def preview_interval(profile) -> int:
    """Steps between previews for a (resolved) learnerProfile: 0 means none."""
    every = int(profile.preview_every)
    if every < 0:
        return 0
    return every or DEFAULT_PREVIEW_EVERY


def preview_budget(profile) -> float | None:
    """The previews' share of the wall time for a learnerProfile: :data:`DEFAULT_BUDGET` with the
    default interval (``preview_every`` 0), None (every asked preview is taken) with an explicit one."""
    return DEFAULT_BUDGET if int(profile.preview_every) == 0 else None


class PreviewWriter:
    """Writes the personality-in-training as previews into ``preview_dir``.

    Args:
        preview_dir: ``<work>/preview``.
        manifest: what every preview's manifest carries (deu, profiles, feature stats,
            sample and frame rate); version and preview marks are set per preview.
        on_written: called with each :class:`~instrument_agent.personality.PreviewInfo`.
        budget: at most this share of the wall time for previews (None: no limit): a preview is
            skipped while the last one's cost exceeds ``budget`` × the time since it was taken.

    Attributes:
        written: previews written by this writer; ``seconds``: the time they took, s.
        failures: previews that could not be written (a full disk): training goes on.
        skipped: previews not taken to stay within ``budget``.
    """

    def __init__(
        self,
        preview_dir: str | Path,
        manifest: personality_pb2.PersonalityManifest,
        *,
        on_written: Callable[[PreviewInfo], None] | None = None,
        budget: float | None = None,
    ):
        self.preview_dir = Path(preview_dir)
        self.manifest = manifest
        self.on_written = on_written
        self.budget = budget
        self.skipped = 0
        self._last_cost = 0.0
        self._last_end = 0.0
        self.written = 0
        self.failures = 0
        self.seconds = 0.0
        self.last: PreviewInfo | None = None

    def __call__(self, step: int, loss: float, model) -> PreviewInfo | None:
        """Write the preview of ``model`` (a :class:`~pipelines.ddsp.PersonalityModel`) at ``step``."""
        began = time.perf_counter()
        if self.budget is not None and self._last_cost > self.budget * (began - self._last_end):
            self.skipped += 1
            return None
        files: dict[str, bytes] = {}
        buffer = io.BytesIO()
        np.savez(buffer, **model.decoder.weights_dict())
        files["decoder.npz"] = buffer.getvalue()
        ir = model.reverb_impulse_response()
        if ir is not None:
            buffer = io.BytesIO()
            np.save(buffer, ir.astype(np.float32))
            files["reverb_ir.npy"] = buffer.getvalue()
        try:
            info = write_preview(self.preview_dir, self.manifest, files, step=step, loss=loss)
        except BundleWriteError:
            self.failures += 1  # a preview is a courtesy: a full disk must not stop the practice
            return None
        finally:
            self._last_end = time.perf_counter()
            self._last_cost = self._last_end - began
            self.seconds += self._last_cost
        self.written += 1
        self.last = info
        if self.on_written is not None:
            self.on_written(info)
        return info
