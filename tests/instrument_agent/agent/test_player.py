"""The agent's player: MIDI in, hot swap without a dropout, recording to WAV, silent clock."""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest
import soundfile
from _perform_support import centroid_hz, make_personality, peak_hz, rms  # noqa: E402

from instrument_agent.agent import PlayerError, PlayerHost

SR = 16000
BLOCK = 128


def _harmonic_of(audio: np.ndarray, f0: float) -> bool:
    """The strongest partial is a harmonic of ``f0`` (random decoders favour any harmonic)."""
    peak = peak_hz(audio, SR)
    k = max(1, round(peak / f0))
    return abs(peak - k * f0) < 0.01 * k * f0


def _render(player: PlayerHost, seconds: float) -> np.ndarray:
    return np.concatenate([player.render_block(BLOCK) for _ in range(int(seconds * SR) // BLOCK)])


@pytest.fixture
def two_personalities(tmp_path):
    a = make_personality(tmp_path, seed=0)
    b = make_personality(tmp_path, seed=5, reverb_seconds=0.0)
    return a, b


def test_plays_a_note_at_its_pitch(two_personalities):
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    assert np.all(player.render_block(BLOCK) == 0)  # nothing loaded yet: silence, no error
    player.load(two_personalities[0])
    player.note(57, 110)  # A3
    audio = _render(player, 0.5)
    assert _harmonic_of(audio[SR // 10 :], 220.0)
    assert player.status()["voices"] == 1
    player.note(57, on=False)
    tail = _render(player, 0.6)
    assert rms(tail[-BLOCK * 4 :]) < 0.02 * rms(audio[SR // 10 :])
    with pytest.raises(PlayerError, match="out of the MIDI range"):
        player.note(200)


def test_hot_swap_keeps_the_held_note_without_dropout_or_click(two_personalities):
    a, b = two_personalities
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy", crossfade_s=0.05)
    reference = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    for p in (player, reference):
        p.load(a)
        p.send(mido.Message("control_change", channel=0, control=11, value=100))
        p.note(57, 110)
    before = _render(player, 0.4)
    _render(reference, 0.4)
    player.load(b)  # swap while the note is held
    after = _render(player, 0.4)
    unswapped = _render(reference, 0.4)
    assert player.swaps == 1 and player.playing.digest == b.digest
    audio = np.concatenate([before, after])
    # No dropout: every 5 ms window around and after the swap keeps at least a third of the level before it.
    level = rms(before[SR // 10 :])
    window = SR // 200
    start = before.size - 10 * window
    levels = [rms(audio[i : i + window]) for i in range(start, audio.size - window, window)]
    assert min(levels) > level / 3, f"dropout: min window level {min(levels):.4f} vs {level:.4f}"
    # No click: the largest sample step near the swap is no bigger than in steady playing (of either
    # personality: the incoming one is warmed up off the audio thread, so it enters at its held level).
    steady = max(np.max(np.abs(np.diff(before[SR // 10 :]))), np.max(np.abs(np.diff(after[-SR // 4 :]))))
    near = np.max(np.abs(np.diff(audio[before.size - window : before.size + int(0.06 * SR)])))
    assert near < 1.5 * steady + 1e-4
    # The note goes on at the same pitch, now with the new personality's timbre.
    assert _harmonic_of(after[-SR // 4 :], 220.0)
    assert not np.allclose(after[-SR // 4 :], unswapped[-SR // 4 :], atol=1e-3)
    assert abs(centroid_hz(after[-SR // 4 :], SR) - centroid_hz(unswapped[-SR // 4 :], SR)) > 1.0


def test_recording_writes_what_was_played(two_personalities, tmp_path):
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    player.load(two_personalities[0])
    with pytest.raises(PlayerError, match="not recording"):
        player.stop_recording(tmp_path)
    player.start_recording()
    player.note(60, 100)
    played = _render(player, 0.25)
    path = player.stop_recording(tmp_path / "rec")
    audio, rate = soundfile.read(path, dtype="float32")
    assert rate == SR
    np.testing.assert_array_equal(audio, played)
    assert path.name.startswith("recording-") and path.suffix == ".wav"


def test_silent_clock_keeps_time_without_an_audio_device(two_personalities):
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    player.load(two_personalities[0])
    status = player.start_audio(device=False)
    assert status.startswith("silent")
    try:
        time.sleep(0.3)
        assert 0.1 * SR < player.time < 0.6 * SR  # real time, roughly
    finally:
        player.stop()
    assert player.status()["audio"] == "stopped"


def test_midi_port_errors_are_reported_not_raised_into_the_audio(two_personalities):
    from instrument_agent.live.portaudio import MidiBackendError

    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    with pytest.raises(MidiBackendError):
        player.open_midi("no such port anywhere")
    assert player.status()["midi"].startswith("no MIDI input")
    assert isinstance(player.midi_inputs(), list)
