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

__all__ = ["DEFAULT_PREVIEW_EVERY", "PreviewWriter", "preview_interval"]

DEFAULT_PREVIEW_EVERY = 100
"""Steps between previews when the learnerProfile leaves ``preview_every`` at 0."""


def preview_interval(profile) -> int:
    """Steps between previews for a (resolved) learnerProfile: 0 means none."""
    every = int(profile.preview_every)
    if every < 0:
        return 0
    return every or DEFAULT_PREVIEW_EVERY


class PreviewWriter:
    """Writes the personality-in-training as previews into ``preview_dir``.

    Args:
        preview_dir: ``<work>/preview``.
        manifest: what every preview's manifest carries (deu, profiles, feature stats,
            sample and frame rate); version and preview marks are set per preview.
        on_written: called with each :class:`~instrument_agent.personality.PreviewInfo`.

    Attributes:
        written: previews written by this writer; ``seconds``: the time they took, s.
        failures: previews that could not be written (a full disk): training goes on.
    """

    def __init__(
        self,
        preview_dir: str | Path,
        manifest: personality_pb2.PersonalityManifest,
        *,
        on_written: Callable[[PreviewInfo], None] | None = None,
    ):
        self.preview_dir = Path(preview_dir)
        self.manifest = manifest
        self.on_written = on_written
        self.written = 0
        self.failures = 0
        self.seconds = 0.0
        self.last: PreviewInfo | None = None

    def __call__(self, step: int, loss: float, model) -> PreviewInfo | None:
        """Write the preview of ``model`` (a :class:`~pipelines.ddsp.PersonalityModel`) at ``step``."""
        began = time.perf_counter()
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
            self.seconds += time.perf_counter() - began
        self.written += 1
        self.last = info
        if self.on_written is not None:
            self.on_written(info)
        return info
