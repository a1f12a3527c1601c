"""Loading real audio files of many formats, rates and channel layouts."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from pipelines.data import AudioReadError, SilentAudioError, load_audio, trim_silence


def _tone(freq: float, seconds: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(audio: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * sample_rate / audio.size)


@pytest.mark.parametrize(
    "rate, channels, subtype, fmt, suffix",
    [
        (22050, 1, "PCM_16", "WAV", ".wav"),
        (44100, 2, "PCM_24", "FLAC", ".flac"),
        (48000, 2, "FLOAT", "WAV", ".wav"),
        (32000, 1, "VORBIS", "OGG", ".ogg"),
        (44100, 1, "PCM_16", "AIFF", ".aiff"),
    ],
)
def test_any_rate_channels_and_format_become_mono_at_profile_rate(tmp_path, rate, channels, subtype, fmt, suffix):
    tone = _tone(440.0, 1.0, rate)
    data = np.stack([tone] * channels, axis=1) if channels > 1 else tone
    path = tmp_path / f"tone{suffix}"
    soundfile.write(str(path), data, rate, subtype=subtype, format=fmt)

    loaded = load_audio(path, 16000)

    assert loaded.audio.dtype == np.float32 and loaded.audio.ndim == 1
    assert loaded.sample_rate == 16000 and loaded.source_sample_rate == rate and loaded.source_channels == channels
    assert loaded.seconds == pytest.approx(1.0, abs=0.03)
    assert _peak_hz(loaded.audio, 16000) == pytest.approx(440.0, abs=2.0)
    assert np.sqrt(np.mean(loaded.audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_stereo_is_averaged(tmp_path):
    rate = 16000
    left, right = _tone(300.0, 1.0, rate, 0.6), _tone(300.0, 1.0, rate, 0.2)
    path = tmp_path / "stereo.wav"
    soundfile.write(str(path), np.stack([left, right], axis=1), rate, subtype="FLOAT")
    loaded = load_audio(path, rate)
    assert np.allclose(loaded.audio, (left + right) / 2, atol=1e-6)


def test_leading_and_trailing_silence_is_trimmed(tmp_path):
    rate = 22050
    audio = np.concatenate([np.zeros(rate), _tone(440.0, 1.0, rate), np.zeros(2 * rate)])
    path = tmp_path / "padded.wav"
    soundfile.write(str(path), audio, rate, subtype="PCM_16")
    loaded = load_audio(path, 16000)
    assert loaded.start_s == pytest.approx(0.95, abs=0.03)
    assert loaded.end_s == pytest.approx(2.05, abs=0.03)
    assert loaded.seconds == pytest.approx(1.1, abs=0.05)


def test_trim_silence_span():
    audio = np.concatenate([np.zeros(1000), np.ones(500) * 0.1, np.zeros(1000)]).astype(np.float32)
    start, end = trim_silence(audio, 10000)
    assert start <= 1000 and end >= 1500 and start >= 1000 - 500 - 200 and end <= 1500 + 500 + 200
    assert trim_silence(np.zeros(5000, np.float32), 10000) == (0, 0)


def test_missing_file(tmp_path):
    with pytest.raises(AudioReadError, match=r"nope\.wav: no such audio file"):
        load_audio(tmp_path / "nope.wav", 16000)


def test_corrupt_file_names_the_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not audio" * 3)
    with pytest.raises(AudioReadError) as info:
        load_audio(path, 16000)
    assert info.value.path == str(path) and "not a readable audio file" in str(info.value)


def test_truncated_flac_is_an_audio_read_error(tmp_path):
    path = tmp_path / "cut.flac"
    soundfile.write(str(path), _tone(440.0, 2.0, 16000), 16000, format="FLAC")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(AudioReadError, match="cut.flac"):
        load_audio(path, 16000)


def test_non_finite_float_samples(tmp_path):
    audio = _tone(440.0, 1.0, 16000)
    audio[100] = np.nan
    path = tmp_path / "nan.wav"
    soundfile.write(str(path), audio, 16000, subtype="FLOAT")
    with pytest.raises(AudioReadError, match="NaN"):
        load_audio(path, 16000)


@pytest.mark.parametrize("level", [0.0, 1e-4])
def test_silence_only(tmp_path, level):
    path = tmp_path / "silence.wav"
    soundfile.write(
        str(path), np.full(16000, level, np.float32) * np.sign(np.arange(16000) % 2 - 0.5), 16000, subtype="FLOAT"
    )
    with pytest.raises(SilentAudioError, match="silence.wav: is silent"):
        load_audio(path, 16000)
