"""The three decoder runtimes side by side: prints figures, asserts nothing.

    python -m tests.benchmarks.bench_decoders [--seconds 4]

A personality of the default size (hidden 256, 1 MLP layer, GRU 256, 60 harmonics, 65 noise bands,
50 frames/s; random weights, as bench_performance) through ``numpy``, ``tflite`` and ``onnx``
(onnxruntime), each on one thread (BLAS, TFLite and onnxruntime pinned to 1):

* an isolated decoder step (``Decoder.step``) for 1 and 16 voices: median µs;
* inside the engine, offline (engine calls of 8192 samples, as ``amadeus play``): × real time by CPU
  time for 1 and 16 held voices at 48 kHz, and the streaming per-block cost (128-sample blocks,
  16 voices playing the scripted MPE performance) as a fraction of the block period, p50/p99.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "instrument_agent"))
sys.path.insert(0, str(Path(__file__).parent))
from _perform_support import make_personality  # noqa: E402
from _performance_child import offline, stream  # noqa: E402

from instrument_agent.decoder import DecoderShape, load_decoder  # noqa: E402
from instrument_agent.engine import Engine  # noqa: E402

SHAPE = DecoderShape(256, 1, 256, 60, 65)
BACKENDS = ("numpy", "tflite", "onnx")


def step_us(bundle, backend: str, voices: int, steps: int = 300) -> float:
    decoder = load_decoder(bundle, backend)
    rng = np.random.default_rng(0)
    f0, ld = rng.uniform(100, 1000, voices).astype(np.float32), rng.uniform(-60, 0, voices).astype(np.float32)
    state = decoder.initial_state(voices)
    for _ in range(20):
        _, state = decoder.step(f0, ld, state)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        _, state = decoder.step(f0, ld, state)
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1e6)


def offline_x(bundle, backend: str, voices: int, seconds: float) -> float:
    original = Engine.from_bundle

    def with_backend(b, **kwargs):
        return original(b, **{**kwargs, "backend": backend})

    Engine.from_bundle = with_backend  # _performance_child.offline uses the default backend
    try:
        return offline(bundle, "held", voices, 48000, seconds)["x"]
    finally:
        Engine.from_bundle = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_personality(Path(tmp), shape=SHAPE, tflite=True, reverb_seconds=0.5)
        print(f"decoder {SHAPE}, load average {load:.1f} on {os.cpu_count()} CPUs (shared machine: figures move)")
        print(f"{'backend':8} {'step 1v µs':>11} {'step 16v µs':>12} {'offline 1v x':>13} {'offline 16v x':>14}"
              f" {'stream 16v p50':>15} {'p99':>6}")  # fmt: skip
        for backend in BACKENDS:
            s1, s16 = step_us(bundle, backend, 1), step_us(bundle, backend, 16)
            x1, x16 = offline_x(bundle, backend, 1, args.seconds), offline_x(bundle, backend, 16, args.seconds)
            blocks = np.asarray(stream(bundle, backend, 16, 128, args.seconds / 2)["cpu"])
            p50, p99 = np.percentile(blocks, 50), np.percentile(blocks, 99)
            print(f"{backend:8} {s1:11.0f} {s16:12.0f} {x1:13.1f} {x16:14.1f} {p50:15.0%} {p99:6.0%}")


if __name__ == "__main__":
    main()
