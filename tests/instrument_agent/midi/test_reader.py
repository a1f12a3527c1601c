import mido
import pytest
from _perform_support import write_midi  # noqa: E402

from instrument_agent.midi import MidiFileError, read_midi


def _song(path):
    return write_midi(
        path,
        [
            [
                mido.MetaMessage("set_tempo", tempo=500000, time=0),
                mido.MetaMessage("set_tempo", tempo=250000, time=960),
            ],
            [
                mido.Message("note_on", note=60, velocity=90, time=0),
                mido.Message("note_on", note=64, velocity=80, time=0),
                mido.Message("note_off", note=60, time=960),  # 1.0 s at 120 bpm
                mido.Message("pitchwheel", pitch=4096, time=480),  # then 0.25 s at 240 bpm
                mido.Message("note_off", note=64, time=0),
            ],
        ],
    )


def test_reads_a_two_track_file_with_a_tempo_change(tmp_path):
    perf = read_midi(_song(tmp_path / "song.mid"))
    assert perf.note_count == 2
    times = [(round(t, 6), m.type) for t, m in perf.events]
    assert times[:2] == [(0.0, "note_on"), (0.0, "note_on")]
    assert (1.0, "note_off") in times and (1.25, "pitchwheel") in times
    assert perf.duration_s == pytest.approx(1.25)


@pytest.mark.parametrize(
    "mangle, problem",
    [
        (lambda b: b[: len(b) - 7], "truncated"),
        (lambda b: b[:30], "truncated"),
        (lambda b: b"RIFF" + b[4:], "not a valid Standard MIDI File"),
        (lambda b: b"", "truncated"),
    ],
)
def test_bad_files_raise_a_specific_error_naming_the_file(tmp_path, mangle, problem):
    good = _song(tmp_path / "good.mid").read_bytes()
    bad = tmp_path / "bad.mid"
    bad.write_bytes(mangle(good))
    with pytest.raises(MidiFileError, match=problem) as info:
        read_midi(bad)
    assert info.value.path == str(bad) and str(bad) in str(info.value)


def test_missing_and_noteless_files(tmp_path):
    with pytest.raises(MidiFileError, match="no such MIDI file"):
        read_midi(tmp_path / "nope.mid")
    empty = write_midi(tmp_path / "empty.mid", [[mido.Message("control_change", control=7, value=100, time=0)]])
    with pytest.raises(MidiFileError, match="holds no notes"):
        read_midi(empty)


def test_a_file_with_zero_ticks_per_beat_is_refused_naming_the_header(tmp_path):
    path = tmp_path / "ppq0.mid"
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", time=96)])
    mido.MidiFile(tracks=[track], ticks_per_beat=96).save(path)
    data = bytearray(path.read_bytes())
    data[12:14] = (0).to_bytes(2, "big")  # the header's division field: 0 ticks per beat
    path.write_bytes(bytes(data))
    with pytest.raises(MidiFileError, match="0 ticks per beat") as info:
        read_midi(path)
    assert str(path) in str(info.value)


def test_a_note_after_a_gap_of_hours_is_refused_before_anything_is_allocated(tmp_path):
    path = tmp_path / "gap.mid"
    ticks_per_hour = 480 * 2 * 3600  # 120 bpm
    track = mido.MidiTrack(
        [mido.Message("note_on", note=60, velocity=90, time=3 * ticks_per_hour), mido.Message("note_off", time=480)]
    )
    mido.MidiFile(tracks=[track], ticks_per_beat=480).save(path)
    with pytest.raises(MidiFileError, match="180 min, beyond the 60-minute limit"):
        read_midi(path)
    assert read_midi(path, max_duration_s=4 * 3600).duration_s == pytest.approx(3 * 3600 + 0.5)
