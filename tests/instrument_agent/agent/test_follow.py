"""Hear it learn: a practice's previews (real preview bundles in a work directory) swapped into the
playing engine mid-note, measured against steady playing and against a hard switch; previews are
never versions; the follower plays only newer generations and names them "preview step N"."""

from __future__ import annotations

import threading
import time

import mido
import numpy as np
import pytest
from _perform_support import make_personality, rms

from instrument_agent.agent import PlayerHost, PreviewFollower
from instrument_agent.client.previews import LocalPreviews
from instrument_agent.personality import PersonalityError, write_preview
from instrument_agent.personality.store import PersonalityStore

SR = 16000
BLOCK = 128


def _render(player: PlayerHost, seconds: float) -> np.ndarray:
    return np.concatenate([player.render_block(BLOCK) for _ in range(int(seconds * SR) // BLOCK)])


def _spectral_flux(audio: np.ndarray, n: int = 512, hop: int = 128) -> np.ndarray:
    """Frame-to-frame change of the log-magnitude spectrum, dB (mean over bins) [frames - 1]."""
    window = np.hanning(n)
    frames = np.stack([audio[i : i + n] * window for i in range(0, audio.size - n, hop)])
    log = 20 * np.log10(np.abs(np.fft.rfft(frames, axis=1)) + 1e-6)
    return np.mean(np.abs(np.diff(log, axis=0)), axis=1)


def _step(audio: np.ndarray) -> float:
    """The largest sample-to-sample step."""
    return float(np.max(np.abs(np.diff(audio))))


def _write_generation(work, source_bundle, step: int, deu: str = "cello"):
    """A preview of ``deu`` with the decoder and reverb of ``source_bundle`` (what the trainer writes)."""
    manifest = type(source_bundle.manifest)()
    manifest.CopyFrom(source_bundle.manifest)
    manifest.deu = deu
    del manifest.files[:]
    files = {f.path: source_bundle.file(f.path).read_bytes() for f in source_bundle.manifest.files}
    return write_preview(work / "preview", manifest, files, step=step, loss=1.0 / step)


def _swap_figures(tmp_path, crossfade_s: float, curve: str) -> dict[str, float]:
    """Hold A3 on version a, swap preview b in; measure the largest sample step and the spectral flux
    near the swap against steady playing of either personality (before the swap and after it), and
    the lowest 5 ms level around it (relative to the quieter personality's steady level)."""
    root = tmp_path / f"{curve}-{crossfade_s}"
    (root / "b").mkdir(parents=True)
    a = make_personality(root, seed=0)
    b = make_personality(root / "b", seed=5, reverb_seconds=0.0)
    work = root / "work"
    _write_generation(work, b, step=50)
    player = PlayerHost(
        sample_rate=SR, block_size=BLOCK, backend="numpy", crossfade_s=crossfade_s, crossfade_curve=curve
    )
    player.load(a)
    player.send(mido.Message("control_change", channel=0, control=11, value=100))
    player.note(57, 110)
    before = _render(player, 0.5)
    follower = PreviewFollower(player, LocalPreviews(work), practice_id="p1", deu="cello")
    info = follower.poll()
    after = _render(player, 0.5)
    assert info is not None and player.swaps == 1 and player.playing.preview_step == 50
    audio = np.concatenate([before, after])
    steady = before[SR // 5 :]
    near = audio[before.size - BLOCK : before.size + int(crossfade_s * SR) + 2 * BLOCK]
    window = SR // 200
    levels = [rms(audio[i : i + window]) for i in range(before.size - 10 * window, before.size + SR // 10, window)]
    flux = _spectral_flux(audio)
    swap_frame = (before.size - 512) // 128
    return {
        "jump_ratio": float(np.max(np.abs(np.diff(near))) / max(_step(steady), _step(after[SR // 4 :]))),
        "flux_near_db": float(np.max(flux[swap_frame - 2 : swap_frame + 8])),
        "flux_steady_db": float(np.percentile(np.concatenate([flux[4 : swap_frame - 4], flux[-40:]]), 99)),
        "min_level": float(min(levels) / min(rms(steady), rms(after[SR // 4 :]))),
        "after_rms": rms(after[SR // 4 :]),
    }


def test_a_preview_swaps_in_mid_note_without_a_click(tmp_path, capsys):
    smooth = _swap_figures(tmp_path, 0.05, "equal_power")
    linear = _swap_figures(tmp_path, 0.05, "linear")
    hard = _swap_figures(tmp_path, 1 / SR, "linear")
    with capsys.disabled():
        for name, f in (("equal-power 50 ms", smooth), ("linear 50 ms", linear), ("hard switch", hard)):
            print(
                f"\n[swap {name}] max sample step near/steady {f['jump_ratio']:.2f}, spectral flux near "
                f"{f['flux_near_db']:.2f} dB vs steady p99 {f['flux_steady_db']:.2f} dB, "
                f"lowest 5 ms level {f['min_level']:.2f} of steady"
            )
    # No click: no sample step near the swap larger than in steady playing (within 1.5x; with these
    # decoders even a hard switch's largest step is within it, so the step alone does not show a click);
    # the spectrum changes at most 3 dB faster than steady playing's p99, where the hard switch jumps
    # by far more; no 5 ms window drops below half the quieter personality's level.
    assert smooth["jump_ratio"] < 1.5
    assert smooth["flux_near_db"] < smooth["flux_steady_db"] + 3.0
    assert hard["flux_near_db"] > smooth["flux_near_db"] + 10.0
    assert smooth["min_level"] > 0.5
    assert smooth["after_rms"] > 0


def test_the_follower_plays_only_newer_generations_and_names_them(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    a = make_personality(tmp_path, seed=0)
    b = make_personality(tmp_path / "b", seed=5)
    c = make_personality(tmp_path / "c", seed=9)
    work = tmp_path / "work"
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy")
    player.load(a)
    follower = PreviewFollower(player, LocalPreviews(work), practice_id="p1", deu="cello")
    assert follower.poll() is None and player.playing.label == "version 1"  # no preview yet
    assert follower.status()["label"] == "waiting for the first preview"
    _write_generation(work, b, step=100)
    assert follower.poll().generation == 1
    _render(player, 0.1)
    assert player.playing.label == "preview step 100" and player.status()["playing"]["label"] == "preview step 100"
    assert follower.poll().generation == 1 and follower.swaps == 1  # nothing newer: no swap
    _write_generation(work, c, step=200)
    assert follower.poll().step == 200 and follower.swaps == 2
    assert follower.status()["label"] == "preview step 200" and follower.status()["generation"] == 2
    # A preview of another deu is refused, the current preview keeps playing.
    _write_generation(work, b, step=300, deu="viola")
    with pytest.raises(PersonalityError, match="preview is of deu 'viola', not 'cello'"):
        follower.poll()
    assert player.playing.preview_step == 200
    # While the ama plays another deu, a follower of this one leaves it alone.
    viola = PreviewFollower(player, LocalPreviews(work), practice_id="p2", deu="viola")
    assert viola.poll() is None and viola.swaps == 0 and player.playing.preview_step == 200
    assert viola.status()["error"] == "not played: the player plays cello, not viola"


def test_a_preview_never_appears_as_a_version(tmp_path):
    a = make_personality(tmp_path, seed=0)
    store = PersonalityStore(tmp_path / "home")
    work = store.home / "practice" / "cello" / "imitation-0123456789abcdef"  # where embedded practices work
    for step in (100, 200, 300):
        info = _write_generation(work, a, step=step)
    assert [v.version for v in store.versions("cello")] == [1] and store.deus() == ["cello"]
    assert store.get("cello").digest == a.digest  # the latest version is still the version
    assert info.generation == 3 and sorted(p.name for p in (work / "preview").glob("g*")) == ["g000002", "g000003"]


def test_a_note_released_while_the_preview_warms_up_is_released_in_it_too(tmp_path):
    (tmp_path / "b").mkdir()
    a = make_personality(tmp_path, seed=0)
    b = make_personality(tmp_path / "b", seed=5)
    work = tmp_path / "work"
    _write_generation(work, b, step=10)
    player = PlayerHost(sample_rate=SR, block_size=BLOCK, backend="numpy", warm_s=1.0)
    player.load(a)
    player.note(57, 110)
    held = _render(player, 1.0)
    follower = PreviewFollower(player, LocalPreviews(work), practice_id="p1", deu="cello")
    loading = threading.Thread(target=follower.poll)
    loading.start()  # warms the preview up for 1 s of audio off this thread...
    while player._arrived is None and loading.is_alive():  # (it has taken the held note to replay)
        time.sleep(0.0005)
    assert loading.is_alive(), "the warm-up ended before the test could release the note"
    player.note(57, on=False)  # ...while the note is released here
    player.render_block(BLOCK)
    while loading.is_alive():
        player.render_block(BLOCK)
    loading.join()
    tail = _render(player, 1.0)
    assert player.playing.preview_step == 10 and player.swaps == 1
    assert rms(tail[-SR // 4 :]) < 0.02 * rms(held[SR // 5 :]), "the preview kept a released note sounding"
    assert player.status()["voices"] == 0
