"""A real personality that fits DDSP-VST (16 kHz, 50 frames/s, 60 harmonics, 65 noise bands, GRU 256):
a short imitation practice on a fluidsynth violin (FluidR3), and a held-out phrase of the same violin."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instrument_agent.audio import read_mono
from pipelines.demo.score import practice_score, write_midi
from pipelines.demo.soundfont import render_with_soundfont

VST_PROFILE = {
    "steps": 40,
    "example_seconds": 2.0,
    "batch_size": 4,
    "reverb": True,
    "reverb_seconds": 0.25,
    "f0_method": "yin",
    "holdout_fraction": 0.1,
    "checkpoint_every": 1000,
}
"""The default model size (it fits the plugin) with a practice of well under a minute on 2 CPU cores."""


def violin(folder: Path, seconds: float, seed: int) -> Path:
    """``seconds`` of a practice score (MIDI 55..79) played by FluidR3's violin, 16 kHz WAV."""
    midi = write_midi(
        practice_score(seconds, low=55, high=79, seed=seed), folder / f"violin-{seed}.mid", program=40, expression=True
    )
    return render_with_soundfont(midi, "FluidR3", folder / f"violin-{seed}.wav", sample_rate=16000)


def practise_vst_personality(folder: Path, home: Path):
    """Practise the deu ``violin`` (imitation, :data:`VST_PROFILE`) on 30 s of violin; returns
    (bundle, held-out phrase audio [n] float32 at 16 kHz)."""
    from instrument_agent.personality.store import PersonalityStore
    from pipelines.practice import PracticeRequest, run_practice

    folder.mkdir(parents=True, exist_ok=True)
    recording = violin(folder, 30.0, seed=0)
    result = run_practice("imitation", PracticeRequest("violin", audio=[recording], learner_profile=VST_PROFILE), home)
    phrase = read_mono(violin(folder, 8.0, seed=5), 16000).audio
    return PersonalityStore(home).get("violin", result.version), phrase


def with_harmonic_amplitude(bundle, work: Path):
    """A new version of ``bundle``'s deu whose decoder's amplitude row is refitted (least squares on the
    output-MLP activations over the practised range) to ``2 · 10^(loudness/20)``: a practice this short
    leaves the harmonic amplitude at its floor (the noise learns first), so without it the harmonic
    oscillators, the heart of the comparison, would be silent. Every other weight is the practice's."""
    from instrument_agent.decoder import NumpyDecoder
    from instrument_agent.personality.store import PersonalityStore

    with np.load(bundle.file("decoder.npz")) as data:
        weights = {key: np.asarray(data[key], np.float32) for key in data.files}
    decoder = NumpyDecoder(bundle.file("decoder.npz"), 60)
    f0, ld = np.meshgrid(np.geomspace(150.0, 1000.0, 10), np.linspace(-70.0, 0.0, 15))
    f0, ld = f0.ravel(), ld.ravel()
    state, ys = decoder.initial_state(f0.size), []
    for _ in range(10):
        y, state = decoder._features(f0, ld, state)
        ys.append(y)
    target = np.clip(2.0 * 10 ** (np.tile(ld, 10) / 20.0), 1e-6, 1.99)
    sig = (target / 2.0) ** (1.0 / np.log(10.0))
    design = np.concatenate([np.concatenate(ys), np.ones((target.size, 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.log(sig / (1.0 - sig)), rcond=None)
    weights["dense/kernel"][:, 0] = coef[:-1]
    weights["dense/bias"][0] = coef[-1]
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "decoder.npz", **weights)
    files = {"decoder.npz": work / "decoder.npz"}
    if bundle.has_file("reverb_ir.npy"):
        files["reverb_ir.npy"] = bundle.file("reverb_ir.npy")
    manifest = type(bundle.manifest)()
    manifest.CopyFrom(bundle.manifest)
    del manifest.files[:]
    manifest.parent_version = bundle.version
    # The practice's level calibration described its own (near-silent) harmonics, not the refit ones.
    manifest.feature_stats.level_gain_db = 0.0
    return PersonalityStore(bundle.path.parents[2]).commit(bundle.deu, manifest, files)
