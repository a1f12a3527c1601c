"""Shared fixtures for the pipelines tests: real servers on loopback.

* ``s3_endpoint`` — moto's S3 server (``ThreadedMotoServer``) on a free port, one per session;
* ``mlflow_uri`` — a real ``mlflow server`` process (sqlite backend, local
  artifact root) on a free port, started once per session and killed at the end;
* ``make_bundle`` — writes a small, real personality (an untrained decoder's
  ``decoder.npz`` in the contract layout) into a local store.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

_ACCESS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """``http://127.0.0.1:<port>`` of a moto S3 server (credentials: testing/testing)."""
    from moto.server import ThreadedMotoServer

    for key, value in _ACCESS.items():
        os.environ.setdefault(key, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory):
    """``http://127.0.0.1:<port>`` of a real ``mlflow server`` (sqlite + local artifacts)."""
    root = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = open(root / "server.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def make_bundle(tmp_path):
    """``make_bundle(deu, seed=0, loss=None, home=None) -> Bundle``: a real small personality in a local store."""
    from instrument_agent.decoder import DecoderShape, random_decoder_weights
    from instrument_agent.personality.store import PersonalityStore
    from instrument_agent.profiles import default_player_profile, resolve_learner_profile
    from instrument_agent.proto import personality_pb2

    def make(deu: str, seed: int = 0, loss: float | None = None, home: Path | None = None, n_harmonics: int = 20):
        home = home or tmp_path / "home"
        learner = resolve_learner_profile(
            personality_pb2.LearnerProfile(
                hidden_size=32, gru_units=32, n_harmonics=n_harmonics, n_noise_bands=17, reverb=False
            )
        )
        shape = DecoderShape(
            learner.hidden_size, learner.mlp_layers, learner.gru_units, learner.n_harmonics, learner.n_noise_bands
        )
        work = tmp_path / f"files-{deu}-{seed}"
        work.mkdir(exist_ok=True)
        np.savez(work / "decoder.npz", **random_decoder_weights(shape, seed=seed))
        manifest = personality_pb2.PersonalityManifest(sample_rate=learner.sample_rate, frame_rate=learner.frame_rate)
        manifest.learner_profile.CopyFrom(learner)
        manifest.player_profile.CopyFrom(default_player_profile())
        manifest.practice.kind = personality_pb2.PracticeRecord.IMITATION
        manifest.practice.practice_id = f"test-{seed}"
        manifest.practice.data_digests.append("0" * 64)
        manifest.feature_stats.f0_midi_mean = 60.0
        manifest.feature_stats.loudness_db_mean = -30.0
        if loss is not None:
            manifest.metrics["eval/spectral_loss"] = loss
        return PersonalityStore(home).commit(
            deu, manifest, {"decoder.npz": work / "decoder.npz", "notes/readme.txt": b"seed %d" % seed}
        )

    return make
