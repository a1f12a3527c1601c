"""The streaming engine on a small random personality: real MIDI, real audio measurements."""

import mido
import numpy as np
import pytest
from _perform_support import block_size_tolerance, centroid_hz, make_personality, peak_hz, rms

from instrument_agent.engine import Engine, EngineConfigError
from instrument_agent.profiles import default_player_profile

SR = 16000


def pure_profile(**changes):
    """A profile whose sound is nearly a sine at f0 (steep tilt, no noise, no reverb) for pitch checks."""
    profile = default_player_profile()
    profile.harmonic_tilt = -60.0
    profile.noise_gain_db = -120.0
    profile.reverb_mix = 0.0
    for key, value in changes.items():
        setattr(profile, key, value)
    return profile


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("engine"))


def engine(bundle, sample_rate=SR, profile=None, **kw):
    return Engine.from_bundle(bundle, sample_rate=sample_rate, player_profile=profile, **kw)


def play(eng, events, seconds, block):
    for at, message in events:
        eng.send(message, at=int(at * eng.sample_rate))
    total = int(seconds * eng.sample_rate)
    return np.concatenate([eng.render(min(block, total - i)) for i in range(0, total, block)])


def song():
    """A chord, overlapping notes, plain bends, an MPE zone with per-note bends and pressure."""
    m = mido.Message
    return [
        (0.0, m("note_on", note=48, velocity=100)),
        (0.0, m("note_on", note=55, velocity=80)),
        (0.013, m("note_on", note=60, velocity=70)),
        (0.21, m("pitchwheel", pitch=4000)),
        (0.3, m("note_off", note=48)),
        (0.31, m("note_on", note=62, velocity=110)),
        (0.4, m("control_change", control=123, value=0)),
        (0.41, m("control_change", channel=0, control=101, value=0)),
        (0.41, m("control_change", channel=0, control=100, value=6)),
        (0.41, m("control_change", channel=0, control=6, value=15)),
        (0.45, m("pitchwheel", channel=1, pitch=-3000)),
        (0.45, m("note_on", channel=1, note=57, velocity=90)),
        (0.47, m("note_on", channel=2, note=64, velocity=90)),
        (0.55, m("aftertouch", channel=1, value=120)),
        (0.6, m("pitchwheel", channel=2, pitch=6000)),
        (0.7, m("note_off", channel=1, note=57)),
    ]


@pytest.mark.parametrize("sample_rate", [16000, 44100, 48000])
def test_output_does_not_depend_on_the_block_size(bundle, sample_rate):
    small = play(engine(bundle, sample_rate), song(), 0.9, 64)
    large = play(engine(bundle, sample_rate), song(), 0.9, 1024)
    assert rms(small) > 1e-3
    assert np.abs(small - large).max() < block_size_tolerance(small)


def test_same_events_and_seed_give_the_same_audio_and_another_seed_other_noise(bundle):
    a = play(engine(bundle, seed=1), song(), 0.5, 256)
    b = play(engine(bundle, seed=1), song(), 0.5, 256)
    c = play(engine(bundle, seed=2), song(), 0.5, 256)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_mpe_per_note_bend_of_48_semitones_gives_the_right_pitch(bundle):
    m = mido.Message
    events = [(0.0, m("control_change", channel=0, control=c, value=v)) for c, v in ((101, 0), (100, 6), (6, 15))]
    events += [(0.0, m("pitchwheel", channel=3, pitch=8191)), (0.0, m("note_on", channel=3, note=33, velocity=100))]
    eng = engine(bundle, 48000, pure_profile())
    audio = play(eng, events, 0.6, 128)
    # key 33 (55 Hz) + 48 semitones = key 81 = 880 Hz
    assert peak_hz(audio[9600:], 48000) == pytest.approx(880.0, rel=0.005)
    eng.send(m("note_off", channel=3, note=33))
    eng.send(m("pitchwheel", channel=4, pitch=-8192))  # key 100 - 48 semitones
    eng.send(m("pitchwheel", channel=0, pitch=8191))  # + the master's 2 semitones
    eng.send(m("note_on", channel=4, note=100, velocity=100))
    audio = eng.render(int(0.5 * 48000))
    expected = 440.0 * 2 ** ((100 - 48 + 2 - 69) / 12)
    assert peak_hz(audio[4800:], 48000) == pytest.approx(expected, rel=0.01)


def test_plain_pitch_bend_and_transpose(bundle):
    m = mido.Message
    events = [(0.0, m("note_on", note=69, velocity=100)), (0.0, m("pitchwheel", pitch=8191))]
    audio = play(engine(bundle, SR, pure_profile(transpose=-12.0)), events, 0.5, 256)
    assert peak_hz(audio[1600:], SR) == pytest.approx(220.0 * 2 ** (2 / 12), rel=0.005)


def test_pressure_raises_the_loudness(bundle):
    m = mido.Message
    mpe = [(0.0, m("control_change", channel=0, control=c, value=v)) for c, v in ((101, 0), (100, 6), (6, 15))]
    quiet = play(engine(bundle), mpe + [(0.0, m("note_on", channel=1, note=57, velocity=60))], 0.5, 256)
    loud = play(
        engine(bundle),
        mpe + [(0.0, m("note_on", channel=1, note=57, velocity=60)), (0.0, m("aftertouch", channel=1, value=127))],
        0.5,
        256,
    )
    assert rms(loud[2000:]) > 1.5 * rms(quiet[2000:])


def test_all_notes_off_and_reset_end_hung_notes(bundle):
    m = mido.Message
    for stop in (m("control_change", control=123, value=0), m("reset")):
        eng = engine(bundle)
        events = [(0.0, m("note_on", note=60, velocity=100)), (0.0, m("note_on", note=67, velocity=100)), (0.2, stop)]
        audio = play(eng, events, 0.7, 256)
        assert rms(audio[1000:3000]) > 1e-3
        assert eng.active_voices == 0
        # Only the reverb tail is left: far below the notes.
        assert rms(audio[-1600:]) < 0.05 * rms(audio[1000:3000])


def _edge_jump_ratio(audio, edges, steady):
    """Largest sample-to-sample jump within 10 ms of the edges, over the largest jump of the steady part."""
    jumps = np.abs(np.diff(audio))
    near = max(jumps[max(e - 160, 0) : e + 160].max() for e in edges)
    return near / jumps[steady].max()


def test_note_on_and_off_are_click_free(bundle):
    m = mido.Message
    profile = default_player_profile()
    profile.reverb_mix = 0.0
    profile.harmonic_tilt = -12.0  # a smooth wave, where a click would stand out
    profile.envelope.attack_s = 0.0  # even with no attack asked, the engine ramps over 2 ms
    profile.envelope.release_s = 0.0
    events = [(0.05, m("note_on", note=45, velocity=127)), (0.3, m("note_off", note=45))]
    audio = play(engine(bundle, SR, profile), events, 0.4, 128)
    onset, offset = int(0.05 * SR), int(0.3 * SR)
    assert np.all(audio[:onset] == 0) and abs(audio[onset]) < 1e-6
    assert np.all(audio[offset + int(0.006 * SR) :] == 0)
    steady = slice(onset + 800, offset - 400)
    assert _edge_jump_ratio(audio, [onset, offset], steady) < 1.2
    cut = offset - 400 + int(np.argmax(np.abs(audio[offset - 400 : offset - 100])))
    hard = audio.copy()
    hard[cut:] = 0.0  # what a hard gate would do: the measure catches it
    assert _edge_jump_ratio(hard, [cut], steady) > 2.0


def test_voice_stealing_keeps_max_voices(bundle):
    m = mido.Message
    profile = default_player_profile()
    profile.max_voices = 3
    eng = engine(bundle, SR, profile)
    for i, note in enumerate((60, 62, 64, 65, 67)):
        eng.send(m("note_on", note=note, velocity=100), at=i * 800)
    audio = eng.render(8000)
    assert eng.active_voices == 3
    # Stolen voices fade: no jump at a steal larger than the steady chord's.
    assert _edge_jump_ratio(audio, [2400, 3200], slice(4000, 8000 - 1)) < 1.5


def test_gain_scales_rms_by_the_asked_db(bundle):
    events = [(0.0, mido.Message("note_on", note=57, velocity=100))]
    base = play(engine(bundle, SR, pure_profile()), events, 0.4, 256)
    louder = play(engine(bundle, SR, pure_profile(gain_db=6.0)), events, 0.4, 256)
    assert 20 * np.log10(rms(louder) / rms(base)) == pytest.approx(6.0, abs=0.01)


def test_tilt_and_cc74_move_the_spectral_centroid(bundle):
    m = mido.Message
    events = [(0.0, m("note_on", note=45, velocity=100))]

    def profile(tilt):
        p = default_player_profile()
        p.harmonic_tilt, p.noise_gain_db, p.reverb_mix = tilt, -120.0, 0.0
        return p

    dark = play(engine(bundle, SR, profile(-6.0)), events, 0.4, 256)
    bright = play(engine(bundle, SR, profile(6.0)), events, 0.4, 256)
    assert centroid_hz(bright[1600:], SR) > 1.3 * centroid_hz(dark[1600:], SR)
    timbre = play(
        engine(bundle, SR, profile(-6.0)), events + [(0.0, m("control_change", control=74, value=127))], 0.4, 256
    )
    assert centroid_hz(timbre[1600:], SR) > 1.3 * centroid_hz(dark[1600:], SR)


def test_noise_gain_reverb_mix_and_loudness_offset_are_measurable(bundle):
    events = [(0.0, mido.Message("note_on", note=57, velocity=100)), (0.2, mido.Message("note_off", note=57))]

    def render(**changes):
        p = default_player_profile()
        for k, v in changes.items():
            setattr(p, k, v)
        return play(engine(bundle, SR, p), events, 0.5, 256)

    harmonic_only = render(noise_gain_db=-120.0, reverb_mix=0.0)
    noise_0db = render(noise_gain_db=0.0, reverb_mix=0.0)[:3200] - harmonic_only[:3200]
    noise_20db = render(noise_gain_db=20.0, reverb_mix=0.0)[:3200] - harmonic_only[:3200]
    assert rms(noise_0db) > 0
    assert 20 * np.log10(rms(noise_20db) / rms(noise_0db)) == pytest.approx(20.0, abs=0.1)
    dry, wet, half = render(reverb_mix=0.0), render(reverb_mix=1.0), render(reverb_mix=0.5)
    tail = slice(int(0.36 * SR), int(0.45 * SR))  # after the release (0.15 s) ended: only reverb
    assert np.all(dry[tail] == 0) and rms(wet[tail]) > 1e-4
    assert np.allclose(half - dry, 0.5 * (wet - dry), atol=1e-6)
    assert rms(render(loudness_offset_db=-30.0, reverb_mix=0.0)) != pytest.approx(rms(dry), rel=0.05)


def test_envelope_attack_shapes_the_onset(bundle):
    events = [(0.0, mido.Message("note_on", note=57, velocity=100))]
    p = pure_profile()
    p.envelope.attack_s = 0.2
    slow = play(engine(bundle, SR, p), events, 0.4, 256)
    fast = play(engine(bundle, SR, pure_profile()), events, 0.4, 256)
    early = slice(0, int(0.05 * SR))
    assert rms(slow[early]) < 0.3 * rms(fast[early])
    assert rms(slow[int(0.3 * SR) :]) == pytest.approx(rms(fast[int(0.3 * SR) :]), rel=0.2)


def test_profile_change_takes_effect_without_a_new_engine(bundle):
    eng, unchanged = engine(bundle, SR, pure_profile()), engine(bundle, SR, pure_profile())
    for e in (eng, unchanged):
        e.send(mido.Message("note_on", note=57, velocity=100))
        e.render(3200)
    eng.set_player_profile(pure_profile(gain_db=-20.0))
    after, reference = eng.render(4800), unchanged.render(4800)
    assert 20 * np.log10(rms(after) / rms(reference)) == pytest.approx(-20.0, abs=0.01)
    eng.set_player_profile(pure_profile(transpose=12.0))
    after, reference = eng.render(4800), unchanged.render(4800)
    assert peak_hz(after[1600:], SR) == pytest.approx(2 * peak_hz(reference[1600:], SR), rel=0.01)


def test_curves_drive_a_voice(bundle):
    eng = engine(bundle, SR, pure_profile())
    eng.play_curves(np.full(20, 330.0), np.full(20, -25.0), at=0)
    audio = eng.render(int(0.6 * SR))
    assert peak_hz(audio[1600:6000], SR) == pytest.approx(330.0, rel=0.005)
    assert np.all(audio[int(0.56 * SR) :] == 0)  # released when the curves end (0.4 s + 0.15 s release)


def test_bad_settings_are_refused(bundle):
    with pytest.raises(EngineConfigError, match="sample rate 8000"):
        engine(bundle, 8000)


def test_rendering_many_control_frames_at_once_equals_small_blocks(bundle):
    small = play(engine(bundle, 48000), song(), 0.9, 64)
    eng = engine(bundle, 48000)
    whole = play(eng, song(), 0.9, int(0.9 * 48000))  # spans of up to 32 frames between events
    assert np.abs(small - whole).max() < block_size_tolerance(small)


def test_a_pitch_bend_is_heard_at_its_sample_not_at_the_next_control_frame(bundle):
    m = mido.Message
    at = int(0.205 * SR)  # a quarter of a control frame (20 ms) after a frame boundary
    note = [(0.0, m("note_on", note=69, velocity=100))]
    plain = play(engine(bundle, SR, pure_profile()), note, 0.25, 128)
    bent = play(engine(bundle, SR, pure_profile()), note + [(at / SR, m("pitchwheel", pitch=8191))], 0.25, 128)
    assert np.abs(bent[:at] - plain[:at]).max() < 1e-6 and np.abs(bent[at : at + 8] - plain[at : at + 8]).max() > 1e-3
    before_next_frame = bent[at : int(0.22 * SR)]  # 240 samples, all before the next boundary
    assert peak_hz(before_next_frame, SR) == pytest.approx(440.0 * 2 ** (2 / 12), rel=0.03)


def test_work_done_ahead_of_a_frame_boundary_is_dropped_when_the_profile_changes(bundle):
    """Small blocks compute the next boundary's step ahead; a profile change in between must win."""

    def run(block, change=True):
        eng = engine(bundle, SR, pure_profile(noise_gain_db=0.0))
        eng.send(mido.Message("note_on", note=57, velocity=100))
        first = np.concatenate([eng.render(block) for _ in range(3200 // block)])
        if change:
            eng.set_player_profile(pure_profile(noise_gain_db=30.0))  # changes no decoder input
        return np.concatenate([first] + [eng.render(block) for _ in range(3200 // block)])

    ahead, direct, unchanged = run(128), run(1600), run(128, change=False)  # 128 < a control frame (320) <= 1600
    assert rms(ahead[3520:] - unchanged[3520:]) > 0.005 * rms(unchanged[3520:])  # the louder noise is heard
    assert np.abs(ahead - direct).max() < block_size_tolerance(direct)


def test_pressure_moving_within_control_frames_does_not_make_the_block_size_heard(bundle):
    """Two MPE voices whose pressure changes at different samples of every frame: small blocks
    start a frame's step ahead and drop it when the second change comes; the voices encoded
    together must still be those a whole-frame block encodes together."""
    m = mido.Message
    events = [(0.0, m("control_change", channel=0, control=c, value=v)) for c, v in ((101, 0), (100, 6), (6, 15))]
    events += [
        (0.0, m("note_on", channel=1, note=57, velocity=90)),
        (0.0, m("note_on", channel=2, note=64, velocity=90)),
    ]
    frame = SR // 50
    for k in range(1, 20):
        events.append(((k * frame + 10) / SR, m("aftertouch", channel=1, value=(7 * k) % 128)))
        events.append(((k * frame + 100) / SR, m("aftertouch", channel=2, value=(11 * k) % 128)))
    small, large = play(engine(bundle), events, 0.5, 64), play(engine(bundle), events, 0.5, 1024)
    assert rms(small) > 1e-3
    assert np.abs(small - large).max() < block_size_tolerance(small)


def test_curves_sound_the_same_with_any_block_size(bundle):
    def run(block):
        eng = engine(bundle)
        eng.play_curves(np.linspace(200.0, 400.0, 40), np.linspace(-40.0, -10.0, 40), at=100)
        return np.concatenate([eng.render(block) for _ in range(12800 // block)])

    small, large = run(64), run(1600)
    assert rms(small) > 1e-3
    assert np.abs(small - large).max() < block_size_tolerance(small)
