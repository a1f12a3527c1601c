"""Generated audio files as a user would bring them, good, odd and broken (a hypothesis strategy).

Each drawn case is ``(name, data, must_fail)``: the file name (its extension may lie about the
content), its bytes, and whether every audio door must refuse it.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile
from hypothesis import strategies as st

__all__ = ["AUDIO_KINDS", "audio_files"]

#: The kinds of file generated, and whether a door must refuse the kind whatever its parameters.
AUDIO_KINDS = {
    "sine": False,
    "noise": False,
    "clipping": False,
    "silence": True,
    "dc": True,
    "nan": True,
    "inf": True,
    "empty": True,
    "random-bytes": True,
    "truncated": False,
    "flipped-header": False,
    "mislabeled": False,
}
_RATES = [8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000]
_FORMATS = {"wav": ("WAV", ["PCM_16", "PCM_24", "FLOAT"]), "flac": ("FLAC", ["PCM_16", "PCM_24"]), "ogg": ("OGG", [])}


def _samples(kind: str, rate: int, channels: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = max(1, int(seconds * rate))
    t = np.arange(n)[:, None] / rate
    if kind == "silence":
        x = np.zeros((n, channels))
    elif kind == "dc":
        x = np.full((n, channels), 0.5)
    elif kind == "noise":
        x = 0.3 * rng.standard_normal((n, channels))
    elif kind == "clipping":
        x = np.clip(4.0 * np.sin(2 * np.pi * 220.0 * t), -1.0, 1.0) * np.ones(channels)
    else:
        x = 0.3 * np.sin(2 * np.pi * rng.uniform(80, 1000) * t) * np.ones(channels)
    if kind in ("nan", "inf"):
        x[rng.integers(0, n, size=max(1, n // 50))] = np.nan if kind == "nan" else np.inf
    return x.astype(np.float32)


def _encode(x: np.ndarray, rate: int, fmt: str, subtype: str | None) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, x, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@st.composite
def audio_files(draw: st.DrawFn, *, max_seconds: float = 0.25) -> tuple[str, bytes, bool]:
    """One audio file: ``(name, bytes, must_fail)``."""
    kind = draw(st.sampled_from(sorted(AUDIO_KINDS)))
    rate = draw(st.sampled_from(_RATES))
    channels = draw(st.sampled_from([1, 2, 8]))
    seconds = draw(st.floats(0.0, max_seconds))
    ext = draw(st.sampled_from(sorted(_FORMATS)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "empty":
        return f"empty.{ext}", b"", True
    if kind == "random-bytes":
        return f"random.{ext}", rng.bytes(draw(st.integers(1, 4096))), True
    fmt, subtypes = _FORMATS["wav" if kind in ("nan", "inf") else ext]
    subtype = "FLOAT" if kind in ("nan", "inf") else (draw(st.sampled_from(subtypes)) if subtypes else None)
    x = _samples(kind, rate, channels, seconds, rng)
    if fmt == "OGG":
        rate = min(rate, 48000)  # libvorbis encodes up to 48 kHz
    data = _encode(x, rate, fmt, subtype)
    if kind == "truncated":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "flipped-header":
        at = draw(st.integers(0, min(63, len(data) - 1)))
        data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    elif kind == "mislabeled":
        ext = draw(st.sampled_from([e for e in (*_FORMATS, "mp3", "mid", "txt") if e != ext]))
    return f"{kind}.{ext}", data, AUDIO_KINDS[kind]
