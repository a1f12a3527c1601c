"""A physically-inspired bowed-string voice, synthesized in code (no samples,
no downloads): the demo's training audio.

Model, per sample at ``sample_rate``:

* **Excitation** — Helmholtz motion of a bowed string: harmonics ``k·f0`` with
  amplitudes ``k^-p``, where the slope ``p`` falls from 1.9 (pianissimo, dark)
  to 1.0 (fortissimo, bright: a sawtooth) with the dynamic, and is steeper for
  the first ~80 ms of a bow stroke while the string is captured.
* **Pitch** — the note's pitch, a 15-cent flat start relaxing in 60 ms, a
  40 ms glide between slurred notes, delayed vibrato (5-6 Hz, up to ±0.25
  semitone, growing after 0.25 s) and a slow ±5-cent drift.
* **Dynamics** — attack 30-90 ms (faster when louder), sustain following the
  phrase's dynamic (-30 dB pp to -4 dB ff) with a gentle swell on long
  notes, release 80-150 ms.
* **Body** — a fixed resonance curve applied per harmonic: air mode ~275 Hz,
  wood modes ~460/580 Hz, a bridge hill ~2.4 kHz and a roll-off above 4.5 kHz.
* **Bow noise** — band-passed noise at -34 dB under the tone, plus a short
  scratch at each re-articulated onset.
* **Room** — a 0.5 s exponentially decaying diffuse tail at -14 dB.

The result is peak-normalised to -3 dBFS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from instrument_agent.dsp import midi_to_hz

from .score import Note, practice_score

__all__ = ["DemoAudio", "body_gain_db", "bowed_string", "demo_training_audio"]

_CONTROL_HOP = 64  # samples per control step
_MAX_HARMONICS = 80
_BODY_MODES = ((275.0, 12.0, 8.0), (460.0, 15.0, 6.0), (580.0, 14.0, 7.0), (1100.0, 6.0, 3.0), (2400.0, 2.5, 6.0))


@dataclass(frozen=True)
class DemoAudio:
    """Synthesized training audio and the score it plays.

    Attributes:
        audio: [n] float32, peak -3 dBFS.
        sample_rate: Hz.
        notes: the notes played.
    """

    audio: np.ndarray
    sample_rate: int
    notes: list[Note]

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sample_rate


def body_gain_db(frequency_hz: np.ndarray) -> np.ndarray:
    """The body's resonance curve (dB) at ``frequency_hz`` ([...] Hz)."""
    f = np.maximum(np.asarray(frequency_hz, dtype=np.float64), 1.0)
    gain = np.zeros_like(f)
    for centre, q, peak_db in _BODY_MODES:
        gain += peak_db / (1.0 + q**2 * (f / centre - centre / f) ** 2)
    gain -= 12.0 * np.maximum(np.log2(f / 4500.0), 0.0)  # -12 dB/octave above 4.5 kHz
    gain -= 6.0 * np.maximum(np.log2(150.0 / f), 0.0)  # weak radiation below the air mode
    return gain


def _controls(notes: list[Note], n_control: int, rate: float, rng: np.random.Generator):
    """Control curves at ``rate`` Hz: f0 (Hz), amplitude (linear), slope p, scratch (linear)."""
    t = np.arange(n_control) / rate
    midi = np.full(n_control, float(notes[0].pitch))
    amp = np.zeros(n_control)
    slope = np.full(n_control, 1.5)
    scratch = np.zeros(n_control)
    previous_pitch = float(notes[0].pitch)
    for note in notes:
        i0 = int(note.start_s * rate)
        release = 0.08 + 0.07 * rng.random()
        i2 = min(n_control, int((note.end_s + release) * rate))
        local = t[i0:i2] - note.start_s
        length = note.end_s - note.start_s
        # pitch: glide from the previous note when slurred, flat start when bowed anew
        pitch = np.full(local.size, float(note.pitch))
        if note.legato:
            glide = np.clip(local / 0.04, 0.0, 1.0)
            pitch = previous_pitch + (note.pitch - previous_pitch) * (0.5 - 0.5 * np.cos(np.pi * glide))
        else:
            pitch -= 0.15 * np.exp(-local / 0.06)
        if length > 0.4:
            depth = 0.25 * np.clip((local - 0.25) / 0.4, 0.0, 1.0) * rng.uniform(0.5, 1.0)
            pitch += depth * np.sin(2 * np.pi * rng.uniform(5.0, 6.0) * local + rng.uniform(0, 2 * np.pi))
        midi[i0:i2] = pitch
        if i2 < n_control:
            midi[i2:] = note.pitch
        # amplitude: attack, swell, release
        level_db = -30.0 + 26.0 * note.dynamic
        attack = 0.09 - 0.06 * note.dynamic
        env = np.clip(local / attack, 0.0, 1.0) if not note.legato else np.ones(local.size)
        if length > 1.0:
            env = env * (1.0 + 0.25 * np.sin(np.pi * np.clip(local / length, 0, 1)) * rng.uniform(-1.0, 1.0))
        after = local > length
        env[after] *= np.exp(-(local[after] - length) / (release / 4.0))
        amp[i0:i2] = 10.0 ** (level_db / 20.0) * env
        # brightness: louder is brighter; a bow stroke starts darker
        p = 1.9 - 0.9 * note.dynamic
        if not note.legato:
            p = p + 0.6 * np.exp(-local / 0.08)
            scratch[i0:i2] = 10.0 ** (level_db / 20.0) * 0.3 * np.exp(-local / 0.025)
        slope[i0:i2] = p
        previous_pitch = float(note.pitch)
    drift = np.cumsum(rng.normal(0.0, 1.0, n_control))
    drift = np.convolve(drift - drift.mean(), np.ones(int(rate)) / rate, mode="same")
    midi += 0.05 * drift / max(np.abs(drift).max(), 1e-9)
    return midi_to_hz(midi), amp, slope, scratch


def bowed_string(notes: list[Note], sample_rate: int = 16000, *, seed: int = 0) -> np.ndarray:
    """Synthesize ``notes`` with the bowed-string model (see the module docstring).

    Returns:
        [n] float32 audio at ``sample_rate``, n covering the last note's release, peak -3 dBFS.
    """
    from scipy import signal

    rng = np.random.default_rng(seed)
    n = int((notes[-1].end_s + 0.6) * sample_rate)
    n_control = n // _CONTROL_HOP + 2
    f0_c, amp_c, slope_c, scratch_c = _controls(notes, n_control, sample_rate / _CONTROL_HOP, rng)
    positions = np.arange(n) / _CONTROL_HOP
    index = np.arange(n_control)
    f0 = np.interp(positions, index, f0_c)
    phase = np.cumsum(2.0 * np.pi * f0 / sample_rate)
    out = np.zeros(n)
    for k in range(1, _MAX_HARMONICS + 1):
        freq = k * f0_c
        gain = amp_c * k ** (-slope_c) * 10.0 ** (body_gain_db(freq) / 20.0)
        gain[freq >= 0.45 * sample_rate] = 0.0
        if not gain.any():
            break
        out += np.interp(positions, index, gain) * np.sin(k * phase)
    # bow noise: continuous hiss plus a scratch at each new stroke
    sos = signal.butter(2, [1500.0, min(6000.0, 0.45 * sample_rate)], btype="bandpass", fs=sample_rate, output="sos")
    hiss = signal.sosfilt(sos, rng.standard_normal(n))
    noise_env = np.interp(positions, index, 0.02 * amp_c + scratch_c)
    out += hiss * noise_env
    # room: a short diffuse tail
    ir_t = np.arange(int(0.5 * sample_rate)) / sample_rate
    ir = rng.standard_normal(ir_t.size) * np.exp(-6.9 * ir_t / 0.5)
    ir = signal.sosfilt(signal.butter(1, 3000.0, fs=sample_rate, output="sos"), ir)
    ir *= 10.0 ** (-14.0 / 20.0) / np.sqrt(np.sum(ir**2))
    out = out + signal.fftconvolve(out, ir)[:n]
    return (out * (10.0 ** (-3.0 / 20.0) / np.abs(out).max())).astype(np.float32)


def demo_training_audio(minutes: float = 2.5, sample_rate: int = 16000, *, seed: int = 0) -> DemoAudio:
    """About ``minutes`` of bowed-string phrases from D3 to G5 (the demo's training audio)."""
    notes = practice_score(minutes * 60.0, low=50, high=79, seed=seed)
    return DemoAudio(bowed_string(notes, sample_rate, seed=seed), int(sample_rate), notes)
