"""The streaming performance engine: MIDI/MPE (or f0/loudness curves) in, audio out.

Time is counted in output samples from the engine's start. Everything is
keyed to absolute sample times, never to block edges, so rendering the same
events with any block size (32..2048, or whole seconds offline) gives the
same audio up to float rounding:

* **Control frames** sit on a fixed grid, frame ``k`` at sample
  ``round(k · sample_rate / frame_rate)``. At each grid point every sounding
  voice's decoder steps once (voices batched) with the loudness and timbre
  its MIDI state gave a fixed lead (8 ms, at most half a frame) before that
  instant; within the frame the harmonic amplitudes move linearly from the
  previous frame's controls to these, and the noise uses these. A pressure/CC
  change therefore reaches the decoder within one control frame plus the lead
  (:attr:`Engine.latency_samples`), and with blocks shorter than a frame the
  step runs exactly in the blocks before its boundary
  (:mod:`~instrument_agent.engine.speculation`).
* **Expression** (:mod:`~instrument_agent.engine.expression`): pitch bend,
  pressure, CC74, CC7/CC11 act at their own sample without cutting the span
  being rendered (an MPE controller sends them for every note hundreds of
  times a second).
* **Pitch** of a MIDI voice follows its note and bends at the event's own
  sample, gliding over 3 ms (phase-continuous, no zipper): the oscillators do
  not wait for a control frame. Curve-driven voices (timbre transfer)
  interpolate f0 per frame, like their amplitudes.
* **Notes** start at their event's exact sample: the new voice's decoder
  steps at once (fresh GRU state) and its ADSR envelope
  (:mod:`~instrument_agent.engine.envelope`), applied per sample, rises from 0,
  so onsets are click-free and add no latency. Note-off starts the envelope's
  release; a voice is freed when its release ends.
* **Polyphony** (:mod:`~instrument_agent.engine.voices`): one voice per note up
  to the playerProfile's ``max_voices``; above it the oldest releasing (else the
  oldest) voice is stolen with a 5 ms fade.
* **State** carried across blocks: GRU state, oscillator phases, noise filter
  tails, per-voice noise generators, the reverb's input history and tail.

Speed: spans between note events are rendered whole
(:mod:`~instrument_agent.engine.rendering`), the oscillators only for the
harmonics each voice plays below Nyquist; with blocks shorter than a control
frame the next boundary's step is done ahead (:mod:`~instrument_agent.engine.speculation`).

The playerProfile is applied at render time (:meth:`Engine.set_player_profile`
takes effect at the next control frame, or for pitch at the next MIDI event if
one comes first; gain and reverb mix at the next block).
"""

from .engine import Engine
from .limits import MAX_BLOCK, MAX_SAMPLE_RATE, MIN_BLOCK, MIN_SAMPLE_RATE, EngineConfigError

__all__ = ["MAX_BLOCK", "MAX_SAMPLE_RATE", "MIN_BLOCK", "MIN_SAMPLE_RATE", "Engine", "EngineConfigError"]
