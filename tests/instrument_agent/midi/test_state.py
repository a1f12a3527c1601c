import mido
import numpy as np
import pytest

from instrument_agent.midi import ControlMapping, MidiState
from instrument_agent.profiles import default_player_profile


def msg(kind, **kw):
    return mido.Message(kind, **kw)


def mpe_config(state, master, members):
    events = []
    for control, value in ((101, 0), (100, 6), (6, members)):
        events += state.apply(msg("control_change", channel=master, control=control, value=value))
    return events


def test_plain_midi_bend_uses_two_semitones_and_rpn0_changes_it():
    state = MidiState()
    [on] = state.apply(msg("note_on", channel=2, note=60, velocity=100))
    state.apply(msg("pitchwheel", channel=2, pitch=8191))
    assert state.note_values(on.note)[0] == pytest.approx(62.0)
    for control, value in ((101, 0), (100, 0), (6, 12), (38, 0)):
        state.apply(msg("control_change", channel=2, control=control, value=value))
    assert state.note_values(on.note)[0] == pytest.approx(72.0)


def test_mpe_lower_zone_per_note_bends_of_48_semitones_plus_master_bend():
    state = MidiState()
    mpe_config(state, 0, 15)
    assert state.zones.active and state.zones.is_member(1) and state.zones.is_member(15)
    [a] = state.apply(msg("note_on", channel=1, note=60, velocity=100))
    [b] = state.apply(msg("note_on", channel=2, note=60, velocity=100))
    state.apply(msg("pitchwheel", channel=1, pitch=8191))
    state.apply(msg("pitchwheel", channel=2, pitch=-8192))
    assert state.note_values(a.note)[0] == pytest.approx(108.0)
    assert state.note_values(b.note)[0] == pytest.approx(12.0)
    state.apply(msg("pitchwheel", channel=0, pitch=-8192))  # master: whole zone, 2 semitones
    assert state.note_values(a.note)[0] == pytest.approx(106.0)


def test_pitch_alone_is_note_values_pitch_with_member_and_master_bends():
    state = MidiState()
    mpe_config(state, 0, 15)
    [member] = state.apply(msg("note_on", channel=3, note=52, velocity=90))
    [master] = state.apply(msg("note_on", channel=0, note=60, velocity=90))
    [plain] = state.apply(msg("note_on", channel=15, note=70, velocity=90))  # in the zone's 15 members too
    for pitch_member, pitch_master in ((0, 0), (1234, 0), (-8192, 8191), (8191, -3000)):
        state.apply(msg("pitchwheel", channel=3, pitch=pitch_member))
        state.apply(msg("pitchwheel", channel=0, pitch=pitch_master))
        for note in (member, master, plain):
            assert state.pitch(note.note) == state.note_values(note.note)[0]  # the same float, bit for bit
    assert state.pitch(member.note) == pytest.approx(52 + 8191 / 8191 * 48 - 3000 / 8192 * 2)


def test_upper_zone_and_overlap():
    state = MidiState()
    mpe_config(state, 15, 4)
    assert [c for c in range(16) if state.zones.is_member(c)] == [11, 12, 13, 14]
    mpe_config(state, 0, 12)  # lower zone takes 1..12: the upper zone shrinks to 13..14
    assert state.zones.upper_members == 2 and state.zones.zone_of(12) == "lower"
    mpe_config(state, 0, 0)
    assert state.zones.lower_members == 0 and state.zones.zone_of(3) is None


def test_pressure_timbre_and_volume_are_per_note_in_mpe():
    state = MidiState()
    mpe_config(state, 0, 15)
    [a] = state.apply(msg("note_on", channel=1, note=60, velocity=100))
    [b] = state.apply(msg("note_on", channel=2, note=64, velocity=100))
    state.apply(msg("aftertouch", channel=1, value=127))
    state.apply(msg("control_change", channel=2, control=74, value=127))
    state.apply(msg("control_change", channel=0, control=11, value=64))  # master expression: both
    pa, pb = state.note_values(a.note), state.note_values(b.note)
    assert pa[1] == 1.0 and pb[1] == 0.0
    assert pa[2] == pytest.approx(0.5, abs=0.01) and pb[2] == 1.0
    assert pa[3] == pytest.approx(40 * np.log10(64 / 127)) == pb[3]


def test_poly_aftertouch_in_plain_midi():
    state = MidiState()
    [a] = state.apply(msg("note_on", note=60, velocity=100))
    [b] = state.apply(msg("note_on", note=67, velocity=100))
    state.apply(msg("polytouch", note=67, value=127))
    assert state.note_values(a.note)[1] == 0.0 and state.note_values(b.note)[1] == 1.0


def test_all_notes_off_reset_and_all_sound_off_end_hung_notes():
    state = MidiState()
    for note in (60, 64, 67):
        state.apply(msg("note_on", channel=3, note=note, velocity=100))
    events = state.apply(msg("control_change", channel=3, control=123, value=0))
    assert [e.kind for e in events] == ["off"] * 3 and not state.notes
    state.apply(msg("note_on", channel=4, note=50, velocity=100))
    assert [e.kind for e in state.apply(msg("control_change", channel=4, control=120, value=0))] == ["cut"]
    mpe_config(state, 0, 7)
    state.apply(msg("note_on", channel=5, note=50, velocity=100))
    events = state.apply(mido.Message("reset"))
    assert [e.kind for e in events] == ["cut"] and not state.notes and not state.zones.active


def test_sustain_pedal_defers_note_off_and_retrigger_releases_the_old_note():
    state = MidiState()
    state.apply(msg("control_change", control=64, value=127))
    state.apply(msg("note_on", note=60, velocity=100))
    assert state.apply(msg("note_off", note=60)) == [] and len(state.notes) == 1
    assert [e.kind for e in state.apply(msg("control_change", control=64, value=0))] == ["off"]
    state.apply(msg("note_on", note=62, velocity=100))
    assert [e.kind for e in state.apply(msg("note_on", note=62, velocity=90))] == ["off", "on"]
    assert [e.kind for e in state.apply(msg("note_on", note=62, velocity=0))] == ["off"]


def test_mapping_from_the_player_profile():
    profile = default_player_profile()
    profile.transpose = 12
    mapping = ControlMapping.from_profile(profile, reference_db=-20.0)
    assert mapping.f0_hz(np.array([57.0]))[0] == pytest.approx(440.0)
    assert mapping.loudness_db(np.array([127]), np.array([0.0]), np.array([0.0]))[0] == pytest.approx(-20.0)
    assert mapping.loudness_db(np.array([1]), np.array([0.0]), np.array([0.0]))[0] == pytest.approx(-50.0)
    assert mapping.loudness_db(np.array([1]), np.array([1.0]), np.array([0.0]))[0] == pytest.approx(-26.0)
    assert mapping.tilt(np.array([0.5]))[0] == pytest.approx(0.0) and mapping.tilt(np.array([1.0]))[0] == pytest.approx(
        6.0
    )
