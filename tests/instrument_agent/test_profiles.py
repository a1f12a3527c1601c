import pytest

from instrument_agent.profiles import (
    ProfileError,
    default_learner_profile,
    learner_profile_from_yaml,
    merge_profile,
    resolve_learner_profile,
    resolve_player_profile,
)
from instrument_agent.proto import personality_pb2


def test_unset_fields_take_defaults_and_set_fields_survive():
    partial = personality_pb2.LearnerProfile(steps=42, sample_rate=48000, frame_rate=250)
    resolved = resolve_learner_profile(partial)
    assert (resolved.steps, resolved.sample_rate, resolved.frame_rate) == (42, 48000, 250)
    assert resolved.n_harmonics == default_learner_profile().n_harmonics
    assert list(resolved.fft_sizes) == [2048, 1024, 512, 256, 128, 64]


def test_yaml_file_with_camel_and_snake_case(tmp_path):
    path = tmp_path / "learner.yaml"
    path.write_text("sampleRate: 22050\nframe_rate: 50\nfft_sizes: [1024, 256]\nsteps: 10\n")
    profile = learner_profile_from_yaml(path)
    assert profile.sample_rate == 22050 and list(profile.fft_sizes) == [1024, 256] and profile.steps == 10


@pytest.mark.parametrize(
    "text, message",
    [
        ("sample_rate: 8000\n", "sample_rate=8000 is out of range"),
        ("frame_rate: 33\n", "must divide"),
        ("harmonics: 3\n", "unknown LearnerProfile field 'harmonics'"),
        ("steps: lots\n", "steps"),
        ("- a list\n", "must be a mapping"),
        ("fft_sizes: [1000]\n", "power of two"),
    ],
)
def test_bad_yaml_gets_a_specific_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message):
        learner_profile_from_yaml(path)


def test_missing_yaml_file_names_it(tmp_path):
    with pytest.raises(ProfileError, match="nope.yaml"):
        learner_profile_from_yaml(tmp_path / "nope.yaml")


def test_player_profile_overrides_merge_nested_and_validate():
    base = resolve_player_profile(None)
    tuned = merge_profile(base, {"gain_db": -6.0, "envelope": {"attack_s": 0.2}, "max_voices": None})
    assert tuned.gain_db == -6.0 and tuned.envelope.attack_s == pytest.approx(0.2)
    assert tuned.envelope.release_s == base.envelope.release_s  # untouched nested field kept
    assert resolve_player_profile(tuned).max_voices == base.max_voices
    with pytest.raises(ProfileError, match="reverb_mix"):
        resolve_player_profile(merge_profile(base, {"reverb_mix": 2.0}))


def test_reverb_can_be_switched_off_explicitly():
    assert resolve_learner_profile(personality_pb2.LearnerProfile(reverb=False)).reverb is False
    assert resolve_learner_profile(personality_pb2.LearnerProfile()).reverb is True
