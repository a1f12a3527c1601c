"""The studio image, built from the project's Dockerfile (scripts/build_image.sh: a Debian base from
mmdebstrap, an offline wheelhouse) and started with podman: from outside the container
``grpc.health.v1`` answers SERVING and ``/metrics`` serves. Records size and cold start in
tests/artifacts/image.json."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
TAG = "localhost/amadeus-studio:test"
PODMAN = ["podman", "--runtime", "runc"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(address: str) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
        return answer.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def test_the_studio_image_builds_starts_and_answers_health_and_metrics():
    started = time.monotonic()
    built = subprocess.run(
        [str(ROOT / "scripts" / "build_image.sh"), TAG],
        cwd=ROOT,
        env=dict(os.environ, PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    build_s = time.monotonic() - started
    size = int(subprocess.check_output([*PODMAN, "image", "inspect", TAG, "--format", "{{.Size}}"], text=True))

    port, metrics_port = _free_port(), _free_port()
    name = f"amadeus-studio-test-{os.getpid()}"
    run = [*PODMAN, "run", "-d", "--rm", "--name", name, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    run += ["--network", "host", "--read-only", "--tmpfs", "/tmp", TAG]
    run += ["studio", "serve", "--host", "127.0.0.1", "--port", str(port), "--metrics-port", str(metrics_port)]
    launched = time.monotonic()
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    try:
        deadline = launched + 60
        while time.monotonic() < deadline and not _serving(f"127.0.0.1:{port}"):
            time.sleep(0.1)
        cold_start_s = time.monotonic() - launched
        assert _serving(f"127.0.0.1:{port}"), subprocess.run([*PODMAN, "logs", name], capture_output=True, text=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
            body = response.read().decode()
        assert response.status == 200 and "amadeus_studio_practices" in body
        user = subprocess.check_output([*PODMAN, "exec", name, "id", "-u"], text=True).strip()
        assert user == "10001"
    finally:
        subprocess.run([*PODMAN, "stop", "-t", "5", name], capture_output=True, timeout=60)
    figures = {"tag": TAG, "size_mb": round(size / 1e6, 1), "build_s": round(build_s, 1)}
    figures["cold_start_s"] = round(cold_start_s, 2)
    figures["build_log"] = built.stdout.strip().splitlines()[-1]
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "image.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures))
