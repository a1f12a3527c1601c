"""Studio benchmark (loopback only, bounded): Perform streaming with N concurrent clients,
and Practice upload throughput.

    python tests/benchmarks/bench_studio.py [--clients 32] [--seconds 1.0] [--block 128] [--upload-mb 32]

Figures are ratios against baselines measured in the same run: the real-time
factor of each stream against the agent's engine rendering the same notes
in-process (no gRPC), and upload MB/s against copying the same file locally.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import mido
import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "instrument_agent"))
from _perform_support import make_personality  # noqa: E402

from instrument_agent.client.studio_client import StudioClient, midi_event  # noqa: E402
from instrument_agent.engine import Engine  # noqa: E402
from studio_operator.server import StudioConfig, StudioServer  # noqa: E402


def _events(sample_rate: int, seconds: float):
    """A note every quarter second, each held 0.2 s (up to two voices)."""
    out = []
    for i, start in enumerate(np.arange(0.0, seconds, 0.25)):
        key = 48 + (i * 5) % 24
        out.append((int(start * sample_rate), mido.Message("note_on", note=key, velocity=100)))
        out.append((int((start + 0.2) * sample_rate), mido.Message("note_off", note=key)))
    return out


def _stream(address, sample_rate, block, seconds, per_message, latencies, rtfs, barrier):
    events = _events(sample_rate, seconds)
    total_blocks = int(seconds * sample_rate / block)
    with StudioClient(address) as client:
        stream = client.perform(deu="cello", sample_rate=sample_rate, block_size=block)
        barrier.wait()
        started = time.perf_counter()
        done = 0
        while done < total_blocks:
            n = min(per_message, total_blocks - done)
            lo, hi = done * block, (done + n) * block
            batch = [midi_event(s, m) for s, m in events if lo <= s < hi]
            t0 = time.perf_counter()
            stream.play(batch, blocks=n)
            latencies.append((time.perf_counter() - t0) / n * 1000.0)  # ms per block, as received
            done += n
        rtfs.append(seconds / (time.perf_counter() - started))
        stream.close()


def bench_perform(server, bundle, clients, seconds, sample_rate, block, per_message):
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate)
    for s, m in _events(sample_rate, seconds):
        engine.send(m, at=s)
    t0 = time.perf_counter()
    for _ in range(int(seconds * sample_rate / block)):
        engine.render(block)
    local_rtf = seconds / (time.perf_counter() - t0)
    rows = {}
    for n in (1, clients):
        latencies, rtfs = [], []
        barrier = threading.Barrier(n)
        threads = [
            threading.Thread(
                target=_stream,
                args=(server.address, sample_rate, block, seconds, per_message, latencies, rtfs, barrier),
            )
            for _ in range(n)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows[n] = (np.median(rtfs), np.min(rtfs), np.percentile(latencies, 99))
    print(
        f"Perform: {sample_rate} Hz, {block}-sample blocks ({block / sample_rate * 1000:.2f} ms), "
        f"{per_message} blocks per message, {seconds:.1f} s per stream"
    )
    print(f"  baseline: in-process engine, 1 stream      RTF {local_rtf:8.1f}x")
    for n, (median, worst, p99) in rows.items():
        print(
            f"  studio, {n:2d} concurrent stream(s)      RTF median {median:7.2f}x  worst {worst:7.2f}x "
            f"(= {median / local_rtf:.3f} of baseline; aggregate {median * n:.1f}x)  p99 block {p99:.2f} ms"
        )


def bench_upload(server, tmp, megabytes):
    wav = tmp / "upload.wav"
    rate = 48000
    frames = int(megabytes * 1e6 / 4)
    soundfile.write(
        str(wav), (np.random.default_rng(0).standard_normal(frames) * 0.1).astype(np.float32), rate, subtype="FLOAT"
    )
    size = wav.stat().st_size / 1e6
    t0 = time.perf_counter()
    shutil.copyfile(wav, tmp / "copy.wav")
    copy_rate = size / (time.perf_counter() - t0)
    with StudioClient(server.address, timeout=600) as client:
        t0 = time.perf_counter()
        client.practice("cello", "imitation", audio=[wav])
        upload_rate = size / (time.perf_counter() - t0)
    print(f"Practice upload of {size:.1f} MB in 1 MiB chunks (client sha256 + server write + audio check):")
    print(f"  baseline: local file copy  {copy_rate:8.1f} MB/s")
    print(f"  studio upload              {upload_rate:8.1f} MB/s (= {upload_rate / copy_rate:.3f} of baseline)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--sample-rate", type=int, default=48000)
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--per-message", type=int, default=8, help="blocks requested per play message")
    parser.add_argument("--upload-mb", type=float, default=32.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "p").mkdir()
        bundle = make_personality(tmp / "p", deu="cello", tflite=False)
        server = StudioServer(
            StudioConfig(
                home=tmp / "p" / "home",
                host="127.0.0.1",
                port=0,
                metrics_port=None,
                workers=1,
                runner=[sys.executable, "-c", "import time; time.sleep(0)"],
            )
        ).start()
        try:
            bench_perform(server, bundle, args.clients, args.seconds, args.sample_rate, args.block, args.per_message)
            bench_upload(server, tmp, args.upload_mb)
        finally:
            server.stop(grace=0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
