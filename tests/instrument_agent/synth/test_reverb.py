import numpy as np

from instrument_agent.synth import Reverb, resample_impulse_response


def test_streaming_reverb_equals_full_convolution_for_any_blocks():
    rng = np.random.default_rng(0)
    ir = (rng.normal(size=3000) * np.exp(-np.arange(3000) / 600)).astype(np.float32)
    x = rng.normal(size=9000).astype(np.float32)
    expected = np.convolve(x, ir)[: x.size]
    for sizes in ([64] * 200, [1024] * 10, [33, 2048, 5, 4000, 1000, 300]):
        reverb = Reverb(ir, partition=256)
        out, pos = [], 0
        while pos < x.size:
            n = sizes[len(out) % len(sizes)]
            out.append(reverb.process(x[pos : pos + n]))
            pos += n
        assert np.abs(np.concatenate(out)[: x.size] - expected).max() < 1e-3 * np.abs(expected).max()


def test_reset_forgets_the_tail():
    reverb = Reverb(np.ones(1000, np.float32), partition=128)
    reverb.process(np.ones(500, np.float32))
    reverb.reset()
    assert np.all(reverb.process(np.zeros(600, np.float32)) == 0)


def test_resampled_impulse_response_keeps_the_reverb_level():
    rng = np.random.default_rng(3)
    ir16 = (rng.normal(size=1600) * np.exp(-np.arange(1600) / 300)).astype(np.float32)
    ir48 = resample_impulse_response(ir16, 16000, 48000)
    assert ir48.size == 4800

    # A 500 Hz tone through both IRs: same wet level at either rate.
    def wet_rms(ir, sr):
        t = np.arange(sr) / sr
        y = np.convolve(np.sin(2 * np.pi * 500 * t), ir)[sr // 2 : sr]
        return np.sqrt(np.mean(y**2))

    assert np.isclose(wet_rms(ir48, 48000), wet_rms(ir16, 16000), rtol=0.05)


def test_every_partition_level_matches_full_convolution():
    rng = np.random.default_rng(1)
    ir = (rng.normal(size=2500) * np.exp(-np.arange(2500) / 800)).astype(np.float32)
    x = rng.normal(size=6000).astype(np.float32)
    expected = np.convolve(x, ir)[: x.size]
    # Levels of 16, 64 and 256 samples (the last one holding the rest of the IR).
    for sizes in ([16] * 400, [1000] * 6, [3, 700, 1, 2048, 129]):
        reverb = Reverb(ir, partition=16, max_partition=256)
        out, pos = [], 0
        while pos < x.size:
            out.append(reverb.process(x[pos : pos + sizes[len(out) % len(sizes)]]))
            pos += out[-1].size
        assert np.abs(np.concatenate(out) - expected).max() < 1e-4 * np.abs(expected).max()


def test_partitions_sized_for_the_first_block_match_full_convolution():
    """Uniform partitions of the first block's size (the engine's choice: the same work every block)."""
    rng = np.random.default_rng(2)
    ir = (rng.normal(size=5000) * np.exp(-np.arange(5000) / 900)).astype(np.float32)
    x = rng.normal(size=12000).astype(np.float32)
    expected = np.convolve(x, ir)[: x.size]
    for sizes, partition in (([128], 128), ([64, 64, 7, 300], 64), ([8192], 4096)):
        reverb = Reverb(ir, partition=None, max_partition=None)
        out, pos = [], 0
        while pos < x.size:
            out.append(reverb.process(x[pos : pos + sizes[len(out) % len(sizes)]]))
            pos += out[-1].size
        assert reverb.partition == partition
        assert np.abs(np.concatenate(out) - expected).max() < 1e-4 * np.abs(expected).max()
