"""The Amadeus instrument agent: the light half of Amadeus.

It owns the personality bundle format (read, verify, write), the local
personality store, the playing of a personality (MIDI/MPE to audio, streaming
and offline), the studio client, and the instrument's own state. It never
imports TensorFlow, kfp, mlflow, kubernetes or kopf (``pip install amadeus[agent]``).

Submodules are imported on demand to keep ``import instrument_agent`` fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
