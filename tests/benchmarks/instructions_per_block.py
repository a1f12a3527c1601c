"""Instruction count per streamed block, for comparing engine changes on a noisy machine.

    python tests/benchmarks/instructions_per_block.py BUNDLE VOICES BLOCK BLOCKS

Plays the scripted MPE performance into a live engine exactly as ``_performance_child``'s
``_stream_once`` does (0.3 s of warm-up, then ``BLOCKS`` blocks) and prints the sha256 of the
audio (the same digest means the same audio, bit for bit). Run it under callgrind twice, with
``BLOCKS`` and with 0, and divide the difference of the totals by ``BLOCKS``::

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python ... 200  # "Collected : N"
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import hashlib  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.append(str(Path(__file__).resolve().parents[1] / "instrument_agent"))
from _mpe_performance import mpe_performance  # noqa: E402

from instrument_agent.engine import Engine  # noqa: E402
from instrument_agent.personality import read_bundle  # noqa: E402

_WARMUP_S = 0.3
_EVENTS_S = 4.0  # seconds of the performance (BLOCKS of 128 samples: up to 1300)


def main() -> None:
    bundle, voices, block, blocks = read_bundle(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sample_rate = 48000
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate, backend="numpy")
    warm = int(_WARMUP_S * sample_rate) // block * block
    end = warm + blocks * block
    events = mpe_performance(voices, _EVENTS_S, sample_rate, period=block)  # the same, whatever BLOCKS
    digest, i, out = hashlib.sha256(), 0, []
    for t0 in range(0, end, block):
        batch = []
        while i < len(events) and events[i][0] < t0 + block:
            batch.append(events[i])
            i += 1
        for at, message in batch:
            engine.send(message, at=at)
        out.append(engine.render(block))
    audio = np.concatenate(out)
    digest.update(audio.tobytes())
    print(digest.hexdigest(), float(np.abs(audio).max()))


if __name__ == "__main__":
    main()
