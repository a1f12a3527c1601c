"""``amadeus play``: performance sessions from the command line.

Registered by :mod:`instrument_agent.cli` through :func:`register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from instrument_agent.cli.options import BlockSizeOpt, DeuOpt, SampleRateOpt, VersionOpt
from instrument_agent.cli.output import err_console

__all__ = ["PANEL", "register"]

PANEL = "Performance"

_MIDI_SUFFIXES = {".mid", ".midi", ".smf"}

_HELP = """Play a deu: a MIDI file or a recording to a WAV file, or live from a MIDI port. Without
--version it plays the deu's champion (amadeus personalities promote), else its latest version.

[bold]MIDI file[/bold] (plain or MPE) rendered offline with a progress bar:

    amadeus play --deu cello song.mid -o song.wav [--version 3] [--sample-rate 48000]

[bold]Timbre transfer[/bold]: a monophonic recording (voice, another instrument) played by the deu,
following its pitch and loudness, at the recording's sample rate unless --sample-rate says;
--octave-shift / --loudness-shift adjust it like DDSP-VST, --auto picks both from the
personality's training data:

    amadeus play --deu cello humming.wav -o cello.wav --octave-shift -1 --loudness-shift 6

[bold]Live[/bold]: with a JACK (or PipeWire-JACK) server running, registers the JACK client "Amadeus <deu>"
(MIDI in, stereo out, latency reported to the DAW; --midi-port connects a JACK MIDI output to it);
otherwise opens the virtual MIDI input port "Amadeus <deu>" (on Windows create a loopMIDI port and
pass --midi-port) and plays to the default audio device. Prints the latency it adds. Ctrl-C stops.
See docs/daw.md to pair it with a DAW.

    amadeus play --deu cello --live [--backend auto|jack|portaudio] [--block-size 128]

The playerProfile of the personality (gain, tilt, noise, reverb, transpose, envelope, MPE
ranges, polyphony) is applied as the sound is made; change it with a tuning practice, no
retraining needed.

Notes the personality never practised (above, below or in a gap of its training audio's notes,
or softer/louder than its dynamics: see [bold]amadeus personalities show DEU --coverage[/bold]) are
warned about once per phrase and kind, e.g. "warning: notes above E6 were never practised: F6"."""


def play_command(
    deu: DeuOpt,
    source: Annotated[
        Optional[Path],
        typer.Argument(help="A MIDI file (.mid) to render, or an audio file for timbre transfer.", show_default=False),
    ] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="WAV file to write (offline modes).")] = None,
    version: VersionOpt = None,
    sample_rate: SampleRateOpt = None,
    block_size: BlockSizeOpt = None,
    octave_shift: Annotated[
        float, typer.Option("--octave-shift", help="Timbre transfer: shift the pitch by octaves.")
    ] = 0.0,
    loudness_shift: Annotated[
        float, typer.Option("--loudness-shift", help="Timbre transfer: shift the loudness, dB.")
    ] = 0.0,
    auto: Annotated[
        bool,
        typer.Option("--auto", help="Timbre transfer: also shift octave and loudness towards the training data."),
    ] = False,
    live: Annotated[bool, typer.Option("--live", help="Play live from a MIDI port to the audio device.")] = False,
    midi_port: Annotated[
        Optional[str],
        typer.Option(
            "--midi-port", help="Live: open this existing MIDI input port (e.g. loopMIDI) instead of a virtual one."
        ),
    ] = None,
    audio_backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="Live: auto (JACK when a JACK/PipeWire-JACK server runs, else PortAudio), jack or portaudio.",
        ),
    ] = "auto",
    backend: Annotated[
        str,
        typer.Option(
            "--decoder",
            help="Decoder runtime: auto (numpy, measured fastest inside the engine), numpy, tflite or "
            "onnx (onnxruntime, with amadeus[onnx]).",
        ),
    ] = "auto",
) -> None:
    from instrument_agent.personality.store import PersonalityStore

    console = err_console
    if live == (source is not None):
        raise typer.BadParameter("give either a MIDI/audio file to render or --live", param_hint="SOURCE / --live")
    store = PersonalityStore()
    bundle = store.get(deu, store.resolve(deu, version))  # default: the champion, else the latest
    if live:
        _play_live(bundle, console, sample_rate or 48000, block_size or 256, midi_port, backend, audio_backend)
        return
    from instrument_agent.render import OFFLINE_BLOCK

    block_size = block_size or OFFLINE_BLOCK  # offline: big blocks are 3.5x faster, same samples
    if output is None:
        raise typer.BadParameter("name the WAV file to write with -o/--output", param_hint="--output")
    assert source is not None  # not live: a file to render
    if source.suffix.lower() in _MIDI_SUFFIXES:
        from instrument_agent.render import render_midi_file

        result = render_midi_file(
            bundle, source, output, sample_rate=sample_rate or 48000, block_size=block_size, backend=backend
        )
    else:
        from instrument_agent.render import transfer_timbre_file

        result = transfer_timbre_file(
            bundle,
            source,
            output,
            sample_rate=sample_rate,
            octave_shift=octave_shift,
            loudness_shift_db=loudness_shift,
            auto=auto,
            block_size=block_size,
            backend=backend,
        )
    console.print(
        f"[green]wrote[/green] {result.path} ({result.seconds:.1f} s of audio in {result.compute_seconds:.1f} s, "
        f"{result.realtime_factor:.0f}× real time, peak {result.peak:.2f})"
    )
    for warning in result.warnings:  # notes outside the coverage map, once per phrase and kind
        console.print(
            f"[yellow]warning:[/yellow] {warning.message} (phrase {warning.phrase}, at {warning.time_s:.1f} s)"
        )
    if result.peak > 1.0:
        console.print(
            "[yellow]the output peaks above full scale (stored as float WAV); "
            "lower gain_db in the playerProfile[/yellow]"
        )


def _play_live(
    bundle, console, sample_rate: int, block_size: int, midi_port: str | None, backend: str, audio_backend: str
) -> None:
    from instrument_agent.live.performance import play_live

    code = play_live(
        bundle,
        console.print,
        sample_rate=sample_rate,
        block_size=block_size,
        midi_port=midi_port,
        decoder=backend,
        backend=audio_backend,
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the ``play`` command to the ``amadeus`` app."""
    app.command("play", help=_HELP, rich_help_panel=PANEL)(play_command)
