"""Expression in the engine: MPE messages at their own samples, no zipper, inputs frozen ahead of a frame."""

import mido
import numpy as np
import pytest
from _mpe_performance import mpe_performance
from _perform_support import block_size_tolerance, make_personality

from instrument_agent.engine import Engine, expression
from instrument_agent.profiles import default_player_profile

m = mido.Message


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("expression"))


def smooth_profile():
    """Harmonics only (no noise, no reverb), a gentle tilt: a step would stand out above them."""
    profile = default_player_profile()
    profile.noise_gain_db, profile.reverb_mix, profile.harmonic_tilt = -120.0, 0.0, -12.0
    return profile


def play(bundle, events, samples, block, sample_rate=16000, profile=None):
    engine = Engine.from_bundle(bundle, sample_rate=sample_rate, player_profile=profile)
    for at, message in events:
        engine.send(message, at=at)
    audio = np.concatenate([engine.render(min(block, samples - i)) for i in range(0, samples, block)])
    return engine, audio


def test_an_expressive_mpe_performance_sounds_the_same_with_any_block_size(bundle):
    """Four notes each sending bend, pressure and CC74 every 40 samples at their own offsets:
    blocks of 64 (steps done ahead of their boundary), 100 and 2048 samples (spans of many frames)."""
    events = mpe_performance(4, 0.6, 16000, period=40)
    renders = [play(bundle, events, 9600, block)[1] for block in (64, 100, 2048)]
    assert np.sqrt(np.mean(renders[0] ** 2)) > 1e-3
    for other in renders[1:]:
        assert np.abs(other - renders[0]).max() < block_size_tolerance(renders[0])


def test_glides_of_many_voices_built_at_once_sound_as_voice_by_voice(bundle, monkeypatch):
    """16 voices bending every block: their glide knots built with numpy for all voices at once
    give the same audio, bit for bit, as built voice by voice (the path for a few voices)."""
    events = mpe_performance(16, 0.5, 16000, period=64)
    together = play(bundle, events, 8000, 64)[1]
    monkeypatch.setattr(expression, "_VECTOR_ROWS", 10**6)
    alone = play(bundle, events, 8000, 64)[1]
    assert np.sqrt(np.mean(together**2)) > 1e-3
    np.testing.assert_array_equal(together, alone)


def test_a_note_sounds_at_its_sample_inside_the_block(bundle):
    _, audio = play(bundle, [(128 * 5 + 37, m("note_on", note=60, velocity=100))], 1280, 128)
    assert np.all(audio[: 128 * 5 + 37] == 0) and np.abs(audio[128 * 5 + 38 : 128 * 5 + 60]).max() > 0


def _step_level_db(audio, at, sample_rate, cutoff_hz=6000.0):
    """Energy above ``cutoff_hz`` (far above the note's partials, which the tilt keeps low) in
    10 ms windows around sample ``at``, over the largest in the steady quarter second before, dB.
    A step in a controller's effect (a zipper) spreads energy over the whole spectrum."""
    w = sample_rate // 100
    hi = np.fft.rfftfreq(w, 1 / sample_rate) > cutoff_hz
    window = np.hanning(w)

    def energy(s0):
        return np.sum(np.abs(np.fft.rfft(audio[s0 : s0 + w] * window))[hi] ** 2)

    near = max(energy(at + o) for o in range(-w, w, w // 8))
    steady = max(energy(s) for s in range(at - sample_rate // 4, at - sample_rate // 24, w // 2))
    return 10 * np.log10(near / steady)


def test_controller_jumps_make_no_zipper(bundle):
    """Pressure, CC74 and pitch bend jump from rest to full, mid-block: the energy above the partials
    around the jump stays at the steady level (measured: -0.2, -0.2 and +1.1 dB at 48 kHz), while a
    bend applied as a step (no glide) measures +20 dB and a gain switched in one sample +100 dB."""
    sr, at = 48000, int(0.4 * 48000) + 37
    note = [(0, m("note_on", note=57, velocity=90))]
    levels = {}
    for name, message in (
        ("pressure", m("aftertouch", value=127)),
        ("cc74", m("control_change", control=74, value=127)),
        ("bend", m("pitchwheel", pitch=8191)),
    ):
        _, audio = play(bundle, note + [(at, message)], int(0.6 * sr), 128, sr, smooth_profile())
        levels[name] = _step_level_db(audio, at, sr)
    assert max(levels.values()) < 3.0, levels
    # The measure sees a zipper: the same bend without its glide, and a pressure switched at once.
    stepped = Engine.from_bundle(bundle, sample_rate=sr, player_profile=smooth_profile())
    stepped._glide_len = 1.0  # a pitch step at the message's sample
    for t, message in note + [(at, m("pitchwheel", pitch=8191))]:
        stepped.send(message, at=t)
    audio = np.concatenate([stepped.render(128) for _ in range(int(0.6 * sr) // 128)])
    assert _step_level_db(audio, at, sr) > 10.0
    _, quiet = play(bundle, note, int(0.6 * sr), 128, sr, smooth_profile())
    _, loud = play(bundle, note + [(0, m("aftertouch", value=127))], int(0.6 * sr), 128, sr, smooth_profile())
    assert _step_level_db(np.concatenate([quiet[:at], loud[at:]]), at, sr) > 10.0


def test_decoder_inputs_are_those_of_the_lead_before_the_frame_boundary(bundle):
    """A pressure change just before frame k's freeze point (boundary - lead) reaches frame k;
    one just after it reaches frame k + 1. latency_samples reports frame + lead."""
    engine = Engine.from_bundle(bundle, sample_rate=16000)
    frame = 16000 // 50
    lead = engine.latency_samples - frame
    assert 0 < lead <= frame // 2
    k = 20
    freeze = k * frame - lead
    note = [(0, m("note_on", note=57, velocity=60))]
    _, plain = play(bundle, note, (k + 3) * frame, 64)
    _, early = play(bundle, note + [(freeze - 1, m("aftertouch", value=127))], (k + 3) * frame, 64)
    _, late = play(bundle, note + [(freeze, m("aftertouch", value=127))], (k + 3) * frame, 64)
    frame_k = slice(k * frame, (k + 1) * frame)
    assert np.array_equal(early[: k * frame], plain[: k * frame])
    assert np.abs(early[frame_k] - plain[frame_k]).max() > 1e-3
    assert np.array_equal(late[: (k + 1) * frame], plain[: (k + 1) * frame])
    assert np.abs(late[(k + 1) * frame :] - plain[(k + 1) * frame :]).max() > 1e-3
