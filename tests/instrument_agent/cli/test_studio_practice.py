"""``amadeus studio practice``: the flags of each practice type, and the PracticeHeader (plus upload)
they put on the wire through the real studio client, received by a gRPC endpoint that only records
what it got (the end to end through a real studio is tested with the server)."""

from __future__ import annotations

import hashlib
from concurrent import futures

import grpc
import numpy as np
import pytest
import soundfile
import typer

from instrument_agent.cli import main
from instrument_agent.cli.studio_practice import PracticeType, practice_inputs, profile_changes
from instrument_agent.proto import personality_pb2, studio_pb2, studio_pb2_grpc
from instrument_agent.regions import Region

Kind = personality_pb2.PracticeRecord.Kind
Label = studio_pb2.FeedbackRegion.Label


class RecordingStudio(studio_pb2_grpc.StudioServicer):
    """Keeps every Practice stream it receives: the header and the uploaded bytes per file."""

    def __init__(self) -> None:
        self.headers: list[studio_pb2.PracticeHeader] = []
        self.uploads: dict[str, bytes] = {}
        self.authorization: list[str] = []

    def Practice(self, request_iterator, context):
        self.authorization.append(dict(context.invocation_metadata()).get("authorization", ""))
        received = 0
        for request in request_iterator:
            if request.WhichOneof("part") == "header":
                self.headers.append(request.header)
            else:
                self.uploads[request.chunk.name] = self.uploads.get(request.chunk.name, b"") + request.chunk.data
                received += len(request.chunk.data)
        return studio_pb2.PracticeTicket(practice_id="pr-recorded", bytes_received=received)


@pytest.fixture
def studio():
    recorder = RecordingStudio()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    studio_pb2_grpc.add_StudioServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield recorder, f"127.0.0.1:{port}"
    server.stop(grace=None)


@pytest.fixture
def performance(tmp_path):
    """Six seconds of a 220 Hz tone with a swell, as a 16 kHz WAV."""
    rate = 16000
    t = np.arange(6 * rate) / rate
    path = tmp_path / "take.wav"
    soundfile.write(path, 0.3 * np.sin(2 * np.pi * 220 * t) * np.minimum(1.0, t / 2), rate)
    return path


def test_feedback_sends_the_performance_and_its_regions(studio, performance, capsys):
    recorder, address = studio
    argv = ["studio", "practice", "cello", "--type", "feedback", "--performance", str(performance)]
    argv += ["--good", "1-2.5", "--good", " 3 - 4 ", "--bad", "4.5-5.", "--version", "3"]
    assert main([*argv, "--no-watch", "--studio", address]) == 0
    assert "practice pr-recorded queued" in capsys.readouterr().out
    (header,) = recorder.headers
    assert header.deu == "cello" and header.type == Kind.FEEDBACK and header.base_version == 3
    assert header.performance == "take.wav"
    data = performance.read_bytes()
    assert [(u.name, u.size, u.sha256) for u in header.uploads] == [
        ("take.wav", len(data), hashlib.sha256(data).hexdigest())
    ]
    assert recorder.uploads == {"take.wav": data}
    assert [(r.start_s, r.end_s, r.label) for r in header.regions] == [
        (1.0, 2.5, Label.GOOD),
        (3.0, 4.0, Label.GOOD),
        (4.5, 5.0, Label.BAD),
    ]
    assert not header.player_profile.ListFields() and not header.learner_profile.ListFields()
    assert (header.feedback_method, header.finetune_steps) == ("auto", 0)  # the default, said explicitly


def test_feedback_sends_the_method_and_the_finetune_budget(studio, performance):
    recorder, address = studio
    argv = ["studio", "practice", "cello", "--type", "feedback", "--performance", str(performance), "--good", "1-2"]
    assert main([*argv, "--method", "finetune", "--finetune-steps", "40", "--no-watch", "--studio", address]) == 0
    assert main([*argv, "--method", "knobs", "--no-watch", "--studio", address]) == 0
    assert [(h.feedback_method, h.finetune_steps) for h in recorder.headers] == [("finetune", 40), ("knobs", 0)]


def test_tuning_sends_only_the_changed_profile_fields(studio, capsys):
    recorder, address = studio
    argv = ["studio", "practice", "cello", "--type", "tuning", "--player", "harmonic_tilt=-3"]
    argv += [
        "--player",
        "envelope.attack_s=0.02",
        "--learner",
        '{"steps": 3000, "f0_method": "yin"}',
        "--gain-db",
        "-6",
    ]
    assert main([*argv, "--no-watch", "--studio", address]) == 0
    (header,) = recorder.headers
    assert header.type == Kind.TUNING and header.base_version == 0 and not header.uploads and not header.regions
    player = header.player_profile
    assert sorted(f.name for f, _ in player.ListFields()) == ["envelope", "gain_db", "harmonic_tilt"]
    assert (player.harmonic_tilt, player.gain_db) == (-3.0, -6.0)
    assert player.envelope.attack_s == pytest.approx(0.02)
    assert sorted(f.name for f, _ in header.learner_profile.ListFields()) == ["f0_method", "steps"]
    assert (header.learner_profile.steps, header.learner_profile.f0_method) == (3000, "yin")


def test_imitation_uploads_its_audio(studio, performance):
    recorder, address = studio
    assert (
        main(["studio", "practice", "viola", str(performance), "--steps", "200", "--no-watch", "--studio", address])
        == 0
    )
    (header,) = recorder.headers
    assert header.type == Kind.IMITATION and [u.name for u in header.uploads] == ["take.wav"]
    assert header.learner_profile.steps == 200 and not header.performance and not header.regions


def test_without_studio_the_selected_registration_is_used_with_its_token(studio, capsys):
    recorder, address = studio
    assert main(["studio", "add", "rec", address, "--token", "alices-token", "--no-check"]) == 0
    assert main(["studio", "practice", "cello", "--type", "tuning", "--gain-db", "-6", "--no-watch"]) == 0
    assert recorder.authorization == ["Bearer alices-token"]
    assert (
        main(["studio", "practice", "cello", "--type", "tuning", "--gain-db", "-6", "--no-watch", "--token", "t2"]) == 0
    )
    assert recorder.authorization[-1] == "Bearer t2"  # --token wins over the registration's


def test_profile_changes_read_key_value_json_and_dotted_keys():
    changes = profile_changes(
        ["harmonic_tilt=-3", "f0_method=yin", "mpe.pitch_bend_range=24", '{"mpe": {"max_voices": 8}, "reverb": false}'],
        "--player",
    )
    assert changes == {
        "harmonic_tilt": -3,
        "f0_method": "yin",  # a bare word is a string
        "mpe": {"pitch_bend_range": 24, "max_voices": 8},  # nested changes merge
        "reverb": False,
    }
    for bad in ("harmonic_tilt", "=3", '{"steps": ', "[1, 2]"):
        with pytest.raises(typer.BadParameter):
            profile_changes([bad], "--learner")


def test_inputs_of_each_type_and_the_client_arguments(performance):
    feedback = practice_inputs(PracticeType.feedback, performance=str(performance), good=["0-1"], bad=["2-3"])
    assert feedback.regions == (Region(0.0, 1.0, "good"), Region(2.0, 3.0, "bad"))
    arguments = feedback.client_arguments()
    assert arguments["performance"] == performance
    assert arguments["regions"] == [(0.0, 1.0, "good"), (2.0, 3.0, "bad")]
    uri = practice_inputs("feedback", performance="s3://bucket/take.wav", good=["0-1"])
    assert uri.performance == "s3://bucket/take.wav"  # a URI is passed on for the studio to read
    tuning = practice_inputs("tuning", player=["reverb_mix=0.5"], base_version=2).client_arguments()
    assert "regions" not in tuning and "performance" not in tuning  # only a feedback names them
    assert tuning["player_profile"].reverb_mix == 0.5 and tuning["learner_profile"] is None
    assert tuning["base_version"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--type", "feedback", "--good", "1-2"], "name the judged performance: --performance FILE"),
        (["--type", "feedback", "--performance", "PERF", "--bad", "1-2"], "at least one liked region"),
        (["--type", "feedback", "--performance", "PERF", "--good", "2-1"], "--good '2-1': the end must come after"),
        (["--type", "feedback", "--performance", "PERF", "--good", "1..2"], "expected START-END in seconds"),
        (["--type", "feedback", "--performance", "missing.wav", "--good", "1-2"], "missing.wav: no such audio file"),
        (["--type", "tuning"], "give at least one change"),
        (["--type", "tuning", "--player", "brightness=2"], "unknown PlayerProfile field 'brightness'"),
        (["--type", "tuning", "--gain-db", "-3", "--good", "1-2"], "are the inputs of --type feedback"),
        (["--type", "remix"], "'remix' is not one of"),
        (
            ["--type", "feedback", "--performance", "PERF", "--good", "1-2", "--method", "magic"],
            "'magic' is not one of",
        ),
        (
            ["--type", "feedback", "--performance", "PERF", "--good", "1-2", "--finetune-steps", "0"],
            "0: 1..100000 steps",
        ),
        (
            [
                "--type",
                "feedback",
                "--performance",
                "PERF",
                "--good",
                "1-2",
                "--method",
                "knobs",
                "--finetune-steps",
                "9",
            ],
            "does not apply to --method knobs",
        ),
        (["--type", "tuning", "--gain-db", "-3", "--method", "knobs"], "are the inputs of --type feedback"),
    ],
)
def test_bad_inputs_are_usage_errors_before_any_connection(argv, message, performance, capsys):
    argv = [str(performance) if a == "PERF" else a for a in argv]
    # Port 1: nothing listens, so reaching the studio would fail differently.
    assert main(["studio", "practice", "cello", *argv, "--studio", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split()) and "Traceback" not in err and "UNAVAILABLE" not in err
