"""DDSP-VST's synthesis path in Python, line for line from magenta/ddsp-vst's C++ (dry: no reverb).

* :class:`PredictControls`: ``PredictControlsModel::call``: the inputs set by tensor name, the
  GRU state (``kGruModelStateSize`` 512) carried from output to input, a NaN harmonic zeroes the frame;
  the interpreter uses only the builtin op resolver, as ``ModelLibrary::validateModel`` does.
* :class:`HarmonicSynthesizer`: ``HarmonicSynthesizer.cpp``: harmonics at or above 8 kHz removed,
  the distribution renormalised and scaled by the amplitude, ``midwayLerp`` (linear over the first
  half of the 320-sample hop, then held) of f0 and of each harmonic's amplitude, the phase as a float
  running sum of 2π f / 16000 wrapped with ``fmod`` at the end of each hop, ``sin(phase · k)``.
* :class:`NoiseSynthesizer`: ``NoiseSynthesizer.cpp``: the 65 magnitudes as a real spectrum through
  a 128-point inverse FFT (JUCE's inverse scales by 1/N, as numpy's), times a zero-phase Hann window,
  rotated to causal; 512 samples of uniform noise in [-1, 1) (JUCE's ``Random`` seeded 42) convolved
  circularly through 512-point FFTs; 320 samples kept from ``(128 - 1) / 2 - 1``.
* :func:`render`: ``InferencePipeline::render`` for frames of (f0 Hz, normalised power): harmonic + noise.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE, HOP, HARMONICS, NOISE_BANDS, STATE = 16000.0, 320, 60, 65, 512
_TWO_PI = np.float32(2.0 * np.pi)


class PredictControls:
    """One frame of the exported model per :meth:`call`, as the plugin runs it."""

    def __init__(self, path):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.interpreter = Interpreter(
            model_path=str(path),
            num_threads=1,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
        self.interpreter.allocate_tensors()
        self.inputs = {d["name"]: d["index"] for d in self.interpreter.get_input_details()}
        self.outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.state = np.zeros(STATE, np.float32)

    def call(self, f0_norm: float, loudness_norm: float) -> tuple[float, np.ndarray, np.ndarray]:
        it = self.interpreter
        it.set_tensor(self.inputs["call_f0_scaled:0"], np.array([f0_norm], np.float32))
        it.set_tensor(self.inputs["call_pw_scaled:0"], np.array([loudness_norm], np.float32))
        it.set_tensor(self.inputs["call_state:0"], self.state)
        it.invoke()
        amplitude = float(it.get_tensor(self.outputs["StatefulPartitionedCall:0"])[0])
        harmonics = np.array(it.get_tensor(self.outputs["StatefulPartitionedCall:1"]), np.float32)
        noise = np.array(it.get_tensor(self.outputs["StatefulPartitionedCall:2"]), np.float32)
        self.state = np.array(it.get_tensor(self.outputs["StatefulPartitionedCall:3"]), np.float32)
        if np.isnan(harmonics).any():
            harmonics[np.isnan(harmonics)] = 0.0
            amplitude = 0.0
        return amplitude, harmonics, noise


def normalized_pitch(f0_hz: float) -> float:
    """``InputUtils.h normalizedPitch``: Hz clamped to MIDI 0..127, as MIDI / 127."""
    f0 = min(max(f0_hz, 8.18), 12543.84)
    return float((12.0 * (np.log2(f0) - np.log2(440.0)) + 69.0) / 127.0)


def normalized_loudness(db: float) -> float:
    """``InputUtils.h normalizedLoudness``: dB / 80 + 1."""
    return db / 80.0 + 1.0


def _midway_lerp(first: np.float32, last: np.float32, n: int = HOP) -> np.ndarray:
    out = np.full(n, last, np.float32)
    half = n // 2
    delta = np.float32((last - first) / np.float32(half))
    out[:half] = first + delta * np.arange(half, dtype=np.float32)
    return out


class HarmonicSynthesizer:
    def __init__(self):
        self.previous_phase = np.float32(0.0)
        self.previous_f0: float | None = None
        self.previous_distribution = np.zeros(HARMONICS, np.float32)
        self.series = np.arange(1, HARMONICS + 1, dtype=np.float32)

    def render(self, distribution: np.ndarray, amplitude: float, f0: float) -> np.ndarray:
        dist = np.array(distribution, np.float32)
        dist[self.series * np.float32(f0) >= SAMPLE_RATE / 2.0] = 0.0
        total = np.float32(dist.sum(dtype=np.float32))
        if total != 0.0:
            dist *= np.float32(1.0) / total
        dist *= np.float32(amplitude)
        f0 = np.float32(f0)
        envelope = _midway_lerp(np.float32(self.previous_f0 if self.previous_f0 is not None else f0), f0)
        self.previous_f0 = float(f0)
        amps = np.stack([_midway_lerp(p, d) for p, d in zip(self.previous_distribution, dist, strict=True)])
        self.previous_distribution = dist
        omega = envelope * np.float32(_TWO_PI / np.float32(SAMPLE_RATE))
        phases = np.cumsum(omega, dtype=np.float32) + self.previous_phase
        self.previous_phase = np.float32(np.fmod(phases[-1], _TWO_PI))
        sinusoids = np.sin(phases[:, None] * self.series[None, :]) * amps.T  # [HOP, H]
        return sinusoids.sum(axis=1, dtype=np.float32)


class JuceRandom:
    """``juce::Random``: a 48-bit LCG; ``nextFloat`` in [0, 1)."""

    def __init__(self, seed: int = 42):
        self.seed = seed

    def next_floats(self, n: int) -> np.ndarray:
        out = np.empty(n, np.float32)
        seed = self.seed
        for i in range(n):
            seed = (seed * 0x5DEECE66D + 11) & 0xFFFFFFFFFFFF
            value = (seed >> 16) & 0xFFFFFFFF  # (int) then static_cast<uint32>
            out[i] = np.float32(value) / np.float32(4294967296.0)
        self.seed = seed
        return out


class NoiseSynthesizer:
    def __init__(self):
        self.ir_size = (NOISE_BANDS - 1) * 2  # 128
        n = np.arange(self.ir_size)
        window = 0.5 * (1.0 - np.cos(2.0 * np.pi * n / self.ir_size))
        self.zp_window = np.roll(window, -(self.ir_size // 2)).astype(np.float32)  # std::rotate by size/2
        self.random = JuceRandom(42)

    def render(self, magnitudes: np.ndarray) -> np.ndarray:
        ir = np.fft.irfft(np.asarray(magnitudes, np.float64), n=128).astype(np.float32)  # windowFFT(7)
        ir *= self.zp_window
        ir = np.roll(ir, -64)  # causal form
        noise = self.random.next_floats(1024) * np.float32(2.0) - np.float32(1.0)  # jmap(nextFloat, -1, 1)
        padded_ir = np.zeros(512, np.float32)
        padded_ir[: self.ir_size] = ir
        filtered = np.fft.irfft(np.fft.rfft(noise[:512]) * np.fft.rfft(padded_ir), n=512).astype(np.float32)
        start = (self.ir_size - 1) // 2 - 1
        return filtered[start : start + HOP]


def render(model_path, f0_hz: np.ndarray, power_db: np.ndarray, *, noise: bool = True) -> np.ndarray:
    """The plugin's dry output for per-frame f0 [T] Hz and power [T] dB: [T * 320] float32 at 16 kHz
    (``noise=False``: the harmonic part alone, as with the plugin's noise gain at 0)."""
    model, harmonic, noise_synth = PredictControls(model_path), HarmonicSynthesizer(), NoiseSynthesizer()
    out = np.empty(len(f0_hz) * HOP, np.float32)
    for t, (f0, power) in enumerate(zip(f0_hz, power_db, strict=True)):
        amplitude, distribution, magnitudes = model.call(normalized_pitch(float(f0)), normalized_loudness(float(power)))
        out[t * HOP : (t + 1) * HOP] = harmonic.render(distribution, amplitude, float(f0))
        if noise:
            out[t * HOP : (t + 1) * HOP] += noise_synth.render(magnitudes)
    return out
