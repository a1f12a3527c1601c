import numpy as np

from instrument_agent.synth import FilteredNoise, NoiseFilterDesign


def _response(ir, n_fft=4096):
    return np.abs(np.fft.rfft(ir, n_fft))


def test_impulse_response_follows_the_band_magnitudes():
    design = NoiseFilterDesign(65, 16000, 16000)
    assert design.ir_size == 128
    mags = np.zeros((1, 65), np.float32)
    mags[0, :20] = 1.0  # low-pass at ~2.4 kHz
    resp = _response(design.impulse_responses(mags)[0])
    freqs = np.fft.rfftfreq(4096, 1 / 16000)
    assert np.all(np.abs(resp[freqs < 1500] - 1.0) < 0.1)
    assert resp[freqs > 4000].max() < 0.02


def test_bands_keep_their_hz_at_a_higher_output_rate():
    design = NoiseFilterDesign(65, 16000, 48000)
    assert design.out_bands == 193 and design.ir_size == 384
    mags = np.ones((1, 65), np.float32)
    resp = _response(design.impulse_responses(mags)[0])
    freqs = np.fft.rfftfreq(4096, 1 / 48000)
    assert np.all(np.abs(resp[(freqs > 200) & (freqs < 7500)] - 1.0) < 0.1)
    assert resp[freqs > 9000].max() < 0.02  # nothing above the model's Nyquist


def test_noise_gain_scales_linearly():
    design = NoiseFilterDesign(17, 16000, 16000)
    mags = np.random.default_rng(1).random((2, 17)).astype(np.float32)
    assert np.allclose(
        design.impulse_responses(mags, np.array([2.0, 0.5])), design.impulse_responses(mags) * [[2.0], [0.5]], atol=1e-6
    )


def test_streaming_overlap_add_is_independent_of_segmentation():
    design = NoiseFilterDesign(17, 16000, 16000)
    rng = np.random.default_rng(2)
    ir = design.impulse_responses(rng.random((2, 17)).astype(np.float32))
    noise = rng.uniform(-1, 1, (2, 700)).astype(np.float32)
    expected = np.stack([np.convolve(noise[v], ir[v])[:700] for v in range(2)])
    bank = FilteredNoise(4, design.ir_size)
    slots = np.array([3, 1])
    parts = []
    for lo, hi in [(0, 5), (5, 300), (300, 700)]:
        n_fft = FilteredNoise.fft_size(hi - lo, design.ir_size)
        parts.append(bank.process(slots, noise[:, lo:hi], FilteredNoise.spectrum(ir, n_fft), n_fft))
    assert np.abs(np.concatenate(parts, axis=1) - expected).max() < 1e-5


def test_pieces_with_their_own_filters_match_per_piece_convolution():
    design = NoiseFilterDesign(17, 16000, 16000)
    rng = np.random.default_rng(5)
    lengths = [7, 320, 320, 90]
    irs = design.impulse_responses(rng.random((len(lengths) * 2, 17)).astype(np.float32)).reshape(len(lengths), 2, -1)
    noise = rng.uniform(-1, 1, (2, sum(lengths))).astype(np.float32)
    expected = np.zeros((2, sum(lengths) + design.ir_size - 1))
    lo = 0
    for p, n in enumerate(lengths):  # each piece convolved with its own IR, tails overlap-added
        for v in range(2):
            expected[v, lo : lo + n + design.ir_size - 1] += np.convolve(noise[v, lo : lo + n], irs[p, v])
        lo += n
    n_fft = FilteredNoise.fft_size(max(lengths), design.ir_size)
    spectra = FilteredNoise.spectrum(irs.reshape(-1, design.ir_size), n_fft).reshape(len(lengths), 2, -1)
    bank = FilteredNoise(3, design.ir_size)
    first = bank.process_pieces([2, 0], noise[:, :327], spectra[:2], lengths[:2], n_fft)
    second = bank.process_pieces([2, 0], noise[:, 327:], spectra[2:], lengths[2:], n_fft)  # the tail carries over
    assert np.abs(np.concatenate([first, second], axis=1) - expected[:, : sum(lengths)]).max() < 1e-5
