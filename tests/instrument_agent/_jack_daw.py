"""The DAW double as its own process (a DAW is never in the instrument's process, and Python
clients in one process share its GIL: measured, one late client then makes the others late).

    python _jack_daw.py AGENT_CLIENT PHRASE.json OUT.npz

PHRASE.json: [[frame, [midi bytes...]], ...] relative to the phrase start. Connects its MIDI
output to ``AGENT_CLIENT:midi_in`` and the agent's ``out_L``/``out_R`` to its recorder, plays
the phrase 0.1 s from now, records until 0.25 s after its last event, writes OUT.npz:
start, sent [k, 2] (frame, index into the phrase), late, labels [m], blocks [m, 2, period], xruns.
Prints "ready" once connected (the server is ``$JACK_DEFAULT_SERVER``).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from _jack_support import DawMidi, DawRecorder


def main(agent: str, phrase_path: str, out: str) -> None:
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
        before = rec.xruns
        start = daw.client.frame_time + rate // 10
        daw.schedule([(start + f, b) for f, b in phrase])
        end = start + phrase[-1][0] + rate // 4
        deadline = time.time() + 30
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
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
