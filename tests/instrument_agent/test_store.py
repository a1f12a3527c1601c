import multiprocessing

import pytest

from instrument_agent.personality import BundleCorruptError, BundleWriteError, UnknownDeuError, UnknownVersionError
from instrument_agent.personality.store import InvalidDeuNameError, PersonalityStore
from instrument_agent.proto import personality_pb2


def _imitation():
    manifest = personality_pb2.PersonalityManifest(sample_rate=16000, frame_rate=50)
    manifest.practice.kind = personality_pb2.PracticeRecord.IMITATION
    return manifest


def test_versions_count_up_with_lineage(amadeus_home):
    store = PersonalityStore()
    assert store.home == amadeus_home
    first = store.commit("violin", _imitation(), {"decoder.npz": b"one"})
    tuned = store.derive(first, player_profile=personality_pb2.PlayerProfile(gain_db=-3, configured=True))
    assert (first.version, tuned.version) == (1, 2)
    assert tuned.manifest.parent_version == 1 and tuned.manifest.parent_digest == first.digest
    assert (tuned.path / "decoder.npz").read_bytes() == b"one"
    assert store.get("violin").version == 2 and store.get("violin", 1).digest == first.digest
    assert [v.version for v in store.lineage("violin")] == [2, 1]
    assert store.deus() == ["violin"]


def test_unknown_deu_and_version_name_what_exists():
    store = PersonalityStore()
    store.commit("violin", _imitation(), {"a": b"1"})
    with pytest.raises(UnknownDeuError, match="'cello'.*known: violin"):
        store.get("cello")
    with pytest.raises(UnknownVersionError, match="no version 7 .*versions: 1"):
        store.get("violin", 7)
    with pytest.raises(InvalidDeuNameError):
        store.get("../etc")


def test_failed_commit_keeps_the_last_good_version(monkeypatch):
    store = PersonalityStore()
    good = store.commit("violin", _imitation(), {"a": b"1"})
    import instrument_agent.personality.bundle as bundle_module

    def fail_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle_module.os, "fsync", fail_fsync)
    with pytest.raises(BundleWriteError, match="No space left"):
        store.commit("violin", _imitation(), {"a": b"2"})
    monkeypatch.undo()
    assert store.get("violin").digest == good.digest
    assert [v.version for v in store.versions("violin")] == [1]


def test_tampered_version_is_refused_but_others_still_load():
    store = PersonalityStore()
    store.commit("violin", _imitation(), {"a": b"1"})
    second = store.commit("violin", _imitation(), {"a": b"2"})
    (second.path / "a").write_bytes(b"3")
    with pytest.raises(BundleCorruptError, match="sha256 does not match"):
        store.get("violin")
    assert store.get("violin", 1).version == 1


def _commit_in_process(home, barrier, queue):
    store = PersonalityStore(home)
    barrier.wait()
    queue.put(store.commit("violin", _imitation(), {"a": b"x"}).version)


def test_concurrent_practices_get_distinct_versions(amadeus_home):
    context = multiprocessing.get_context("spawn")
    barrier, queue = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_commit_in_process, args=(str(amadeus_home), barrier, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sorted(queue.get(timeout=5) for _ in workers) == [1, 2, 3, 4]
    assert [v.version for v in PersonalityStore().versions("violin")] == [1, 2, 3, 4]
