"""Live play through a real JACK server (jackd2, dummy driver) started by the tests: a "DAW"
(two JACK clients in this process) sends an MPE phrase to the agent's MIDI port and records
its audio ports; the recording must be the offline render of the same MIDI, onsets on their
frame plus the latency the ports report."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jack
import mido
import numpy as np
import pytest
from _jack_support import DawMidi, DawRecorder, JackServer, idle_xruns
from _perform_support import make_personality

from instrument_agent.engine import Engine
from instrument_agent.live.backend import BackendError, choose_backend, jack_server_running
from instrument_agent.live.jack import JackStatus
from instrument_agent.live.latency import CAPTURE, LatencyApi
from instrument_agent.live.performance import JackPerformance

pytestmark = pytest.mark.slow

RATE = 48000
TOLERANCE = 2e-4  # live periods vs one offline block (see the take test, 2.)
PERIODS = (128, 256, 512, 1024, 2048, 4096)  # the take's period: the first where an idle client has no xruns


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_personality(tmp_path_factory.mktemp("jack"))


@pytest.fixture
def server():
    jackd = JackServer(RATE, 128).start()
    yield jackd
    jackd.stop()  # after the test closed every client it opened


def _engine_factory(bundle):
    return lambda rate: Engine.from_bundle(bundle, sample_rate=rate, backend="numpy")


def mpe_phrase() -> list[tuple[int, mido.Message]]:
    """(frame, message): three MPE notes on member channels 1..3, each with its own pressure
    curve and pitch bend, overlapping; frames relative to the phrase start (48 kHz)."""
    events = []
    for i, (note, start, length) in enumerate([(57, 500, 12000), (61, 4000, 10000), (64, 9531, 8000)]):
        ch = 1 + i
        events.append((start, mido.Message("note_on", channel=ch, note=note, velocity=90 + 10 * i)))
        for k in range(8):  # pressure swells, per note (MPE channel pressure)
            events.append((start + 700 + 850 * k + i, mido.Message("aftertouch", channel=ch, value=40 + 10 * k)))
        events.append((start + 6001, mido.Message("pitchwheel", channel=ch, pitch=1200 * (i + 1))))
        events.append((start + length, mido.Message("note_off", channel=ch, note=note)))
    return sorted(events, key=lambda e: e[0])


def offline(bundle, events: list[tuple[int, mido.Message]], n: int) -> np.ndarray:
    """[n] the engine's render of ``events`` at their absolute samples, in one block, clipped as the ports are."""
    engine = Engine.from_bundle(bundle, sample_rate=RATE, backend="numpy")
    for frame, msg in events:
        engine.send(msg, at=frame)
    return np.clip(engine.render(n), -1, 1)


def band_db(audio: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """[24] dB energy in 24 log-spaced bands (50 Hz..16 kHz) of the 2048-sample frames starting at ``frames``."""
    win = np.hanning(2048)
    spec = np.stack([np.abs(np.fft.rfft(audio[f : f + 2048] * win)) ** 2 for f in frames]).sum(0)
    edges = np.geomspace(50, 16000, 25) * 2048 / RATE
    bands = [spec[int(lo) : max(int(hi), int(lo) + 1)].sum() for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return 10 * np.log10(np.asarray(bands) + 1e-20)


class Observed:
    """Wraps the agent's source: every render (JACK frame of its cycle, engine time, audio, events)."""

    def __init__(self, performance: JackPerformance):
        self.performance, self.source = performance, performance.source
        self.render = self.source.render_block
        self.calls: list[tuple[int, int, np.ndarray, list]] = []
        self.source.render_block = self

    def __call__(self, frames, events=()):
        t = self.source.engine.time
        audio = self.render(frames, events)
        self.calls.append((self.performance.host.cycle_frame, t, np.clip(audio, -1, 1), list(events)))
        return audio

    def periods(self) -> dict[int, tuple[int, np.ndarray]]:
        """JACK frame -> (engine time, audio) of the period the agent put on its ports (its last render there)."""
        return {label: (t, audio) for label, t, audio, _ in self.calls}


def _wire(performance, daw: DawMidi, rec: DawRecorder) -> None:
    daw.client.connect(daw.port, performance.host.midi_port)
    for ours, theirs in zip(performance.host.audio_ports, rec.ports, strict=True):
        rec.client.connect(ours, theirs)


def _play(daw: DawMidi, events, lead: int = 9600) -> int:
    """Schedule ``events`` ``lead`` frames from now; the phrase's JACK start frame."""
    start = daw.client.frame_time + lead
    daw.schedule([(start + f, m.bytes()) for f, m in events])
    return start


def _wait(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_backend_selection_follows_the_server(server, monkeypatch):
    assert jack_server_running()
    assert choose_backend("auto") == "jack" and choose_backend("jack") == "jack"
    assert choose_backend("portaudio") == "portaudio"
    with pytest.raises(BackendError, match="unknown live backend 'alsa'"):
        choose_backend("alsa")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "amadeus-no-such-server")
    assert not jack_server_running() and choose_backend("auto") == "portaudio"
    with pytest.raises(BackendError, match="no JACK server is running.*--backend portaudio"):
        choose_backend("jack")


@dataclass
class Take:
    """One session: the DAW (its own process, tests/instrument_agent/_jack_daw.py) played the
    phrase to the agent and recorded its ports."""

    period: int
    start: int  # the phrase's JACK frame
    n: int  # frames recorded from `start`
    xruns: int  # the DAW's xrun callback, while the phrase played
    idle_after: int  # an idle client's xruns on the same server, just after
    late_clients: list[str]  # jackd's lines while the phrase played: "client = NAME was not finished, state = ..."
    status: JackStatus
    reported: tuple[int, int]  # the capture latency of the agent's outputs, as a client of the server reads it
    performance: JackPerformance
    seen: Observed
    daw: dict  # the DAW's take: start, n, sent [k, 2] (frame, phrase index), late, labels, blocks, xruns

    def recording(self) -> tuple[np.ndarray, np.ndarray]:
        """([2, n] recorded from `start`, [n] bool: recorded there)."""
        out, have = np.zeros((2, self.n), np.float32), np.zeros(self.n, bool)
        for label, block in zip(self.daw["labels"], self.daw["blocks"], strict=True):
            lo, hi = max(label, self.start), min(label + block.shape[1], self.start + self.n)
            if lo < hi:
                out[:, lo - self.start : hi - self.start] = block[:, lo - label : hi - label]
                have[lo - self.start : hi - self.start] = True
        return out, have


def _take(bundle, period: int, tmp_path) -> Take | None:
    """The phrase played at ``period`` frames, or None when an idle client has xruns there before it."""
    phrase = mpe_phrase()
    phrase_file = tmp_path / "phrase.json"
    phrase_file.write_text(json.dumps([[f, list(m.bytes())] for f, m in phrase]))
    out = tmp_path / f"take-{period}.npz"
    with contextlib.ExitStack() as stack:  # every client closed before jackd stops
        jackd = JackServer(RATE, period).start()
        stack.callback(jackd.stop)
        if idle_xruns(2.0) > 0:
            return None
        performance = JackPerformance(_engine_factory(bundle), bundle.deu)
        seen = Observed(performance)  # from the engine's first sample
        with contextlib.ExitStack() as clients:
            status = performance.start()
            clients.callback(performance.stop)
            probe = jack.Client("latency-probe", no_start_server=True)
            clients.callback(probe.close)
            reported = LatencyApi().get(probe.get_port_by_name(status.audio_ports[0]), CAPTURE)
            daw = subprocess.Popen(
                [sys.executable, str(Path(__file__).parents[1] / "_jack_daw.py"), status.client, phrase_file, out],
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]), *sys.path])},
            )
            clients.callback(daw.kill)
            assert daw.stdout.readline().strip() == "ready"
            log_from = len(jackd.log())
            assert daw.wait(60) == 0
            late = [line for line in jackd.log()[log_from:].splitlines() if "was not finished" in line]
        after = idle_xruns(2.0)  # the load may have changed while the agent played: measured again
    with np.load(out) as take:
        daw_take = {key: take[key] for key in take.files}
    start, n = int(daw_take["start"]), int(daw_take["n"])
    return Take(period, start, n, int(daw_take["xruns"]), after, late, status, reported, performance, seen, daw_take)


def test_a_daw_records_the_offline_render_with_onsets_on_their_frames(bundle, tmp_path):
    """The DAW's take is the offline render of its MIDI, onsets on the frames it sent them at
    plus the latency the ports report; the agent adds no xruns.

    **The period.** jackd's dummy driver wakes on a timer; on a loaded machine it, and any
    client's thread, wakes late: an idle Python client alone on the server had 89 xruns in 5 s
    at 128 frames, 39 at 256, 0 at 1024 (here: 2 cores shared with 3 other jobs, load 5).
    Those xruns are the machine's, not the agent's, and when the graph misses its tick JACK2
    restarts it with the late clients still pending, so a cycle's MIDI can reach the agent
    after the DAW wrote the next one (measured: events a period late, some lost). So the
    take is played at the shortest of 128..4096 frames at which an idle reference client
    has no xruns for 2 s before *and* after it (3 tries per period). Alone on a 2-core CI machine that is
    128 frames, the issue's figure.

    **Whose xruns.** jackd names the client that was not finished in each xrun (printed). Under
    load that is the DAW double (measured at 512 frames: "client = daw-rec was not finished,
    state = Triggered") or, preempted, the agent ("state = Running" while its render's CPU time
    stayed under a fifth of the period): a take with xruns is played again, up to 3 times per
    period, and the checks run on a clean one; that the agent's own work fits the period is
    asserted from its render's CPU time (6.).
    """
    take = None
    for period in PERIODS:
        for _attempt in range(3):
            candidate = _take(bundle, period, tmp_path)
            if candidate is None or candidate.idle_after:
                print(f"{period}-frame periods: an idle client has xruns")
                continue
            print(f"{period}-frame periods: agent + DAW {candidate.xruns} xruns ({candidate.late_clients})")
            if candidate.xruns == 0 and not candidate.late_clients:
                take = candidate
                break
        if take is not None:
            break
    else:
        pytest.fail(f"no take without xruns even at {PERIODS[-1]}-frame periods: the machine is overloaded")
    period, start, n, status, seen, daw = take.period, take.start, take.n, take.status, take.seen, take.daw
    assert status.client == "Amadeus cello" and status.midi_port == "Amadeus cello:midi_in"
    assert status.audio_ports == ("Amadeus cello:out_L", "Amadeus cello:out_R")
    assert (status.sample_rate, status.block_size) == (RATE, period)
    assert take.reported == (status.latency_frames, status.latency_frames) == (0, 0)
    assert daw["late"] == 0
    phrase = mpe_phrase()
    sent = [(int(f), bytes(phrase[i][1].bytes())) for f, i in daw["sent"]]
    # 1. Nothing lost, sample-accurate: every event the DAW wrote reached the agent in the same
    #    cycle, at the same frame offset.
    assert sent == [(start + f, bytes(m.bytes())) for f, m in phrase]
    heard = [(label + offset, bytes(m.bytes())) for label, _, _, events in seen.calls for offset, m in events]
    assert heard == sent
    # 2. What the agent rendered, all of it, is the offline render of the events at the samples it queued them at.
    stream = np.concatenate([audio for _, _, audio, _ in seen.calls])
    assert seen.calls[0][1] == 0 and stream.size == seen.calls[-1][1] + seen.calls[-1][2].size
    queued = [(t + offset, m) for _, t, _, events in seen.calls for offset, m in events]
    # Rendered in periods vs in one block: float32 decoder state; measured up to 1.15e-4 at peaks
    # of 0.97 with 512-frame periods (8e-5 at 128), so within 2e-4.
    np.testing.assert_allclose(stream, offline(bundle, queued, stream.size), atol=TOLERANCE)
    # 3. The DAW recorded, cycle by cycle, exactly what the agent put on its ports, both channels.
    periods = seen.periods()
    for label, block in zip(daw["labels"], daw["blocks"], strict=True):
        if start <= label < start + n:
            np.testing.assert_array_equal(block[0], periods[label][1])
            np.testing.assert_array_equal(block[1], block[0])
    # 4. Onsets in JACK frames: where the render of the events as the agent queued them leaves the
    #    render without that note (both offline, so nothing else differs; 2. ties it to what was
    #    played), through the agent's cycle map (engine sample -> JACK frame), is the frame the DAW
    #    sent it at plus the latency the ports report (the envelope starts at 0 on the event's own
    #    frame, so the first changed sample is that one or the next).
    with_all = offline(bundle, queued, stream.size)
    for frame, data in sent:
        msg = mido.Message.from_bytes(data)
        if msg.type != "note_on":
            continue
        label = next(lb for lb in periods if lb <= frame < lb + period)
        t = periods[label][0]  # the engine sample of JACK frame `label`
        without = offline(bundle, [(e, m) for e, m in queued if m.channel != msg.channel], t + 2 * period)[t:]
        onset = label + int(np.flatnonzero(np.abs(with_all[t : t + 2 * period] - without) > 1e-6)[0])
        assert 0 <= onset - (frame + take.reported[1]) <= 1
    # 5. The recording against the offline render of the same MIDI at the frames the DAW sent it.
    #    Sample for sample, rendered from the engine's sample that JACK frame `start` was (the
    #    decoder's control frames fall on the same samples; rendered from sample 0 instead, as
    #    `amadeus play` renders a MIDI file, the control frames fall elsewhere and bands differ by
    #    0.5..1.4 dB, measured); aligned (lag 0); and spectrally (24 bands, dB).
    recorded, have = take.recording()
    assert have.all()
    label = next(lb for lb in periods if lb <= start < lb + period)
    shift = periods[label][0] + start - label
    expected = offline(bundle, [(shift + f, m) for f, m in phrase], shift + n)[shift:]
    lag = np.argmax(np.correlate(recorded[0][:8192], expected[:8192], "full")) - 8191
    assert lag == 0
    np.testing.assert_allclose(recorded[0], expected, atol=TOLERANCE)
    frames = np.arange(0, n - 2048, 1024)
    loud = band_db(expected, frames)
    diff = np.abs(band_db(recorded[0], frames) - loud)[loud > loud.max() - 60]
    print(f"per-band level, recording vs offline render: max difference {diff.max():.4f} dB")
    assert diff.max() < 0.01
    # 6. The agent's own work fits the period (its render's CPU time, so other processes' load is left out).
    busy = np.array(take.performance.host.busy_s)
    median, p99, peak = 1e3 * np.percentile(busy, [50, 99, 100])
    print(f"render CPU per {period}-frame period: median {median:.3f} p99 {p99:.3f} max {peak:.3f} ms")
    assert busy.max() < period / RATE  # measured here under load at 128 frames: median 0.5, max 2.3 ms of 2.67
    assert take.performance.host.errors == 0


def test_follows_buffer_size_changes(server, bundle):
    performance = JackPerformance(_engine_factory(bundle), bundle.deu)
    seen = Observed(performance)
    with contextlib.ExitStack() as clients:
        performance.start()
        clients.callback(performance.stop)
        daw = DawMidi()
        clients.callback(daw.close)
        rec = DawRecorder(clock=lambda: daw.cycle_frame)
        clients.callback(rec.close)
        _wire(performance, daw, rec)
        # 128 -> 1024: the period at which an idle client had no xruns here under load (see the take test)
        subprocess.run(["jack_bufsize", "1024"], check=True, capture_output=True)
        _wait(lambda: performance.host.status().block_size == 1024)
        _wait(lambda: rec.blocks[rec.last].shape[1] == 1024)
        onsets = []
        for _attempt in range(5):  # a take with an xrun (the machine's: see the take test) is played again
            rec.xruns = 0
            start = _play(daw, [(500, mido.Message("note_on", note=60, velocity=100))])
            _wait(lambda: rec.last > start + 4096)  # noqa: B023
            sent = daw.sent[-1][0] - start
            recorded, have = rec.audio(start, 4096)
            if rec.xruns == 0 and have.all():
                onsets.append(int(np.flatnonzero(recorded[0])[0]) - sent)
                break
            daw.schedule([(daw.client.frame_time, mido.Message("control_change", control=120, value=0).bytes())])
            time.sleep(0.3)
    assert seen.calls[-1][2].size == 1024 and performance.host.errors == 0
    assert onsets and onsets[0] in (0, 1)


def test_follows_the_server_sample_rate(bundle):
    jackd = JackServer(44100, 256).start()
    try:
        performance = JackPerformance(_engine_factory(bundle), bundle.deu)
        status = performance.start()
        performance.stop()
        assert status.sample_rate == 44100 and performance.source.engine.sample_rate == 44100
    finally:
        jackd.stop()


def test_server_going_away_ends_cleanly(server, bundle):
    performance = JackPerformance(_engine_factory(bundle), bundle.deu)
    performance.start()
    server.proc.terminate()
    assert performance.ended.wait(10)
    assert "the JACK server went away" in performance.ended_reason
    performance.stop()  # closes what libjack still holds: no crash, no hang
    performance.stop()
    assert not performance.host.status().running


def test_server_going_away_leaves_the_process_healthy(server, bundle):
    """``amadeus play --live`` through JACK: the server stops under it; it says why and exits 1, no crash."""
    env = {**os.environ, "AMADEUS_HOME": str(bundle.path.parents[2]), "PYTHONFAULTHANDLER": "1"}
    cmd = [sys.executable, "-m", "instrument_agent.cli", "play", "--deu", "cello", "--live", "--backend", "jack"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        while not lines or "playing" not in lines[-1]:  # the client is active
            lines.append(proc.stdout.readline())
            assert lines[-1], "".join(lines)
        server.proc.terminate()
        out = "".join(lines) + proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out
    assert "the JACK server went away" in out and "stopped cleanly" in out
    assert "Fatal Python error" not in out
