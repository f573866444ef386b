"""The changelog order every backend keeps: a reader that sees seq N sees every seq below
N, because a second writer gets its seq only after the first has committed; reads keep
one snapshot; a rolled-back write leaves nothing behind. Through the interfaces only."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest

from storage import Storage
from sync.store import NewVersion


def version(record_id: str) -> NewVersion:
    return NewVersion(
        entity="visit",
        id=record_id,
        version=1,
        deleted=False,
        patient_id="P1",
        data={"patient_id": "P1", "notes": "é ✓"},
        meta={"patient_id": (1, "c1"), "notes": (1, "c1")},
        changed=("patient_id", "notes"),
        client_id="c1",
        author_id="u1",
        mutation_id=None,
        at="2026-11-24T09:00:00.000000+00:00",
    )


def write(storage: Storage, record_id: str) -> int:
    with storage.write() as uow:
        return uow.store.write_version(version(record_id))


def test_a_second_writer_gets_its_seq_only_after_the_first_commits(storage: Storage) -> None:
    second: list[int] = []
    with ExitStack() as first_writer:
        first = first_writer.enter_context(storage.write())
        low = first.store.write_version(version("V-low"))
        thread = threading.Thread(target=lambda: second.append(write(storage, "V-high")))
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and second == []  # waiting for the first writer
        with storage.read() as reader:  # a pull in between sees neither
            assert reader.store.max_seq() == 0
            assert reader.store.changed_since(["P1"], 0, 10) == []
    thread.join(30)
    assert len(second) == 1 and second[0] > low
    with storage.read() as reader:
        assert reader.store.max_seq() == second[0]
        changed = reader.store.changed_since(["P1"], 0, 10)
        assert [(row.id, row.seq) for row in changed] == [("V-low", low), ("V-high", second[0])]


def test_a_read_keeps_its_snapshot_while_a_write_commits(storage: Storage) -> None:
    with storage.read() as reader:
        assert reader.store.max_seq() == 0
        write(storage, "V1")
        assert reader.store.max_seq() == 0
        assert reader.store.get_record("visit", "V1") is None
    with storage.read() as reader:
        record = reader.store.get_record("visit", "V1")
        assert record is not None and record.data == {"patient_id": "P1", "notes": "é ✓"}
        assert record.meta == {"patient_id": (1, "c1"), "notes": (1, "c1")}
        assert record.seq == reader.store.max_seq()


def test_a_rolled_back_write_leaves_no_change(storage: Storage) -> None:
    with pytest.raises(RuntimeError), storage.write() as uow:
        uow.store.write_version(version("V-gone"))
        raise RuntimeError("the request failed")
    write(storage, "V-kept")
    with storage.read() as reader:
        assert reader.store.get_record("visit", "V-gone") is None
        assert [row.id for row in reader.store.changed_since(["P1"], 0, 10)] == ["V-kept"]
        entry = reader.store.history_entry("visit", "V-kept", 1)
        assert entry is not None and entry.client_id == "c1" and entry.mutation_id is None
