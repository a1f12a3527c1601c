"""Performance benchmark of the instrument agent (issue 4). Prints figures; asserts nothing.

    python -m tests.benchmarks.bench_performance [--quick]

Runs on one core (BLAS/OpenMP threads pinned to 1 before numpy loads) with
random-weight personalities of the default size (hidden 256, 1 MLP layer,
GRU 256, 60 harmonics, 65 noise bands, 50 frames/s, 16 kHz) and the paper's
size (hidden 512, 3 MLP layers, GRU 512, 100 harmonics, 65 bands, 250 frames/s).

Times are CPU time of this process (``time.process_time``: what the work
costs, robust when other processes share the cores) and, in brackets, wall
time (what a listener gets on this machine as loaded now; the load average is
printed first). On a shared machine the wall figures, and above all the p99 of
short blocks, measure the scheduler as much as the engine; each figure is the
best of ``--repeats`` runs (3 by default), since interference only adds time.

1. Decoder step: TensorFlow SavedModel vs the agent's numpy and TFLite
   decoders; "numpy, held note" is the step the engine runs while a voice's
   inputs do not change (its input projection is reused).
2. Offline render (engine calls of ``render.OFFLINE_BLOCK`` samples, as
   ``amadeus play`` makes), × real time, 1 and 16 voices: the agent (numpy decoder and
   TFLite decoder) against the TensorFlow path (the same single-step decoder
   as a TensorFlow SavedModel, driven frame by frame) in the same run. The
   TensorFlow figures are the baseline of the ratios.
3. Streaming at 48 kHz, 128-sample blocks, 1/8/16 voices: per-block compute
   p50/p99 as a fraction of the block period (target: 16 voices p99 < 50 %),
   plus a worst case: 16 voices whose pressure and pitch change every block.
4. Latency between a MIDI event and its audio, measured on the audio (the
   first output sample that differs from the same engine without the event),
   the event arriving in the middle of a block: note-on, pitch bend (and when
   the oscillators reach the bent pitch), pressure (reaches the decoder at the
   next control frame). Target ≤ one block + one control frame; DDSP-VST
   reports 64 ms.
5. ``import instrument_agent`` (+ engine) time, and the installed size of the
   agent extra's packages.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
):
    os.environ[_var] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import mido  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "instrument_agent"))
from _perform_support import StepDecoder, make_personality  # noqa: E402

from instrument_agent.decoder import DecoderShape  # noqa: E402
from instrument_agent.engine import Engine  # noqa: E402
from instrument_agent.render import OFFLINE_BLOCK  # noqa: E402

DEFAULT = ("default (VST-like)", DecoderShape(256, 1, 256, 60, 65), 50)
PAPER = ("paper", DecoderShape(512, 3, 512, 100, 65), 250)


class _SavedModelDecoder:
    """The baseline: the same single-step decoder run by TensorFlow from a SavedModel."""

    backend = "tensorflow"

    def __init__(self, saved_model_dir: Path, shape: DecoderShape):
        import tensorflow as tf

        self._tf = tf
        self._fn = tf.saved_model.load(str(saved_model_dir)).signatures["step"]
        self.shape = shape

    def initial_state(self, voices):
        return np.zeros((voices, self.shape.gru_units), np.float32)

    def step(self, f0_hz, loudness_db, state):
        tf = self._tf
        out = self._fn(
            f0_hz=tf.constant(np.asarray(f0_hz, np.float32).reshape(-1, 1)),
            loudness_db=tf.constant(np.asarray(loudness_db, np.float32).reshape(-1, 1)),
            state=tf.constant(state),
        )
        return out["controls"].numpy(), out["state"].numpy()


def _notes(voices: int, seconds: float, sample_rate: int) -> list[tuple[int, mido.Message]]:
    events = []
    for v in range(voices):
        events.append((int(0.001 * v * sample_rate), mido.Message("note_on", note=40 + 2 * v, velocity=100)))
        events.append((int((seconds - 0.3) * sample_rate), mido.Message("note_off", note=40 + 2 * v)))
    return events


def _engine(bundle, decoder, sample_rate):
    base = Engine.from_bundle(bundle, sample_rate=sample_rate)
    if decoder is None:
        return base
    return Engine(
        decoder,
        model_sample_rate=base.model_sample_rate,
        frame_rate=base.frame_rate,
        sample_rate=sample_rate,
        player_profile=bundle.manifest.player_profile,
        reverb_ir=np.load(bundle.file("reverb_ir.npy")),
    )


def offline(
    bundle, decoder, voices: int, seconds: float, sample_rate: int, block: int = OFFLINE_BLOCK
) -> tuple[float, float]:
    """(× real time by CPU time, × real time by wall time) of an offline render, in the engine calls
    ``amadeus play`` makes."""
    engine = _engine(bundle, decoder, sample_rate)
    for at, msg in _notes(voices, seconds, sample_rate):
        engine.send(msg, at=at)
    total = int(seconds * sample_rate)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(0, total, block):
        engine.render(min(block, total - i))
    return seconds / (time.process_time() - cpu), seconds / (time.perf_counter() - wall)


def streaming(
    bundle, voices: int, seconds: float, sample_rate=48000, block=128, backend="numpy", expression=False
) -> dict[str, float]:
    """Per-block compute as a fraction of the block period: CPU p50/p99/max and wall p50/p99.

    ``expression``: every block, each voice's pressure (polyphonic aftertouch)
    and the channel's pitch bend change, so no frame step can be prepared ahead.
    """
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate, backend=backend)
    for at, msg in _notes(voices, seconds + 1.0, sample_rate):
        engine.send(msg, at=at)
    for _ in range(int(0.2 * sample_rate / block)):  # all voices started, caches warm
        engine.render(block)
    cpu, wall = [], []
    blocks = int(seconds * sample_rate / block)
    # Messages are built before timing: the MIDI input thread builds them, not the audio callback.
    messages = [
        [mido.Message("polytouch", note=40 + 2 * v, value=(i + 7 * v) % 128) for v in range(voices)]
        + [mido.Message("pitchwheel", pitch=(i * 97) % 8192 - 4096)]
        if expression
        else []
        for i in range(blocks)
    ]
    for i in range(blocks):
        c, w = time.process_time(), time.perf_counter()
        for message in messages[i]:
            engine.send(message)
        engine.render(block)
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    period = block / sample_rate
    cpu, wall = np.asarray(cpu) / period, np.asarray(wall) / period
    return {
        "p50": float(np.percentile(cpu, 50)),
        "p99": float(np.percentile(cpu, 99)),
        "max": float(cpu.max()),
        "wall p50": float(np.percentile(wall, 50)),
        "wall p99": float(np.percentile(wall, 99)),
    }


def latency(bundle, sample_rate=48000, block=128) -> dict[str, float]:
    """ms from a message's arrival (mid-block; applied at the next block) to its first effect on the audio."""
    m = mido.Message
    result = {}
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate)
    engine.render(block * 3 + 17)  # the event arrives in the middle of a block...
    arrival = engine.time - block // 2
    engine.send(m("note_on", note=60, velocity=100))  # ...and is applied at the next block's start
    audio = engine.render(block)
    result["note-on"] = 1000 * (engine.time - block + int(np.flatnonzero(audio)[0]) - arrival) / sample_rate
    for name, message in (("pitch bend", m("pitchwheel", pitch=8191)), ("pressure", m("aftertouch", value=127))):
        engines = [Engine.from_bundle(bundle, sample_rate=sample_rate) for _ in range(2)]
        for e in engines:
            e.send(m("note_on", note=60, velocity=100))
            e.render(block * 41 + 17)  # not on a control-frame boundary
        reference, engine = engines
        arrival = engine.time - block // 2
        engine.send(message)
        applied = engine.time
        frames = 2 * int(np.ceil(sample_rate / engine.frame_rate / block)) + 2
        changed = np.concatenate([engine.render(block) - reference.render(block) for _ in range(frames)])
        first = applied + int(np.flatnonzero(np.abs(changed) > 1e-6)[0])
        result[name] = 1000 * (first - arrival) / sample_rate
        if name == "pitch bend":  # when every oscillator runs at the bent pitch
            target = float(engine.mapping.f0_hz(62.0))
            slot = int(engine._live()[0])
            probe = Engine.from_bundle(bundle, sample_rate=sample_rate)
            probe.send(m("note_on", note=60, velocity=100))
            probe.render(block * 41 + 17)
            probe.send(message)
            reached = probe.time
            probe.render(1)
            while not (np.isclose(probe._f0_prev[slot], target) and np.isclose(probe._f0_cur[slot], target)):
                reached = probe.time
                probe.render(1)
            result["pitch bend, full pitch"] = 1000 * (reached - arrival) / sample_rate
    return result


def import_time() -> tuple[float, float]:
    code = (
        "import time; t=time.perf_counter(); import instrument_agent; a=time.perf_counter()-t; "
        "import instrument_agent.engine, instrument_agent.render; print(a, time.perf_counter()-t)"
    )
    runs = [
        tuple(
            map(
                float,
                subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(),
            )
        )
        for _ in range(3)
    ]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def _closure(names: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for req in dist.requires or []:
            if "extra ==" in req:
                continue
            todo.append(
                req.split(";")[0]
                .split("[")[0]
                .split("<")[0]
                .split(">")[0]
                .split("=")[0]
                .split("!")[0]
                .split("~")[0]
                .strip()
            )
    return seen


def installed_size() -> tuple[float, int]:
    """MB of the amadeus core + agent extra packages (and their dependencies) as installed here."""
    roots = [
        "numpy",
        "protobuf",
        "typer",
        "rich",
        "pyyaml",
        "platformdirs",
        "soundfile",
        "mido",
        "python-rtmidi",
        "ai-edge-litert",
        "grpcio",
        "sounddevice",
    ]
    total = 0
    packages = _closure(roots)
    for name in packages:
        for f in metadata.distribution(name).files or []:
            path = Path(f.locate())
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6, len(packages)


def _best(measure, repeats: int):
    """Best of ``repeats`` runs of ``measure()`` (a dict of "× real time" floats or of block
    fractions): other processes on the machine can only add time, never remove it."""
    runs = [measure() for _ in range(repeats)]
    if isinstance(runs[0], tuple):
        return tuple(max(r[i] for r in runs) for i in range(len(runs[0])))
    return {k: min(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shorter runs, default size only")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per figure (default 3)")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    repeats = max(1, args.repeats)
    tmp = Path(tempfile.mkdtemp(prefix="amadeus-bench-"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Amadeus instrument agent performance (one core; load average {load:.1f} on {os.cpu_count()} cores; "
        f"best of {repeats} runs)\n"
    )
    from instrument_agent.decoder import NumpyDecoder, TFLiteDecoder

    for label, shape, frame_rate in [DEFAULT] if args.quick else [DEFAULT, PAPER]:
        work = tmp / label.split()[0]
        work.mkdir()
        bundle = make_personality(work, shape=shape, frame_rate=frame_rate, reverb_seconds=0.5, tflite=True)
        saved = next(work.glob("*-saved"))
        h = shape.n_harmonics
        decoders = {
            "tensorflow SavedModel": StepDecoder(_SavedModelDecoder(saved, shape)),
            "agent numpy": NumpyDecoder(bundle.file("decoder.npz"), h),
            "agent tflite": TFLiteDecoder(bundle.file("decoder.tflite"), h),
        }
        params = sum(v.size for v in np.load(bundle.file("decoder.npz")).values())
        print(f"== {label}: {params / 1e6:.2f} M parameters, {frame_rate} frames/s, {h} harmonics ==")
        # Decoder step alone (CPU time).
        for voices in (1, 16):
            rng = np.random.default_rng(0)
            f0, ld = rng.uniform(50, 1000, voices), rng.uniform(-60, -10, voices)
            costs = {}
            for name, dec in decoders.items():
                state = dec.initial_state(voices)
                for _ in range(20):
                    dec.step(f0, ld, state)
                t = time.process_time()
                for _ in range(200):
                    _, state = dec.step(f0, ld, state)
                costs[name] = (time.process_time() - t) / 200
            held = decoders["agent numpy"]
            inputs, state = held.encode(f0, ld)[None], held.initial_state(voices)
            t = time.process_time()
            for _ in range(200):
                _, state = held.run(inputs, state)
            costs["agent numpy, held note"] = (time.process_time() - t) / 200
            base = costs["tensorflow SavedModel"]
            print(
                f"  decoder step, {voices:2d} voices: "
                + ", ".join(f"{k} {1e3 * v:.3f} ms ({base / v:.1f}× TF)" for k, v in costs.items())
            )
        for sample_rate in (16000, 48000):
            for voices in (1, 16):
                rates = {
                    name: _best(partial(offline, bundle, dec, voices, seconds, sample_rate), repeats)
                    for name, dec in decoders.items()
                }
                base = rates["tensorflow SavedModel"][0]
                print(
                    f"  offline {sample_rate // 1000} kHz, {voices:2d} voices: "
                    + ", ".join(
                        f"{k} {cpu:.0f}× real time ({cpu / base:.2f}× TF) [wall {wall:.0f}×]"
                        for k, (cpu, wall) in rates.items()
                    )
                )
        for backend in ("numpy", "tflite"):
            for voices, expression in ((1, False), (8, False), (16, False), (16, True)):
                r = _best(partial(streaming, bundle, voices, seconds, backend=backend, expression=expression), repeats)
                what = f"{voices:2d} voices" + (", pressure + bend every block" if expression else "")
                print(
                    f"  streaming 48 kHz / 128 samples ({backend}), {what}: p50 {100 * r['p50']:.1f} %, "
                    f"p99 {100 * r['p99']:.1f} %, max {100 * r['max']:.1f} % of the 2.67 ms block "
                    f"[wall p50 {100 * r['wall p50']:.1f} %, p99 {100 * r['wall p99']:.1f} %]"
                )
        lat = latency(bundle)
        budget = 1000 * 128 / 48000 + 1000 / frame_rate
        print(
            "  latency (event arriving mid-block to its first change of the audio): "
            + ", ".join(f"{k} {v:.2f} ms" for k, v in lat.items())
        )
        print(f"    budget: block 2.67 ms + frame {1000 / frame_rate:.1f} ms = {budget:.1f} ms")
        print()
    package_only, with_engine = import_time()
    print(f"import instrument_agent: {1000 * package_only:.1f} ms; + engine and render: {1000 * with_engine:.1f} ms")
    size, count = installed_size()
    print(f"installed size of amadeus[agent] dependencies here: {size:.0f} MB in {count} distributions")


if __name__ == "__main__":
    main()
