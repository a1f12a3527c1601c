"""Benchmarks of the practice pipelines (run: ``python -m tests.benchmarks.bench_pipelines``).

1. Overhead of the pipeline machinery: the same tiny imitation practice on the
   same audio through kfp.local (``pipelines.kfp_pipelines.run_local``: one
   subprocess per component, artifacts copied between steps) and through the
   embedded runner (``pipelines.practice.run_practice``, in-process); both
   with a cold feature cache. Printed as a ratio to the embedded run.
2. Feedback: how far the new version's rendering moves the spectral centroid
   of the disliked region toward the liked region (fraction of the distance
   closed; 0 = not at all, 1 = all the way), measured through the agent's engine.

Figures are ratios against baselines measured in the same run; nothing is asserted.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))
from _pipelines_support import tiny_learner_profile, write_bowed_string  # noqa: E402

# The tests' tiny practice, larger: long enough that the machinery's overhead is a ratio, not the whole run.
TINY = tiny_learner_profile(
    steps=20, hidden_size=64, gru_units=64, n_harmonics=30, n_noise_bands=33, batch_size=4, checkpoint_every=1000
)


def bench_overhead(work: Path) -> None:
    from pipelines.kfp_pipelines import run_local
    from pipelines.practice import PracticeRequest, run_practice

    audio = write_bowed_string(work / "bowed.wav", 12.0, sample_rate=22050, seed=7)
    os.environ["AMADEUS_HOME"] = str(work / "embedded-home")
    started = time.perf_counter()
    run_practice(
        "imitation",
        PracticeRequest("bench", audio=[audio], learner_profile=dict(TINY), cache_dir=work / "cache-embedded"),
        work / "embedded-home",
    )
    embedded = time.perf_counter() - started

    os.environ["AMADEUS_HOME"] = str(work / "kfp-home")
    started = time.perf_counter()
    run_local(
        "imitation",
        pipeline_root=work / "root",
        deu="bench",
        audio_uris=json.dumps([str(audio)]),
        learner_profile_json=json.dumps(TINY),
        feature_cache_dir=str(work / "cache-kfp"),
    )
    kfp_local = time.perf_counter() - started
    print(f"imitation, 12 s of audio, {TINY['steps']} steps (tiny model):")
    print(f"  embedded runner   {embedded:6.1f} s   1.00x")
    print(
        f"  kfp.local         {kfp_local:6.1f} s   {kfp_local / embedded:.2f}x"
        f"  (overhead {kfp_local - embedded:+.1f} s)"
    )


def bench_feedback(work: Path) -> None:
    from instrument_agent.decoder import DecoderShape, random_decoder_weights
    from instrument_agent.engine import Engine
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import default_player_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2
    from instrument_agent.render import transfer_timbre
    from pipelines.feedback import parse_region, spectral_centroid_hz
    from pipelines.practice import PracticeRequest, run_practice

    sr, fr = 16000, 50
    learner = resolve_learner_profile(
        personality_pb2.LearnerProfile(hidden_size=64, gru_units=64, n_harmonics=60, reverb=False)
    )
    np.savez(work / "decoder.npz", **random_decoder_weights(DecoderShape(64, 1, 64, 60, 65), seed=11))
    manifest = personality_pb2.PersonalityManifest(sample_rate=sr, frame_rate=fr)
    manifest.learner_profile.CopyFrom(learner)
    manifest.player_profile.CopyFrom(default_player_profile())
    home = work / "fb-home"
    bundle = PersonalityStore(home).commit("bench", manifest, {"decoder.npz": work / "decoder.npz"})
    t = np.arange(8 * fr) / fr
    f0 = 196.0 * 2 ** ((np.floor(t) % 4) * 2 / 12)  # G3, A3, B3, C#4 one second each, twice
    loudness = -22.0 + 4.0 * np.sin(2 * np.pi * 0.25 * t)

    def render(b, profile):
        engine = Engine.from_bundle(b, sample_rate=sr, backend="numpy", player_profile=profile)
        return transfer_timbre(engine, f0, loudness)[: len(f0) * sr // fr]

    print(
        "feedback: performance played bright (+4 dB/oct) in 0-4 s and dull (-6 dB/oct) in 4-8 s; "
        "liked 1-3 s, disliked 5-7 s"
    )
    for liked_tilt, disliked_tilt in ((4.0, -6.0), (-6.0, 4.0)):
        a, b = default_player_profile(), default_player_profile()
        a.harmonic_tilt, b.harmonic_tilt = liked_tilt, disliked_tilt
        perf = np.concatenate([render(bundle, a)[: 4 * sr], render(bundle, b)[4 * sr :]])
        path = work / f"perf{liked_tilt:+.0f}.wav"
        soundfile.write(str(path), perf, sr, subtype="FLOAT")
        started = time.perf_counter()
        regions = [parse_region("1-3", "good"), parse_region("5-7", "bad")]
        request = PracticeRequest("bench", performance=path, regions=regions, base_version=1, feedback_steps=60)
        result = run_practice("feedback", request, home)
        knobs = result.steps["feedback"]
        seconds = time.perf_counter() - started
        new = PersonalityStore(home).get("bench", result.version)
        liked = spectral_centroid_hz(perf[1 * sr : 3 * sr], sr)
        disliked = spectral_centroid_hz(perf[5 * sr : 7 * sr], sr)
        before = spectral_centroid_hz(render(bundle, bundle.manifest.player_profile)[5 * sr : 7 * sr], sr)
        after = spectral_centroid_hz(render(new, new.manifest.player_profile)[5 * sr : 7 * sr], sr)
        closed = (abs(before - liked) - abs(after - liked)) / abs(before - liked)
        away = abs(after - disliked) / max(abs(before - disliked), 1e-9)
        print(
            f"  liked tilt {liked_tilt:+.0f}: centroid liked {liked:6.0f} Hz, disliked {disliked:6.0f} Hz; "
            f"disliked region rendered before {before:6.0f} Hz, after {after:6.0f} Hz "
            f"(tilt {knobs['previous_knobs']['harmonic_tilt']:+.2f} -> {knobs['knobs']['harmonic_tilt']:+.2f}); "
            f"distance to liked closed {closed:.2f}, distance to disliked x{away:.2f}; {seconds:.1f} s"
        )


def main() -> None:
    which = sys.argv[1:] or ["overhead", "feedback"]
    with tempfile.TemporaryDirectory(prefix="amadeus-bench-pipelines-") as tmp:
        if "overhead" in which:
            bench_overhead(Path(tmp))
        if "feedback" in which:
            bench_feedback(Path(tmp))


if __name__ == "__main__":
    main()
