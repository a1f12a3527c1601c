"""The bad-input sweep at ``amadeus practice imitation``: generated recordings, none of which
holds one example's worth of sound. Each is refused before training with one ``error:`` line
naming the file and exit code 2; no version appears, the store and the recording are unchanged."""

from __future__ import annotations

import shutil

import pytest
from _bad_audio import audio_files
from _bad_input import SWEEP, count, run_cli, squash, tree_digest
from hypothesis import given, settings

pytestmark = pytest.mark.bad_input


@settings(SWEEP, max_examples=50)
@given(case=audio_files())
def test_practise_with_a_generated_recording(case, amadeus_home, tmp_path):
    count("amadeus practice imitation (audio)")
    name, data, _ = case
    shutil.rmtree(tmp_path / "in", ignore_errors=True)
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / name
    source.write_bytes(data)
    store = amadeus_home / "personalities"
    before = tree_digest(store, source)

    code, printed = run_cli(
        ["practice", "imitation", "--deu", "viola", str(source), "--steps", "2", "--f0-method", "yin"]
    )

    assert "Traceback" not in printed
    assert code == 2, printed
    assert printed.startswith("error: ") and squash(str(source)) in squash(printed), printed
    assert tree_digest(store, source) == before
