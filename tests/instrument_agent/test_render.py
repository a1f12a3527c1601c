import mido
import numpy as np
import pytest
import soundfile
from _perform_support import block_size_tolerance, make_personality, peak_hz, rms, write_midi

from instrument_agent.cli import main
from instrument_agent.engine import Engine
from instrument_agent.midi import MidiFileError, NoteRangeError
from instrument_agent.personality import BundleSchemaError
from instrument_agent.personality.store import PersonalityStore
from instrument_agent.profiles import default_player_profile
from instrument_agent.render import (
    AudioInputError,
    auto_adjust,
    render_midi_file,
    transfer_timbre,
    transfer_timbre_file,
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("render"))


def chord_file(path, top=67):
    m = mido.Message
    return write_midi(
        path,
        [
            [
                m("note_on", note=60, velocity=100, time=0),
                m("note_on", note=64, velocity=90, time=0),
                m("note_on", note=top, velocity=80, time=120),
                m("pitchwheel", pitch=2000, time=120),
                m("note_off", note=60, time=240),
                m("note_off", note=64, time=0),
                m("note_off", note=top, time=0),
            ]
        ],
    )


def test_render_a_midi_file_to_wav(tmp_path, bundle):
    out = tmp_path / "out" / "song.wav"
    result = render_midi_file(bundle, chord_file(tmp_path / "song.mid"), out, sample_rate=22050, show_progress=False)
    audio, rate = soundfile.read(out, dtype="float32")
    assert rate == 22050 and audio.size == pytest.approx(22050 * 0.5 + 22050 * 0.25, rel=0.3)
    assert rms(audio[:5000]) > 1e-3 and result.realtime_factor > 1
    assert [p.name for p in out.parent.iterdir()] == ["song.wav"]  # no temp file left


def test_block_size_does_not_change_the_file(tmp_path, bundle):
    midi = chord_file(tmp_path / "song.mid")
    render_midi_file(bundle, midi, tmp_path / "a.wav", sample_rate=16000, block_size=64, show_progress=False)
    render_midi_file(bundle, midi, tmp_path / "b.wav", sample_rate=16000, block_size=2048, show_progress=False)
    a, _ = soundfile.read(tmp_path / "a.wav")
    b, _ = soundfile.read(tmp_path / "b.wav")
    assert a.shape == b.shape and np.abs(a - b).max() < block_size_tolerance(a)


def test_invalid_midi_leaves_the_existing_output_untouched(tmp_path, bundle):
    out = tmp_path / "keep.wav"
    out.write_bytes(b"precious")
    bad = tmp_path / "bad.mid"
    bad.write_bytes(chord_file(tmp_path / "good.mid").read_bytes()[:-9])
    with pytest.raises(MidiFileError, match="bad.mid: MIDI file is truncated"):
        render_midi_file(bundle, bad, out, show_progress=False)
    assert out.read_bytes() == b"precious"


def test_note_above_the_models_range_is_refused(tmp_path, bundle):
    out = tmp_path / "high.wav"
    with pytest.raises(NoteRangeError, match="high.mid: note 127 at 0.125 s sounds at 12543.9 Hz"):
        render_midi_file(bundle, chord_file(tmp_path / "high.mid", top=127), out, show_progress=False)
    assert not out.exists()


def test_newer_schema_and_unknown_version_are_refused(tmp_path):
    newer = make_personality(tmp_path, deu="future", schema_version=99)
    with pytest.raises(BundleSchemaError, match="schema 99 is newer"):
        PersonalityStore(tmp_path / "home").get("future", verify=False)  # as amadeus play loads it
    assert newer.path.exists()


def test_amadeus_play_renders_and_reports_errors(tmp_path, bundle, monkeypatch, capsys):
    monkeypatch.setenv("AMADEUS_HOME", str(bundle.path.parents[2]))
    midi = chord_file(tmp_path / "song.mid")
    out = tmp_path / "cli.wav"
    assert (
        main(["play", "--deu", bundle.deu, str(midi), "-o", str(out), "--sample-rate", "16000", "--block-size", "128"])
        == 0
    )
    assert soundfile.info(out).samplerate == 16000
    assert main(["play", "--deu", bundle.deu, str(midi), "-o", str(out), "--version", "7"]) == 2
    assert "has no version 7" in capsys.readouterr().err
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd garbage")
    assert main(["play", "--deu", bundle.deu, str(bad), "-o", str(out)]) == 2
    assert "bad.mid" in capsys.readouterr().err
    assert main(["play", "--help"]) == 0
    assert "timbre transfer" in capsys.readouterr().out.lower()


def test_timbre_transfer_follows_pitch_with_octave_and_loudness_shift(bundle):
    profile = default_player_profile()
    profile.harmonic_tilt, profile.noise_gain_db, profile.reverb_mix = -60.0, -120.0, 0.0
    f0 = np.where(np.arange(50) % 10 == 9, 0.0, 200.0)  # every 10th frame unvoiced: held at 200 Hz
    ld = np.full(50, -30.0)

    def run(**kw):
        return transfer_timbre(Engine.from_bundle(bundle, sample_rate=16000, player_profile=profile), f0, ld, **kw)

    base, up = run(), run(octave_shift=1.0, loudness_shift_db=10.0)
    assert peak_hz(base[3200:12800], 16000) == pytest.approx(200.0, rel=0.005)
    assert peak_hz(up[3200:12800], 16000) == pytest.approx(400.0, rel=0.005)
    assert rms(up[3200:12800]) > 1.5 * rms(base[3200:12800])


def test_auto_adjust_moves_towards_the_training_data(bundle):
    stats = bundle.manifest.feature_stats  # f0 mean midi 57, loudness mean -35 dB
    octaves, shift = auto_adjust(np.full(10, 880.0), np.full(10, -20.0), stats)
    assert octaves == -2.0 and shift == pytest.approx(-15.0)


def test_timbre_transfer_rejects_bad_recordings(tmp_path, bundle):
    with pytest.raises(AudioInputError, match="no such audio file"):
        transfer_timbre_file(bundle, tmp_path / "none.wav", tmp_path / "o.wav", show_progress=False)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(AudioInputError, match="not a readable audio file"):
        transfer_timbre_file(bundle, junk, tmp_path / "o.wav", show_progress=False)


def test_timbre_transfer_of_a_recording(tmp_path, bundle):
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(tmp_path / "voice.wav", voice.astype(np.float32), sr)
    result = transfer_timbre_file(bundle, tmp_path / "voice.wav", tmp_path / "out.wav", show_progress=False)
    audio, rate = soundfile.read(result.path)
    assert rate == sr and rms(audio) > 1e-3


@pytest.mark.parametrize("bad, message", [(np.nan, "12 samples are NaN or infinite"), (np.inf, "1 sample is NaN")])
def test_amadeus_play_names_a_recording_with_non_finite_samples(tmp_path, bundle, monkeypatch, capsys, bad, message):
    monkeypatch.setenv("AMADEUS_HOME", str(bundle.path.parents[2]))
    voice = (0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)).astype(np.float32)
    voice[8000 : 8012 if bad != np.inf else 8001] = bad
    song = tmp_path / "song.wav"
    soundfile.write(song, voice, 16000, subtype="FLOAT")
    with pytest.raises(AudioInputError, match=message):
        transfer_timbre_file(bundle, song, tmp_path / "o.wav", show_progress=False)
    assert main(["play", "--deu", bundle.deu, str(song), "-o", str(tmp_path / "o.wav")]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert f"song.wav: {message}" in err and "Traceback" not in err and not (tmp_path / "o.wav").exists()
