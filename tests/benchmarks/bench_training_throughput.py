"""Training throughput (steps/s, examples/s) of the personality model on this machine.

Configurations, each with and without XLA (``jit_compile``):

* ``default``: the default learnerProfile (50 frames/s, MLPs 1×256, GRU 256, 60 harmonics, 65 bands);
* ``paper``: the paper's solo-instrument decoder (250 frames/s, MLPs 3×512, GRU 512, 100 harmonics, 65 bands).

Batch 8 of 4 s at 16 kHz (the learnerProfile default), Adam, full multi-scale loss.
Figures print as ratios against the paper configuration without XLA, measured
in the same run. Never asserts on timing.

    python -m tests.benchmarks.bench_training_throughput [--steps 3] [--device auto|cpu|gpu]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

CONFIGS = {
    "default": {},
    "paper": {
        "frame_rate": 250,
        "hidden_size": 512,
        "mlp_layers": 3,
        "gru_units": 512,
        "n_harmonics": 100,
        "n_noise_bands": 65,
    },
}


def _batch(profile, rng):
    frames = int(profile.example_seconds * profile.frame_rate)
    hop = profile.sample_rate // profile.frame_rate
    b = profile.batch_size
    f0 = (220.0 * 2 ** rng.uniform(-1, 1, (b, 1)) * np.ones((1, frames))).astype(np.float32)
    ld = rng.uniform(-50, -10, (b, frames)).astype(np.float32)
    audio = (0.1 * rng.standard_normal((b, frames * hop))).astype(np.float32)
    return audio, f0, ld


def measure(name: str, jit: bool, steps: int, device: str) -> dict:
    from instrument_agent.profiles import merge_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from pipelines.training import Trainer

    profile = resolve_learner_profile(
        merge_profile(personality_pb2.LearnerProfile(), {**CONFIGS[name], "device": device})
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(profile, tmp, progress=False, jit_compile=jit)
        audio, f0, ld = _batch(profile, np.random.default_rng(0))
        t0 = time.perf_counter()
        trainer.train_step(audio, f0, ld)  # trace / compile
        warmup = time.perf_counter() - t0
        trainer.train_step(audio, f0, ld)
        t0 = time.perf_counter()
        for _ in range(steps):
            trainer.train_step(audio, f0, ld)
        seconds = (time.perf_counter() - t0) / steps
    params = trainer.model.count_params()
    return {
        "name": name,
        "jit": jit,
        "params": params,
        "steps_per_s": 1.0 / seconds,
        "examples_per_s": profile.batch_size / seconds,
        "first_step_s": warmup,
        "device": trainer.device,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per configuration (after 2 warm-up steps)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"))
    parser.add_argument("--configs", default="paper,default", help="comma-separated: paper, default")
    parser.add_argument("--xla", default="off,on", help="comma-separated: off, on")
    args = parser.parse_args()
    rows = []
    for name in args.configs.split(","):
        for xla in args.xla.split(","):
            row = measure(name, xla == "on", args.steps, args.device)
            rows.append(row)
            print(
                f"{row['name']:8s} xla={'on ' if row['jit'] else 'off'} {row['params'] / 1e6:5.2f} M params  "
                f"{row['steps_per_s']:6.3f} steps/s  {row['examples_per_s']:6.2f} examples/s  "
                f"(first step {row['first_step_s']:.1f} s, {row['device']})",
                flush=True,
            )
    base = next((r for r in rows if r["name"] == "paper" and not r["jit"]), rows[0])
    print(f"\nratios vs {base['name']} xla={'on' if base['jit'] else 'off'} (same run):")
    for row in rows:
        print(
            f"  {row['name']:8s} xla={'on ' if row['jit'] else 'off'} {row['steps_per_s'] / base['steps_per_s']:6.2f}x"
        )


if __name__ == "__main__":
    main()
