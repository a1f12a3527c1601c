"""``amadeus demo``: training audio made by the project (a bowed-string voice,
or a soundfont render), an imitation practice, and the bundled phrase played
by the result. See README.md here for the audio's licence."""

from .flow import DEMO_DEU, DEMO_PROFILE, DemoResult, run_demo, training_audio
from .make_phrase import PHRASE_PATH, phrase_notes, write_phrase
from .score import Note, practice_score, write_midi
from .soundfont import SoundfontError, find_soundfont, fluidsynth_available, render_with_soundfont
from .voice import DemoAudio, body_gain_db, bowed_string, demo_training_audio

__all__ = [
    "DEMO_DEU",
    "DEMO_PROFILE",
    "PHRASE_PATH",
    "DemoAudio",
    "DemoResult",
    "Note",
    "SoundfontError",
    "body_gain_db",
    "bowed_string",
    "demo_training_audio",
    "find_soundfont",
    "fluidsynth_available",
    "phrase_notes",
    "practice_score",
    "render_with_soundfont",
    "run_demo",
    "training_audio",
    "write_midi",
    "write_phrase",
]
