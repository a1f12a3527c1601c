"""Exports of a personality for other hosts: :mod:`.ddsp_vst` (Magenta's DDSP-VST plugin).

``export_ddsp_vst(bundle, path)`` writes a ``.tflite`` model file the plugin loads, with the
power -> loudness map of :mod:`.power_map` folded into its graph (:mod:`.vst_graph`).
"""

from .ddsp_vst import (
    VST_INPUTS,
    VST_OUTPUTS,
    VstContractError,
    VstExport,
    default_vst_path,
    export_ddsp_vst,
    measure_power_map,
    read_vst_metadata,
    vst_tflite,
)
from .power_map import PowerToLoudness, compute_power, fit_power_map, power_map_error

__all__ = [
    "VST_INPUTS",
    "VST_OUTPUTS",
    "PowerToLoudness",
    "VstContractError",
    "VstExport",
    "compute_power",
    "default_vst_path",
    "export_ddsp_vst",
    "fit_power_map",
    "measure_power_map",
    "power_map_error",
    "read_vst_metadata",
    "vst_tflite",
]
