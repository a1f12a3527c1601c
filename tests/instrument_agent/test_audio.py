"""The project's audio loader and resampler, on real files written with soundfile."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from instrument_agent.audio import (
    AudioFileError,
    EmptyAudioError,
    NonFiniteAudioError,
    UnreadableAudioError,
    read_mono,
    resample,
)


def _tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(audio: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * rate / audio.size)


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


@pytest.mark.parametrize(
    "rate, channels, subtype, fmt, name",
    [
        (44100, 1, "PCM_16", "WAV", "tone.wav"),
        (44100, 2, "PCM_24", "FLAC", "tone.flac"),
        (8000, 1, "FLOAT", "WAV", "tone.wav"),
        (8000, 2, "PCM_16", "FLAC", "tone.flac"),
    ],
)
@pytest.mark.parametrize("target", [16000, 48000])
def test_any_format_rate_and_channels_to_mono_at_the_target_rate(tmp_path, rate, channels, subtype, fmt, name, target):
    tone = _tone(440.0, 1.0, rate)
    path = tmp_path / name
    soundfile.write(str(path), np.stack([tone] * channels, axis=1) if channels > 1 else tone, rate, subtype, format=fmt)

    loaded = read_mono(path, target)

    assert loaded.audio.dtype == np.float32 and loaded.audio.ndim == 1
    assert (loaded.sample_rate, loaded.source_sample_rate, loaded.source_channels) == (target, rate, channels)
    assert loaded.audio.size == round(tone.size * target / rate)
    assert _peak_hz(loaded.audio, target) == pytest.approx(440.0, abs=1.0)
    body = loaded.audio[target // 10 : -target // 10]  # away from the filter's edges
    assert _rms(body) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_without_a_rate_the_files_rate_is_kept_and_stereo_is_averaged(tmp_path):
    left, right = _tone(300.0, 0.5, 44100, 0.6), _tone(300.0, 0.5, 44100, 0.2)
    path = tmp_path / "stereo.wav"
    soundfile.write(str(path), np.stack([left, right], axis=1), 44100, subtype="FLOAT")
    loaded = read_mono(path)
    assert loaded.sample_rate == 44100 and loaded.seconds == pytest.approx(0.5)
    np.testing.assert_allclose(loaded.audio, (left + right) / 2, atol=1e-7)


def test_the_format_comes_from_the_content_not_the_extension(tmp_path):
    path = tmp_path / "actually-flac.wav"
    soundfile.write(str(path), _tone(440.0, 0.5, 22050), 22050, format="FLAC")
    loaded = read_mono(path, 16000)
    assert loaded.source_sample_rate == 22050 and _peak_hz(loaded.audio, 16000) == pytest.approx(440.0, abs=2.0)


def test_a_missing_file(tmp_path):
    with pytest.raises(UnreadableAudioError) as info:
        read_mono(tmp_path / "nope.wav")
    assert str(info.value) == f"{tmp_path / 'nope.wav'}: no such audio file"


@pytest.mark.parametrize(
    "name, content",
    [
        ("noise.wav", bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))),
        ("header-only.wav", b"RIFF\x24\x00\x00\x00WAVEfmt garbage that is not audio"),
        ("song.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64),
    ],
)
def test_bytes_that_are_not_audio(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableAudioError) as info:
        read_mono(path, 16000)
    assert info.value.path == str(path) and str(info.value).startswith(f"{path}: not a readable audio file (")


def test_a_truncated_flac(tmp_path):
    path = tmp_path / "cut.flac"
    soundfile.write(str(path), _tone(440.0, 2.0, 16000), 16000, format="FLAC")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(UnreadableAudioError, match=r"cut\.flac: not a readable audio file"):
        read_mono(path)


def test_an_empty_file_is_not_audio_and_an_empty_wav_holds_no_samples(tmp_path):
    (tmp_path / "zero-bytes.wav").write_bytes(b"")
    with pytest.raises(UnreadableAudioError, match=r"zero-bytes\.wav: not a readable audio file"):
        read_mono(tmp_path / "zero-bytes.wav")
    soundfile.write(str(tmp_path / "empty.wav"), np.zeros(0, np.float32), 16000)
    with pytest.raises(EmptyAudioError) as info:
        read_mono(tmp_path / "empty.wav", 48000)
    assert str(info.value) == f"{tmp_path / 'empty.wav'}: holds no audio samples"


def test_nan_samples_are_counted_and_located(tmp_path):
    audio = _tone(440.0, 1.0, 16000)
    audio[1600:1612] = np.nan
    path = tmp_path / "song.wav"
    soundfile.write(str(path), audio, 16000, subtype="FLOAT")
    with pytest.raises(NonFiniteAudioError) as info:
        read_mono(path, 16000)
    assert info.value.count == 12
    assert str(info.value) == f"{path}: 12 samples are NaN or infinite (the first at 0.100 s)"


def test_one_infinite_sample_in_one_channel(tmp_path):
    stereo = np.stack([_tone(440.0, 1.0, 8000)] * 2, axis=1)
    stereo[4000, 1] = np.inf
    path = tmp_path / "inf.flac.wav"
    soundfile.write(str(path), stereo, 8000, subtype="FLOAT")
    with pytest.raises(
        NonFiniteAudioError, match=r"inf\.flac\.wav: 1 sample is NaN or infinite \(the first at 0\.500 s\)"
    ):
        read_mono(path)


def test_every_failure_is_an_audio_file_error_and_a_value_error():
    assert issubclass(UnreadableAudioError, AudioFileError) and issubclass(NonFiniteAudioError, AudioFileError)
    assert issubclass(EmptyAudioError, AudioFileError) and issubclass(AudioFileError, ValueError)


def test_resampling_keeps_band_limited_content_and_removes_what_is_above_the_new_nyquist():
    rate = 44100
    kept, above = _tone(1000.0, 1.0, rate), _tone(12000.0, 1.0, rate)  # 12 kHz is above 16 kHz's Nyquist
    out = resample(kept + above, rate, 16000)
    reference = _tone(1000.0, 1.0, 16000)
    assert out.dtype == np.float32 and out.size == 16000
    error = _rms(out[1600:-1600] - reference[1600:-1600]) / _rms(reference)
    assert 20 * np.log10(error) < -60.0  # the 12 kHz tone is gone (no alias at 4 kHz) and 1 kHz is intact


def test_resampling_keeps_the_channel_layout_and_is_identity_at_the_same_rate():
    stereo = np.stack([_tone(440.0, 0.25, 48000), _tone(880.0, 0.25, 48000)], axis=1)
    assert resample(stereo, 48000, 16000).shape == (4000, 2)
    same = resample(stereo.astype(np.float64), 48000, 48000)
    assert same.dtype == np.float32 and np.array_equal(same, stereo)
    assert resample(np.zeros(0), 16000, 48000).shape == (0,)
    with pytest.raises(ValueError, match="sample rates must be > 0"):
        resample(stereo, 0, 16000)
