"""The DAW double as its own process (a DAW is never in the instrument's process, and Python
clients in one process share its GIL: measured, one late client then makes the others late).

    python _jack_daw.py AGENT_CLIENT PHRASE.json OUT.npz [--align]

PHRASE.json: [[frame, [midi bytes...]], ...] relative to the phrase start. Connects its MIDI
output to ``AGENT_CLIENT:midi_in`` and the agent's ``out_L``/``out_R`` to its recorder, plays
the phrase 0.1 s from now (``--align``: from the next period's first frame, so a phrase frame
``k`` is offset ``k % period`` of its period), records until 0.25 s after its last event, writes
OUT.npz: start, n, sent [k, 2] (frame, index into the phrase), late, labels [m],
blocks [m, 2, period], xruns (while the phrase played), xrun_frames [x] (the JACK frame time
each xrun was reported at). Prints "ready" once connected (the server is ``$JACK_DEFAULT_SERVER``).
It dies with its parent.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _jack_support import DawMidi, DawRecorder, _die_with_parent


def main(agent: str, phrase_path: str, out: str, align: bool = False) -> None:
    _die_with_parent()
    phrase = [(int(f), bytes(b)) for f, b in json.loads(open(phrase_path).read())]
    daw = DawMidi()
    rec = DawRecorder(clock=lambda: daw.cycle_frame)
    try:
        daw.client.connect(daw.port, f"{agent}:midi_in")
        for side, port in zip(("out_L", "out_R"), rec.ports, strict=True):
            rec.client.connect(f"{agent}:{side}", port)
        rate = daw.client.samplerate
        time.sleep(0.2)
        print("ready", flush=True)
        before, before_frames = rec.xruns, len(rec.xrun_frames)
        start = daw.client.frame_time + rate // 10
        if align:
            start += -start % daw.client.blocksize
        daw.schedule([(start + f, b) for f, b in phrase])
        end = start + phrase[-1][0] + rate // 4
        deadline = time.time() + 30 + phrase[-1][0] / rate
        while not (daw.pending == 0 and rec.last > end) and time.time() < deadline:
            time.sleep(0.02)
        taken = rec.xruns - before
    finally:
        daw.close()
        rec.close()
    index = {b: i for i, (_, b) in enumerate(phrase)}
    labels = sorted(rec.blocks)
    np.savez(
        out,
        start=start,
        n=end - start,
        sent=np.array([(f, index[b]) for f, b in daw.sent], np.int64).reshape(-1, 2),
        late=daw.late,
        labels=np.array(labels, np.int64),
        blocks=np.stack([rec.blocks[lb] for lb in labels]),
        xruns=taken,
        xrun_frames=np.array(rec.xrun_frames[before_frames:], np.int64),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The DAW double: plays a phrase to the agent, records its ports.")
    parser.add_argument("agent")
    parser.add_argument("phrase")
    parser.add_argument("out")
    parser.add_argument("--align", action="store_true", help="start the phrase on a period's first frame")
    args = parser.parse_args()
    main(args.agent, args.phrase, args.out, args.align)
