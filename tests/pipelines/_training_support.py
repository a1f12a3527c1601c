"""Shared by the trainer tests: a tiny learnerProfile and real synthesised harmonic examples."""

from __future__ import annotations

import numpy as np

from instrument_agent.features import compute_loudness
from instrument_agent.proto import personality_pb2

SR, FR = 16000, 50
HOP = SR // FR


def tiny_profile(**overrides) -> personality_pb2.LearnerProfile:
    fields = dict(
        sample_rate=SR,
        frame_rate=FR,
        n_harmonics=16,
        n_noise_bands=17,
        reverb=True,
        reverb_seconds=0.05,
        hidden_size=32,
        mlp_layers=1,
        gru_units=32,
        batch_size=4,
        learning_rate=3e-3,
        steps=30,
        checkpoint_every=2,
        fft_sizes=[1024, 256, 64],
        seed=5,
    )
    fields.update(overrides)
    return personality_pb2.LearnerProfile(**fields)


def harmonic_examples(count: int = 6, seconds: float = 0.5) -> dict[str, np.ndarray]:
    """Harmonic tones (1/k² spectrum, a swell and a slight vibrato) with their f0 and A-weighted loudness."""
    frames = int(seconds * FR)
    n = frames * HOP
    t = np.arange(n) / SR
    rng = np.random.default_rng(0)
    audio, f0s, louds = [], [], []
    for _ in range(count):
        base = 196.0 * 2 ** rng.uniform(0, 1.5)
        f0_frames = base * (1 + 0.01 * np.sin(2 * np.pi * 5 * np.arange(frames) / FR))
        f0 = np.interp(np.arange(n) / HOP, np.arange(frames), f0_frames)
        phase = 2 * np.pi * np.cumsum(f0) / SR
        env = 0.3 * np.sin(np.pi * t / t[-1]) ** 0.5
        x = env * sum(np.sin(k * phase) / k**2 for k in range(1, 9))
        audio.append(x.astype(np.float32))
        f0s.append(f0_frames.astype(np.float32))
        louds.append(compute_loudness(x, SR, FR)[:frames])
    return {"audio": np.stack(audio), "f0_hz": np.stack(f0s), "loudness_db": np.stack(louds)}
