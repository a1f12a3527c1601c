"""The ``ddsp-vst`` format of ``amadeus personalities export`` (TensorFlow loads when it runs)."""

from __future__ import annotations

from pathlib import Path

from instrument_agent.cli.exports import ExportFormat, ExportFormatUnavailable, ExportReport

__all__ = ["DDSP_VST"]


def _ddsp_vst(bundle, output: Path | None) -> ExportReport:
    try:
        from pipelines.exports import export_ddsp_vst
    except ModuleNotFoundError as exc:  # a light install: pipelines without its TensorFlow
        raise ExportFormatUnavailable(
            f"--format ddsp-vst needs TensorFlow ({exc}): pip install 'amadeus[studio]'"
        ) from None
    from instrument_agent.profiles import resolve_player_profile

    done = export_ddsp_vst(bundle, output)
    transpose = resolve_player_profile(bundle.manifest.player_profile).transpose
    fit = done.power_map
    return ExportReport(
        done.path,
        [
            f"DDSP-VST lists it as {done.path.stem!r} (it loads every *.tflite under ~/Documents/Magenta/DDSP/Models)",
            f"its power input maps to this personality's loudness within {fit.rms_error_db:.2f} dB RMS, "
            f"fitted on {done.fitted_on}",
            "carried: gain, noise gain, harmonic tilt, loudness offset; the plugin's own knobs do reverb, ADSR, "
            "pitch shift",
        ]
        + (
            [f"set the plugin's pitch shift to {transpose:+g} semitones (this personality's transpose)"]
            if transpose
            else []
        ),
    )


DDSP_VST = ExportFormat("ddsp-vst", "a .tflite for Magenta's DDSP-VST plugin", _ddsp_vst)
