"""Helpers for the performance tests: small personalities with random decoders,
a TFLite decoder built from numpy weights with TensorFlow, and audio measurements."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from instrument_agent.decoder import DecoderShape, random_decoder_weights
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.profiles import default_learner_profile, default_player_profile
from instrument_agent.proto import personality_pb2

SMALL = DecoderShape(hidden_size=32, mlp_layers=1, gru_units=32, n_harmonics=20, n_noise_bands=17)


def make_personality(
    tmp_path: Path,
    *,
    deu: str = "cello",
    shape: DecoderShape = SMALL,
    sample_rate: int = 16000,
    frame_rate: int = 50,
    reverb_seconds: float = 0.1,
    player_profile=None,
    seed: int = 0,
    tflite: bool = False,
    schema_version: int | None = None,
    coverage=None,
    loudness_db_max: float = -20.0,
    extra_files: dict | None = None,
):
    """Commit a personality with a random decoder to a store under ``tmp_path``; return its bundle.

    ``coverage``: a :class:`~instrument_agent.coverage_map.CoverageMap` for the manifest; ``loudness_db_max``:
    the training data's loudest frame (a full-velocity note's loudness); ``extra_files``: more bundle files."""
    files: dict[str, Path | bytes] = {}
    npz = tmp_path / f"decoder-{seed}.npz"
    np.savez(npz, **loudness_following_weights(shape, seed, tmp_path))
    files["decoder.npz"] = npz
    if tflite:
        tfl = tmp_path / f"decoder-{seed}.tflite"
        build_tflite(npz, shape, tfl)
        files["decoder.tflite"] = tfl
    if reverb_seconds:
        rng = np.random.default_rng(seed + 1)
        taps = int(reverb_seconds * sample_rate)
        ir = (rng.normal(size=taps) * np.exp(-np.arange(taps) / (0.2 * taps)) * 0.05).astype(np.float32)
        ir_path = tmp_path / f"ir-{seed}.npy"
        np.save(ir_path, ir)
        files["reverb_ir.npy"] = ir_path
    learner = default_learner_profile()
    learner.sample_rate = sample_rate
    learner.frame_rate = frame_rate
    learner.n_harmonics = shape.n_harmonics
    learner.n_noise_bands = shape.n_noise_bands
    learner.hidden_size = shape.hidden_size
    learner.mlp_layers = shape.mlp_layers
    learner.gru_units = shape.gru_units
    manifest = personality_pb2.PersonalityManifest(
        learner_profile=learner,
        player_profile=player_profile or default_player_profile(),
        sample_rate=sample_rate,
        frame_rate=frame_rate,
    )
    manifest.feature_stats.loudness_db_max = loudness_db_max
    if coverage is not None:
        coverage.to_proto(manifest.coverage)
    files.update(extra_files or {})
    manifest.feature_stats.loudness_db_mean = -35.0
    manifest.feature_stats.f0_midi_mean = 57.0
    store = PersonalityStore(tmp_path / "home")
    bundle = store.commit(deu, manifest, files)
    if schema_version is not None:  # rewrite the manifest as a newer Amadeus would
        raw = personality_pb2.PersonalityManifest()
        raw.ParseFromString((bundle.path / "manifest.pb").read_bytes())
        raw.schema_version = schema_version
        (bundle.path / "manifest.pb").write_bytes(raw.SerializeToString())
    return bundle


def loudness_following_weights(shape: DecoderShape, seed: int, tmp_path: Path) -> dict[str, np.ndarray]:
    """Random decoder weights whose amplitude output is fitted (least squares on the
    steady-state activations) to follow the loudness input, as a trained decoder's does:
    amplitude ≈ 2·10^(loudness_db/20)."""
    from instrument_agent.decoder import NumpyDecoder

    weights = random_decoder_weights(shape, seed)
    path = tmp_path / f"raw-{seed}.npz"
    np.savez(path, **weights)
    decoder = NumpyDecoder(path, shape.n_harmonics)
    f0, ld = np.meshgrid(np.geomspace(40.0, 2000.0, 12), np.linspace(-90.0, 0.0, 19))
    f0, ld = f0.ravel(), ld.ravel()
    state = decoder.initial_state(f0.size)
    ys = []
    for _ in range(8):
        y, state = decoder._features(f0, ld, state)
        ys.append(y)
    y = np.concatenate(ys)
    ld = np.tile(ld, 8)
    target = np.clip(2.0 * 10 ** (ld / 20.0), 1e-6, 1.99)
    sig = (target / 2.0) ** (1.0 / np.log(10.0))
    raw = np.log(sig / (1.0 - sig))
    design = np.concatenate([y, np.ones((y.shape[0], 1))], axis=1)
    coef, *_ = np.linalg.lstsq(design, raw, rcond=None)
    weights["dense/kernel"][:, 0] = coef[:-1]
    weights["dense/bias"][0] = coef[-1]
    return weights


def build_tflite(npz_path: Path, shape: DecoderShape, out_path: Path) -> Path:
    """The contract's single-step decoder in TensorFlow ops, converted to TFLite (signature ``step``)."""
    import pytest

    tf = pytest.importorskip("tensorflow")
    w = dict(np.load(npz_path))
    g = shape.gru_units

    def mlp(x, name):
        for i in range(shape.mlp_layers):
            x = tf.matmul(x, w[f"{name}/{i}/kernel"]) + w[f"{name}/{i}/bias"]
            mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
            x = (x - mean) / tf.sqrt(var + 1e-3) * w[f"{name}/{i}/gamma"] + w[f"{name}/{i}/beta"]
            x = tf.nn.leaky_relu(x, alpha=0.2)
        return x

    def exp_sigmoid(x):
        return 2.0 * tf.pow(tf.sigmoid(x), float(np.log(10.0))) + 1e-7

    class Step(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 1], tf.float32, name="f0_hz"),
                tf.TensorSpec([None, 1], tf.float32, name="loudness_db"),
                tf.TensorSpec([None, g], tf.float32, name="state"),
            ]
        )
        def step(self, f0_hz, loudness_db, state):
            midi = 12.0 * tf.math.log(tf.maximum(f0_hz, 1e-3) / 440.0) / float(np.log(2.0)) + 69.0
            x_f = mlp(tf.maximum(midi, 0.0) / 127.0, "f0_mlp")
            x_l = mlp(loudness_db / 80.0 + 1.0, "ld_mlp")
            x = tf.concat([x_f, x_l], -1)
            xi = tf.matmul(x, w["gru/kernel"]) + w["gru/bias"][0]
            hr = tf.matmul(state, w["gru/recurrent_kernel"]) + w["gru/bias"][1]
            z = tf.sigmoid(xi[:, :g] + hr[:, :g])
            r = tf.sigmoid(xi[:, g : 2 * g] + hr[:, g : 2 * g])
            hh = tf.tanh(xi[:, 2 * g :] + r * hr[:, 2 * g :])
            new_state = z * state + (1.0 - z) * hh
            y = mlp(tf.concat([new_state, x_f, x_l], -1), "out_mlp")
            raw = tf.matmul(y, w["dense/kernel"]) + w["dense/bias"]
            h = shape.n_harmonics
            controls = tf.concat([exp_sigmoid(raw[:, : 1 + h]), exp_sigmoid(raw[:, 1 + h :] - 5.0)], -1)
            return {"controls": controls, "state": new_state}

    module = Step()
    saved = out_path.parent / f"{out_path.stem}-saved"
    tf.saved_model.save(module, str(saved), signatures={"step": module.step.get_concrete_function()})
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved), signature_keys=["step"])
    out_path.write_bytes(converter.convert())
    return out_path


# -- measurements -----------------------------------------------------------
def block_size_tolerance(reference: np.ndarray, n_harmonics: int = SMALL.n_harmonics) -> float:
    """Largest difference float32 allows between two renders of the same events with other
    block sizes (or a step done ahead instead of at its boundary).

    The decoder's numbers are the same whatever the block size (each frame is stepped with
    the same calls); only the synthesis sums differ in how a span is cut. The float64 phase
    is rounded to float32, and two cuts can round a sample to neighbouring floats: at most
    ulp(2π) = 4 eps apart (eps = 2^-23), so harmonic k moves by at most 4 eps · k · a_k and the
    sum by 4 eps · H · Σa_k; summing the H harmonics (and the noise) in another order adds at
    most H eps · Σa_k. With Σa_k taken as the signal's peak: 5 H eps · peak (measured under
    OpenBLAS's Haswell, SkylakeX, Zen, Sandybridge, Prescott, Core2 and Nehalem kernels: at
    most 4.8e-7 at a peak of 1.26, twenty times below this).
    """
    return 5 * n_harmonics * float(np.finfo(np.float32).eps) * float(np.abs(reference).max())


def peak_hz(audio: np.ndarray, sample_rate: int) -> float:
    """Frequency of the strongest FFT bin (Hann window, parabolic interpolation)."""
    spec = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    i = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[i - 1 : i + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (i + offset) * sample_rate / audio.size


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def centroid_hz(audio: np.ndarray, sample_rate: int) -> float:
    spec = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    freqs = np.fft.rfftfreq(audio.size, 1 / sample_rate)
    return float(np.sum(freqs * spec) / np.sum(spec))


def write_midi(path: Path, tracks: list[list], ticks_per_beat: int = 480, mido_type: int = 1) -> Path:
    """Write messages (mido messages with delta ``time`` in ticks) to ``path``; 120 bpm: 480 ticks = 0.5 s."""
    import mido

    midi = mido.MidiFile(type=mido_type, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        track = mido.MidiTrack()
        track.extend(messages)
        midi.tracks.append(track)
    midi.save(path)
    return path
