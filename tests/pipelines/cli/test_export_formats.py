"""``amadeus personalities export DEU --format ddsp-vst`` (the format ``pipelines.cli`` contributes): into
the plugin's model folder by default; a personality the plugin cannot hold is refused in one line."""

from __future__ import annotations

from _bad_input import run_cli, squash
from _perform_support import make_personality

from instrument_agent.decoder import DecoderShape
from pipelines.exports import read_vst_metadata


def test_ddsp_vst_export_lands_in_the_plugins_folder(tmp_path, monkeypatch):
    make_personality(tmp_path, shape=DecoderShape(32, 1, 32, 20, 65), reverb_seconds=0.0)
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    code, printed = run_cli(["personalities", "export", "cello", "--format", "ddsp-vst"])
    assert code == 0, printed
    path = tmp_path / "user" / "Documents" / "Magenta" / "DDSP" / "Models" / "Amadeus" / "cello-v1.tflite"
    assert read_vst_metadata(path)["amadeus"]["deu"] == "cello"
    assert "DDSP-VSTlistsitas'cello-v1'" in squash(printed)
    assert sorted(p.name for p in path.parent.iterdir()) == ["cello-v1.tflite"]  # no temporary left


def test_a_personality_that_does_not_fit_is_one_line_and_no_file(tmp_path, monkeypatch):
    make_personality(tmp_path, reverb_seconds=0.0)  # 17 noise bands
    monkeypatch.setenv("AMADEUS_HOME", str(tmp_path / "home"))
    out = tmp_path / "cello.tflite"
    code, printed = run_cli(["personalities", "export", "cello", "--format", "ddsp-vst", "-o", str(out)])
    assert code == 2 and len(printed.strip().splitlines()) <= 2  # rich may wrap the one line
    assert squash(printed).startswith("error:cellov1doesnotfitDDSP-VST:17noisebands")
    assert not out.exists()
