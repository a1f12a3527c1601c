"""Stage 1, ``ingest`` (TFX's ExampleGen): recordings → prepared mono audio.

Output directory (``<workdir>/ingest``)::

    recordings.json     sample/frame rate and, per input: source path (and ``uri``), sha256 of its
                        bytes, prepared audio file, seconds, source rate/channels, kept span
    rec_000.npy ...     [n] float32 at the learnerProfile's sample rate, silence
                        trimmed, cut to whole control frames
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.data import file_sha256, load_for_practice
from pipelines.inputs import fetch_inputs, is_remote

from ._artifacts import learner_profile as _resolve
from ._artifacts import write_json

__all__ = ["ingest"]


def _local_paths(uris: Sequence[str], folder: Path) -> list[str]:
    """Local paths for ``uris``: paths as they are (``file://`` stripped), ``s3://`` objects fetched into ``folder``."""
    remote = [uri for uri in uris if is_remote(uri)]
    fetched = iter(fetch_inputs(remote, folder) if remote else ())
    return [next(fetched) if is_remote(uri) else uri.removeprefix("file://") for uri in uris]


def ingest(sources: Sequence[str | Path], learner_profile, workdir: str | Path) -> str:
    """Load, mix down, resample and trim every source recording.

    Args:
        sources: audio files (any format/rate/channels soundfile reads), in order: local paths
            or ``s3://`` URIs (fetched into ``<workdir>/audio``; :func:`pipelines.inputs.fetch_inputs`).
        learner_profile: LearnerProfile message or dict (sample_rate, frame_rate, example_seconds).
        workdir: the practice's work directory.

    Returns:
        The ingest output directory (str).

    Raises:
        AudioReadError, SilentAudioError, AudioTooShortError naming the file;
        PracticeInputError naming an ``s3://`` URI that can't be fetched;
        ValueError when ``sources`` is empty.
    """
    profile = _resolve(learner_profile)
    if not sources:
        raise ValueError("imitation needs at least one audio file")
    uris = [str(source) for source in sources]
    out = Path(workdir) / "ingest"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (uri, source) in enumerate(zip(uris, _local_paths(uris, Path(workdir) / "audio"), strict=True)):
        loaded = load_for_practice(source, profile.sample_rate, profile.frame_rate, profile.example_seconds)
        name = f"rec_{i:03d}.npy"
        tmp = out / f".{name}.tmp.npy"
        np.save(tmp, loaded.audio)
        tmp.replace(out / name)
        rows.append(
            {
                "source": str(Path(source).resolve()),
                "uri": uri if is_remote(uri) else str(Path(source).resolve()),  # what a later practice reads again
                "sha256": file_sha256(source),
                "audio": name,
                "seconds": loaded.seconds,
                "source_sample_rate": loaded.source_sample_rate,
                "source_channels": loaded.source_channels,
                "start_s": loaded.start_s,
                "end_s": loaded.end_s,
            }
        )
    write_json(
        out / "recordings.json",
        {"sample_rate": profile.sample_rate, "frame_rate": profile.frame_rate, "recordings": rows},
    )
    return str(out)
