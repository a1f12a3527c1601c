import pytest

from instrument_agent.personality.atomic import atomic_write, atomic_writer


def test_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "deep" / "state.pb"
    atomic_write(target, b"one")
    atomic_write(target, "two", file_mode=0o600)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["state.pb"]


def test_a_failing_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "index.json"
    atomic_write(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target, "w") as handle:
            handle.write("half of the new")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.json"]
