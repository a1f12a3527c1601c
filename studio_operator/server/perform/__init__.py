"""Performing in the studio: engine sessions for the Perform stream and whole-file renders
(:mod:`.sessions`), and rendering through TensorFlow Serving (:mod:`.tf_serving`)."""

from studio_operator.server.perform.sessions import (
    Cancelled,
    PerformSession,
    encode_audio,
    make_engine,
    parse_midi_bytes,
    render_file,
)

__all__ = ["Cancelled", "PerformSession", "encode_audio", "make_engine", "parse_midi_bytes", "render_file"]
