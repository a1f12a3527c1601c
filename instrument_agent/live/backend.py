"""Which live backend plays: JACK (a JACK or PipeWire-JACK server is running) or PortAudio.

``auto`` picks JACK when a server answers, else PortAudio (with rtmidi's virtual port:
ALSA on Linux, CoreMIDI on macOS; loopMIDI on Windows). JACK needs ``libjack`` at run
time (JACK-Client loads it on import): without it, ``auto`` falls back to PortAudio and
``jack`` explains what to install.
"""

from __future__ import annotations

import sys

from instrument_agent.live.portaudio import LiveError

__all__ = ["BACKENDS", "BackendError", "choose_backend", "jack_missing", "jack_server_running"]

BACKENDS = ("auto", "jack", "portaudio")


class BackendError(LiveError):
    """The asked-for live backend can't run here (the message says why and what to do)."""


def jack_missing() -> str | None:
    """Why the JACK backend can't load here (None: JACK-Client and libjack are there)."""
    try:
        import jack  # noqa: F401
    except ImportError as exc:
        return f"JACK-Client is not installed ({exc}); pip install 'amadeus[agent]'"
    except OSError as exc:  # JACK-Client raises OSError('JACK library not found')
        hint = (
            "on Debian/Ubuntu: sudo apt-get install libjack-jackd2-0 (or pipewire-jack)"
            if sys.platform.startswith("linux")
            else "install JACK (https://jackaudio.org/downloads/)"
        )
        return f"the JACK library is missing ({exc}); {hint}"
    return None


def jack_server_running(server: str | None = None) -> bool:
    """True when a JACK (or PipeWire-JACK) server answers; never starts one."""
    if jack_missing() is not None:
        return False
    import jack

    jack.set_error_function(lambda _msg: None)  # libjack's "Cannot connect to server socket" lines
    try:
        client = jack.Client("amadeus-probe", no_start_server=True, servername=server)
    except jack.JackError:
        return False
    finally:
        jack.set_error_function(None)
    client.close()
    return True


def choose_backend(requested: str = "auto", *, server: str | None = None) -> str:
    """``jack`` or ``portaudio`` for ``requested`` (``auto``/``jack``/``portaudio``).

    Raises :class:`BackendError` for an unknown name, or for ``jack`` when libjack or
    the server is missing (the message says how to start one).
    """
    if requested not in BACKENDS:
        raise BackendError(f"unknown live backend {requested!r}: choose one of {', '.join(BACKENDS)}")
    if requested == "portaudio":
        return "portaudio"
    if requested == "auto":
        return "jack" if jack_server_running(server) else "portaudio"
    missing = jack_missing()
    if missing:
        raise BackendError(f"the JACK backend can't load: {missing}; or use --backend portaudio")
    if not jack_server_running(server):
        raise BackendError(
            "no JACK server is running: start one (qjackctl, 'jackd -d alsa', or PipeWire with pipewire-jack) "
            "or use --backend portaudio"
        )
    return "jack"
