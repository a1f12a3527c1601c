"""Registry round trip (run: ``python -m tests.benchmarks.bench_registry``).

Publish + pull + verify of one personality bundle (default-size decoder, a
SavedModel-sized blob) to the local store and to S3 (moto's S3 server on
loopback, through the minio client). Printed as a ratio to the local store.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _bundle(home: Path):
    from instrument_agent.decoder import DecoderShape, random_decoder_weights
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import default_player_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2

    learner = resolve_learner_profile(None)
    files = home.parent / "files"
    files.mkdir(parents=True, exist_ok=True)
    np.savez(
        files / "decoder.npz",
        **random_decoder_weights(
            DecoderShape(
                learner.hidden_size, learner.mlp_layers, learner.gru_units, learner.n_harmonics, learner.n_noise_bands
            )
        ),
    )
    (files / "variables.data").write_bytes(
        np.random.default_rng(0).bytes(8 << 20)
    )  # stands in for saved_model/variables
    manifest = personality_pb2.PersonalityManifest(sample_rate=16000, frame_rate=50)
    manifest.learner_profile.CopyFrom(learner)
    manifest.player_profile.CopyFrom(default_player_profile())
    return PersonalityStore(home).commit(
        "bench",
        manifest,
        {
            "decoder.npz": files / "decoder.npz",
            "saved_model/variables/variables.data-00000-of-00001": files / "variables.data",
        },
    )


def _round_trip(registry, bundle, work: Path, n: int) -> list[float]:
    times = []
    for i in range(n):
        started = time.perf_counter()
        info = registry.publish(bundle)
        pulled = registry.pull("bench", info.version, work / f"pull-{id(registry)}-{i}")
        pulled.verify()
        times.append(time.perf_counter() - started)
    return times


def main(n: int = 5) -> None:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from pipelines.registry import LocalRegistry, S3Registry

    with tempfile.TemporaryDirectory(prefix="amadeus-bench-registry-") as tmp:
        work = Path(tmp)
        bundle = _bundle(work / "source" / "home")
        size = sum(e.size for e in bundle.manifest.files)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            local = _round_trip(LocalRegistry(work / "local"), bundle, work, n)
            s3 = _round_trip(
                S3Registry(
                    "s3://bench/personalities", endpoint=f"http://127.0.0.1:{port}", access_key="k", secret_key="s"
                ),
                bundle,
                work,
                n,
            )
        finally:
            server.stop()
        base = statistics.median(local)
        print(f"registry round trip (publish + pull + verify), bundle {size / 1e6:.1f} MB, median of {n}:")
        print(f"  local store        {base * 1000:7.1f} ms   1.00x")
        print(f"  S3 (moto, minio)   {statistics.median(s3) * 1000:7.1f} ms   {statistics.median(s3) / base:.2f}x")


if __name__ == "__main__":
    main()
