import numpy as np

from instrument_agent.synth import harmonic_amplitudes, harmonic_pieces, harmonic_segment, harmonic_tilt_gains

SR = 16000


def test_single_harmonic_is_a_sine_with_ddsp_phase():
    amps = np.zeros((1, 4), np.float32)
    amps[0, 0] = 0.5
    audio, phase = harmonic_segment(np.zeros(1), np.array([440.0]), np.array([440.0]), amps, amps, 1000, SR)
    j = np.arange(1000)
    expected = 0.5 * np.sin(2 * np.pi * 440.0 * (j + 1) / SR)
    assert np.abs(audio[0] - expected).max() < 2e-5
    assert np.isclose(phase[0], np.mod(2 * np.pi * 440.0 * 1000 / SR, 2 * np.pi))


def test_segmentation_does_not_change_the_audio():
    rng = np.random.default_rng(0)
    a0, a1 = rng.random((3, 30), dtype=np.float32) * 0.1, rng.random((3, 30), dtype=np.float32) * 0.1
    f0a, f0b = np.array([110.0, 220.0, 300.0]), np.array([130.0, 200.0, 300.0])
    whole, ph_whole = harmonic_segment(np.zeros(3), f0a, f0b, a0, a1, 960, SR)
    parts, phase = [], np.zeros(3)
    for lo, hi in [(0, 100), (100, 101), (101, 700), (700, 960)]:
        w0, w1 = lo / 960, hi / 960
        out, phase = harmonic_segment(
            phase, f0a + (f0b - f0a) * w0, f0a + (f0b - f0a) * w1, a0 + (a1 - a0) * w0, a0 + (a1 - a0) * w1, hi - lo, SR
        )
        parts.append(out)
    assert np.abs(np.concatenate(parts, axis=1) - whole).max() < 1e-5
    assert np.allclose(phase, ph_whole)


def test_harmonics_above_nyquist_are_removed_and_the_rest_renormalised():
    dist = np.ones((1, 10), np.float32)
    amps = harmonic_amplitudes(np.array([1.0]), dist, np.array([1000.0]), nyquist_hz=4500.0)
    assert np.allclose(amps[0, :4], 0.25) and np.all(amps[0, 4:] == 0)


def test_output_rate_nyquist_silences_a_harmonic_that_glides_across_it():
    amps = np.zeros((1, 2), np.float32)
    amps[0, 1] = 1.0  # only the 2nd harmonic: 2 * f0 goes from 7000 Hz to 9000 Hz
    audio, _ = harmonic_segment(np.zeros(1), np.array([3500.0]), np.array([4500.0]), amps, amps, 1600, SR)
    assert np.abs(audio[0, :600]).max() > 0.9
    assert np.abs(audio[0, 900:]).max() == 0.0


def test_tilt_darkens_and_brightens():
    gains = harmonic_tilt_gains(8, np.array([-6.0, 0.0, 6.0]))
    assert np.allclose(gains[:, 0], 1.0)
    assert np.isclose(gains[0, 1], 10 ** (-6 / 20), rtol=1e-5) and np.isclose(gains[2, 3], 10 ** (12 / 20), rtol=1e-5)


def _reference(phase, f0_knots, amp_knots, lengths, sr):
    """Per-sample float64 reference: f0 and amplitudes interpolated per piece, phase = running sum."""
    f0 = np.concatenate(
        [
            f0_knots[p][0][:, None] + (f0_knots[p][1] - f0_knots[p][0])[:, None] * np.arange(n) / n
            for p, n in enumerate(lengths)
        ],
        axis=1,
    )
    amps = np.concatenate(
        [
            amp_knots[p][0][:, :, None] + (amp_knots[p][1] - amp_knots[p][0])[:, :, None] * np.arange(n) / n
            for p, n in enumerate(lengths)
        ],
        axis=2,
    )
    theta = phase[:, None] + np.cumsum(2 * np.pi * f0 / sr, axis=1)
    k = np.arange(1, amps.shape[1] + 1)
    sines = np.sin(k[None, :, None] * theta[:, None, :])
    sines *= k[None, :, None] * f0[:, None, :] < sr / 2
    return np.einsum("vkn,vkn->vn", amps, sines)


def test_pieces_match_a_per_sample_reference_and_chained_segments():
    rng = np.random.default_rng(4)
    lengths = [37, 320, 320, 5, 200]
    f0 = rng.uniform(100, 900, (len(lengths) + 1, 3))
    f0[:, 2] = 440.0  # a steady voice next to gliding ones
    amps = rng.random((len(lengths) + 1, 3, 12), dtype=np.float32) * 0.1
    phase = rng.uniform(0, 2 * np.pi, 3)
    audio, end_phase = harmonic_pieces(phase, f0[:-1], f0[1:], amps[:-1], amps[1:], lengths, SR)
    expected = _reference(
        phase,
        [(f0[p], f0[p + 1]) for p in range(len(lengths))],
        [(amps[p], amps[p + 1]) for p in range(len(lengths))],
        lengths,
        SR,
    )
    assert audio.shape == (3, sum(lengths))
    assert np.abs(audio - expected).max() < 2e-4
    chained, ph = [], phase
    for p, n in enumerate(lengths):
        out, ph = harmonic_segment(ph, f0[p], f0[p + 1], amps[p], amps[p + 1], n, SR)
        chained.append(out)
    assert np.abs(np.concatenate(chained, axis=1) - audio).max() < 1e-5
    assert np.allclose(end_phase, ph)


def test_a_harmonic_above_nyquist_for_a_whole_piece_is_dropped():
    amps = np.zeros((2, 1, 3), np.float32)
    amps[:, 0, 2] = 1.0  # only the 3rd harmonic: 3 * 3000 Hz is above 8 kHz
    audio, _ = harmonic_pieces(
        np.zeros(1), np.full((2, 1), 3000.0), np.full((2, 1), 3000.0), amps, amps, [100, 100], SR
    )
    assert np.all(audio == 0)
