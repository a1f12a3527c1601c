"""The committed generated code is exactly what the .proto files produce."""

import subprocess
import sys
from pathlib import Path

import pytest

from instrument_agent.proto import instrument_pb2, personality_pb2

pytest.importorskip("grpc_tools")

REPO = Path(__file__).resolve().parents[3]


def test_regenerating_yields_identical_files():
    result = subprocess.run(
        [sys.executable, "-m", "instrument_agent.proto.generate", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_generated_messages_round_trip():
    manifest = personality_pb2.PersonalityManifest(deu="violin", version=3, parent_version=2)
    manifest.learner_profile.fft_sizes.extend([2048, 64])
    manifest.metrics["eval/spectral_loss"] = 1.25
    data = manifest.SerializeToString()
    assert personality_pb2.PersonalityManifest.FromString(data) == manifest
    state = instrument_pb2.InstrumentState(selected_studio="home")
    state.studios.add(name="home", address="127.0.0.1:50051")
    assert instrument_pb2.InstrumentState.FromString(state.SerializeToString()).studios[0].address == "127.0.0.1:50051"
