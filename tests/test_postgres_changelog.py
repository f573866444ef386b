"""The changelog never skips a late commit on PostgreSQL (sync/store/postgres.py).

A sequence hands out numbers at INSERT time, but transactions commit in their own order.
The first test shows the hazard with plain SQL: the lower seq commits last, and a pull in
between sees the higher one and would move its cursor past the lower for ever. The
others force the same interleaving through the store and the engine: the second writer
cannot even get its seq until the first has committed, so the pull in between sees
neither, and afterwards both, in commit order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import psycopg
import pytest
from sync_helpers import Device, make_registry, nurse, seed_patient, server_view, server_write

from storage.postgres import PostgresStorage
from sync import SYSTEM, Mutation, apply_mutation
from sync.cursor import decode_cursor
from sync.store.postgres import CHANGELOG_LOCK, PostgresStore


@pytest.fixture
def storage(postgres_url: str) -> Iterator[PostgresStorage]:
    opened = PostgresStorage(postgres_url, pool_min_size=1, pool_max_size=6)
    yield opened
    opened.close()


def _insert_raw(conn: psycopg.Connection[Any], record_id: str) -> int:
    """A changelog row and its record with a plain sequence number (no lock)."""
    row = conn.execute(
        "INSERT INTO changelog (seq, entity, id, version, deleted, patient_id, data,"
        " client_id, author_id, changed, at) VALUES (nextval('changelog_seq'), 'visit', %s,"
        " 1, false, 'P1', '{}', 'c', 'a', '[]', 'now') RETURNING seq",
        (record_id,),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data, seq)"
        " VALUES ('visit', %s, 1, false, 'now', 'P1', '{}', %s)",
        (record_id, row[0]),
    )
    return int(row[0])


def test_without_the_lock_a_late_commit_is_what_a_pull_would_skip(postgres_url: str) -> None:
    first = psycopg.connect(postgres_url, autocommit=True)
    second = psycopg.connect(postgres_url, autocommit=True)
    reader = psycopg.connect(postgres_url, autocommit=True)
    try:
        first.execute("BEGIN")
        low = _insert_raw(first, "V-low")
        second.execute("BEGIN")
        high = _insert_raw(second, "V-high")
        second.execute("COMMIT")
        assert low < high
        seen = [row[0] for row in reader.execute("SELECT seq FROM records ORDER BY seq")]
        assert seen == [high]  # a cursor moved to `high` now would never see `low`
        first.execute("COMMIT")
    finally:
        for conn in (first, second, reader):
            conn.close()


def _waiting_on_the_changelog_lock(storage: PostgresStorage) -> int:
    with psycopg.connect(storage.conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            (CHANGELOG_LOCK,),
        ).fetchone()
        return int(row[0]) if row else 0


def _wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_pull_between_two_writers_never_advances_past_the_uncommitted_one(
    storage: PostgresStorage,
) -> None:
    registry = make_registry()
    # The puller has a connection of its own (pull() asks for stored scope sets after
    # its read transaction, which a storage's sync_store() refuses: an engine issue).
    store = PostgresStore.open(storage.conninfo)
    seed_patient(store, registry, "P1", "A")
    puller = Device(store, registry, nurse())
    puller.sync()
    cursor_before = decode_cursor(puller.cursor or "").since

    with ExitStack() as first_writer:
        first = first_writer.enter_context(storage.write())
        low = apply_mutation(
            first.store, registry, SYSTEM,
            Mutation("visit", "V-low", "create", {"patient_id": "P1"}, None),
        )
        second_done: list[Any] = []
        second = threading.Thread(
            target=lambda: second_done.append(server_write(
                storage.sync_store(), registry, "visit", "V-high", "create", {"patient_id": "P1"}
            ))
        )
        second.start()
        _wait_until(lambda: _waiting_on_the_changelog_lock(storage) == 1)
        assert second_done == []  # no seq for the second writer while the first is open

        [page] = puller.sync()
        assert page.changes == ()
        assert decode_cursor(puller.cursor or "").since == cursor_before
    second.join(10)
    assert len(second_done) == 1

    puller.sync()
    assert set(puller.records) == {("patient", "P1"), ("visit", "V-low"), ("visit", "V-high")}
    assert puller.records == server_view(store, registry, puller.actor)
    with storage.read() as uow:
        low_seq = uow.store.get_record("visit", "V-low")
        high_seq = uow.store.get_record("visit", "V-high")
    assert low is not None and low_seq is not None and high_seq is not None
    assert low_seq.seq < high_seq.seq  # seq order is commit order
    store.conn.close()


def test_reads_take_no_lock_and_do_not_wait_for_a_writer(storage: PostgresStorage) -> None:
    store, registry = storage.sync_store(), make_registry()
    seed_patient(store, registry, "P1", "A")
    with storage.write() as uow:
        server_write_in(uow, registry, "V1")
        with storage.read() as reader:  # a second connection, while the lock is held
            assert reader.store.max_seq() == 1
            assert reader.store.get_record("visit", "V1") is None


def server_write_in(uow: Any, registry: Any, record_id: str) -> None:
    mutation = Mutation("visit", record_id, "create", {"patient_id": "P1"}, None)
    apply_mutation(uow.store, registry, SYSTEM, mutation)


def test_a_rolled_back_savepoint_gives_up_its_lock_and_the_store_takes_it_again(
    storage: PostgresStorage,
) -> None:
    store, registry = storage.sync_store(), make_registry()
    seed_patient(store, registry, "P1", "A")
    with storage.write() as uow:
        with pytest.raises(RuntimeError), uow.store.savepoint():
            server_write_in(uow, registry, "V-gone")
            raise RuntimeError("the mutation failed")
        assert not uow.changelog_locked  # released with the savepoint
        server_write_in(uow, registry, "V-kept")
        assert uow.changelog_locked
    with storage.read() as uow:
        assert uow.store.get_record("visit", "V-gone") is None
        assert uow.store.get_record("visit", "V-kept") is not None


def test_two_pushes_of_one_device_at_once_apply_each_mutation_once(
    storage: PostgresStorage,
) -> None:
    registry = make_registry()
    seed_patient(storage.sync_store(), registry, "P1", "A")
    batch = [
        {"mutation_id": n, "entity": "visit", "id": f"V{n}", "op": "create",
         "base_version": 0, "fields": {"patient_id": "P1", "notes": "x"}}
        for n in range(1, 6)
    ]
    start = threading.Barrier(2)
    answers: list[Any] = []

    def push() -> None:
        device = Device(storage.sync_store(), registry, nurse())
        start.wait()
        answers.append(device.push(*batch).to_wire())

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert answers[0]["last_mutation_id"] == 5
    with psycopg.connect(storage.conninfo) as conn:
        rows = conn.execute(
            "SELECT mutation_id, count(*) FROM changelog WHERE client_id = 'n1-dev'"
            " GROUP BY mutation_id ORDER BY mutation_id"
        ).fetchall()
    assert rows == [(n, 1) for n in range(1, 6)]


def test_a_repository_can_serialise_its_read_check_write_with_the_engine(
    storage: PostgresStorage,
) -> None:
    from sync.store.postgres import take_changelog_lock

    with storage.read() as reader:
        assert take_changelog_lock(reader) is False and not reader.changelog_locked
    with storage.write() as uow:
        assert take_changelog_lock(uow) is True and uow.changelog_locked
        assert _held_changelog_locks(storage) == 1
        server_write_in(uow, registry=make_registry(), record_id="V1")  # no second lock
    assert _held_changelog_locks(storage) == 0


def _held_changelog_locks(storage: PostgresStorage) -> int:
    with psycopg.connect(storage.conninfo, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            (CHANGELOG_LOCK,),
        ).fetchone()
        return int(row[0]) if row else 0
