"""Helpers for the studio server tests: tenants with tokens, personalities in
their stores, real audio files, and a gate for the practice runner."""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path

import numpy as np
import soundfile
from _perform_support import make_personality, peak_hz, rms, write_midi  # noqa: E402,F401

from instrument_agent.personality.store import PersonalityStore  # noqa: E402
from studio_operator.server.tenants import hash_token  # noqa: E402

TOKENS = {
    "alice": "alice-token-0123456789abcdef",
    "bob": "bob-token-0123456789abcdef",
    "carol": "carol-token-expired-0123",
}


def write_tokens(path: Path) -> Path:
    """alice and bob valid, carol expired yesterday."""
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    path.write_text(
        textwrap.dedent(f"""\
        tokens:
          - ama: alice
            sha256: {hash_token(TOKENS["alice"])}
          - ama: bob
            sha256: {hash_token(TOKENS["bob"])}
            expires: 2999-01-01T00:00:00Z
          - ama: carol
            sha256: {hash_token(TOKENS["carol"])}
            expires: {yesterday}
        """)
    )
    return path


def install(bundle, store: PersonalityStore, deu: str | None = None):
    """Commit a copy of ``bundle`` into ``store`` (as ``deu``)."""
    files = {entry.path: bundle.path / entry.path for entry in bundle.manifest.files}
    return store.commit(deu or bundle.deu, bundle.manifest, files)


def tone_wav(path: Path, seconds: float = 1.0, f0: float = 220.0, sample_rate: int = 16000) -> Path:
    """A real harmonic tone (1/k partials, gentle envelope) as a 16-bit WAV."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    audio = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))
    audio *= 0.3 * np.minimum(1.0, t / 0.05) * np.minimum(1.0, (seconds - t) / 0.05)
    soundfile.write(str(path), audio.astype(np.float32), sample_rate, subtype="PCM_16")
    return path


def gated_runner(tmp_path: Path) -> tuple[list[str], Path]:
    """A runner command that waits for ``gate`` to exist, then runs the real runner."""
    gate = tmp_path / "gate"
    script = tmp_path / "gated_runner.py"
    script.write_text(
        textwrap.dedent(f"""\
        import sys, time, pathlib
        gate = pathlib.Path({str(gate)!r})
        while not gate.exists():
            time.sleep(0.05)
        from studio_operator.server.backends.embedded.runner import main
        sys.exit(main(sys.argv[1:]))
        """)
    )
    return [sys.executable, str(script)], gate
