"""The PostgreSQL storage: units of work, per-connection timeouts, migrations applied once
under concurrency, and the invariants SQLite's single writer held that are constraints
here (storage/postgres)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from storage import UnsupportedDatabase, open_storage
from storage.postgres import PostgresStorage, migrations, split_url


@pytest.fixture
def storage(postgres_url: str) -> Iterator[PostgresStorage]:
    opened = PostgresStorage(postgres_url, pool_min_size=1, pool_max_size=4)
    yield opened
    opened.close()


def _setting(uow: Any, name: str) -> str:
    return str(uow.conn.execute(f"SHOW {name}").fetchone()[0])


def test_a_postgresql_url_opens_the_postgresql_backend(postgres_url: str) -> None:
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgres://", 1)):
        opened = open_storage(url)
        try:
            assert isinstance(opened, PostgresStorage)
            assert opened.pending_migrations() == []
        finally:
            opened.close()
    with pytest.raises(UnsupportedDatabase, match="postgresql://"):
        open_storage("mysql://db.example/doorstep")


def test_pool_sizes_and_timeouts_come_from_the_url() -> None:
    conninfo, options = split_url(
        "postgresql://app@db.example/doorstep?sslmode=require&pool_max_size=20"
        "&statement_timeout=5000"
    )
    assert conninfo == "postgresql://app@db.example/doorstep?sslmode=require"
    assert options["pool_max_size"] == 20 and options["statement_timeout"] == 5000
    assert options["pool_min_size"] == 1
    assert options["idle_in_transaction_session_timeout"] == 60_000


def test_writes_are_read_committed_and_reads_a_read_only_snapshot(
    storage: PostgresStorage,
) -> None:
    with storage.write() as uow:
        assert _setting(uow, "transaction_isolation") == "read committed"
        assert _setting(uow, "transaction_read_only") == "off"
        assert _setting(uow, "statement_timeout") == "30s"
        assert _setting(uow, "idle_in_transaction_session_timeout") == "1min"
    with storage.read() as uow:
        assert _setting(uow, "transaction_isolation") == "repeatable read"
        assert _setting(uow, "transaction_read_only") == "on"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            uow.conn.execute("INSERT INTO sync_meta (key, value) VALUES ('x', 'y')")


def test_a_read_keeps_its_snapshot_while_a_write_commits(storage: PostgresStorage) -> None:
    with storage.read() as reader:
        assert reader.store.max_seq() == 0
        with storage.write() as uow:
            uow.conn.execute("INSERT INTO sync_meta (key, value) VALUES ('k', 'v')")
        assert reader.store.epoch()  # still answers, from the snapshot taken first
        found = reader.conn.execute("SELECT count(*) FROM sync_meta WHERE key = 'k'")
        assert found.fetchone() == (0,)


def test_a_stuck_statement_is_cancelled_by_the_statement_timeout(postgres_url: str) -> None:
    opened = PostgresStorage(postgres_url, statement_timeout_ms=100)
    try:
        with pytest.raises(psycopg.errors.QueryCanceled), opened.read() as uow:
            uow.conn.execute("SELECT pg_sleep(5)")
        with opened.read() as uow:  # the connection went back to the pool usable
            assert uow.store.max_seq() == 0
    finally:
        opened.close()


def test_a_failed_unit_rolls_back_and_its_connection_is_reused_clean(
    storage: PostgresStorage,
) -> None:
    with pytest.raises(psycopg.errors.UniqueViolation), storage.write() as uow:
        uow.conn.execute("INSERT INTO sync_meta (key, value) VALUES ('epoch', 'again')")
    with storage.write() as uow:
        assert uow.conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        uow.conn.execute("INSERT INTO sync_meta (key, value) VALUES ('k', 'v')")
    with storage.read() as uow:
        rows = uow.conn.execute("SELECT key FROM sync_meta ORDER BY key").fetchall()
    assert rows == [("epoch",), ("k",)]


def test_two_processes_migrating_at_once_apply_each_migration_once(
    empty_postgres_url: str,
) -> None:
    assert PostgresStorage(empty_postgres_url, pool_min_size=0).pending_migrations() == [
        number for number, _ in migrations.available()
    ]
    start = threading.Barrier(3)
    applied: list[list[int]] = []

    def run() -> None:
        opened = PostgresStorage(empty_postgres_url, pool_min_size=0)
        start.wait()
        applied.append(opened.migrate())
        opened.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = sorted(number for ids in applied for number in ids)
    assert len(applied) == 3
    assert everything == [number for number, _ in migrations.available()]
    assert PostgresStorage(empty_postgres_url, pool_min_size=0).pending_migrations() == []


def _record(conn: Any, record_id: str, data: str, *, entity: str = "patient",
            deleted: bool = False, seq: int = 0) -> None:
    conn.execute(
        "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data, seq)"
        " VALUES (%s, %s, 1, %s, 'now', %s, %s::jsonb, nextval('changelog_seq'))",
        (entity, record_id, deleted, record_id if entity == "patient" else "P1", data),
    )


# Checked at COMMIT (migration 0018): the engine's own check answers first.
def test_one_live_patient_per_nhs_number(storage: PostgresStorage) -> None:
    with storage.write() as uow:
        _record(uow.conn, "P1", '{"nhs_number": "9434765919"}')
        _record(uow.conn, "P2", '{"nhs_number": "9434765919"}', deleted=True)
        _record(uow.conn, "P3", "{}")
        _record(uow.conn, "P4", "{}")
    with pytest.raises(psycopg.errors.ExclusionViolation), storage.write() as uow:
        _record(uow.conn, "P5", '{"nhs_number": "9434765919"}')


def test_one_open_escalation_per_patient_rule_and_source(storage: PostgresStorage) -> None:
    def escalation(record_id: str, status: str, source: str = "V1") -> str:
        return f'{{"rule": "missed_visit", "source_id": "{source}", "status": "{status}"}}'

    with storage.write() as uow:
        _record(uow.conn, "E1", escalation("E1", "open"), entity="escalation")
        _record(uow.conn, "E2", escalation("E2", "resolved"), entity="escalation")
        _record(uow.conn, "E3", escalation("E3", "open", "V2"), entity="escalation")
    with pytest.raises(psycopg.errors.UniqueViolation), storage.write() as uow:
        _record(uow.conn, "E4", escalation("E4", "open"), entity="escalation")


def test_the_changelog_and_the_audit_log_are_append_only(storage: PostgresStorage) -> None:
    with storage.write() as uow:
        uow.conn.execute(
            "INSERT INTO changelog (seq, entity, id, version, deleted, patient_id, data,"
            " client_id, author_id, changed, at) VALUES (1, 'visit', 'V1', 1, false, 'P1',"
            " '{}', 'c', 'a', '[]', 'now')"
        )
        uow.conn.execute("INSERT INTO audit_log (at, action) VALUES ('now', 'login')")
    for statement in (
        "UPDATE changelog SET data = '{}'",
        "DELETE FROM changelog",
        "TRUNCATE changelog",
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
    ):
        with pytest.raises(psycopg.errors.RestrictViolation, match="append-only"):
            with storage.write() as uow:
                uow.conn.execute(statement)  # type: ignore[arg-type]


def test_usernames_compare_without_case_as_on_sqlite(storage: PostgresStorage) -> None:
    with storage.write() as uow:
        uow.conn.execute(
            "INSERT INTO users (id, username, password_hash, role, display_name, created_at)"
            " VALUES ('u1', 'Ann.Smith', 'x', 'nurse', 'Ann', 'now')"
        )
        found = uow.conn.execute("SELECT id FROM users WHERE username = 'ann.smith'")
        assert found.fetchall() == [("u1",)]
    with pytest.raises(psycopg.errors.UniqueViolation), storage.write() as uow:
        uow.conn.execute(
            "INSERT INTO users (id, username, password_hash, role, display_name, created_at)"
            " VALUES ('u2', 'ANN.SMITH', 'x', 'nurse', 'Ann', 'now')"
        )


def test_revoking_a_device_destroys_its_secret(storage: PostgresStorage) -> None:
    with storage.write() as uow:
        uow.conn.execute(
            "INSERT INTO users (id, username, password_hash, role, display_name, created_at)"
            " VALUES ('u1', 'ann', 'x', 'nurse', 'Ann', 'now')"
        )
        uow.conn.execute(
            "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
            " VALUES ('d1', 'u1', 'phone', 'now', 'now')"
        )
        uow.conn.execute(
            "INSERT INTO device_secrets (client_id, secret, created_at) VALUES ('d1', 'k', 'now')"
        )
        uow.conn.execute("UPDATE devices SET revoked_at = 'later' WHERE client_id = 'd1'")
        assert uow.conn.execute("SELECT count(*) FROM device_secrets").fetchone() == (0,)


def test_a_forked_worker_opens_its_own_pool(storage: PostgresStorage) -> None:
    import os

    with storage.read() as uow:  # the parent's pool and connection exist
        parent = uow.conn.info.backend_pid
    child = os.fork()
    if child == 0:  # a server worker forked from the process that built the app
        code = 1
        try:
            with storage.write() as uow:
                other = uow.conn.info.backend_pid
                uow.conn.execute("INSERT INTO sync_meta (key, value) VALUES ('child', 'x')")
            code = 0 if other != parent else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with storage.read() as uow:
        assert uow.conn.execute("SELECT value FROM sync_meta WHERE key = 'child'").fetchone()
        # The child left the parent's connection alone: had it closed the inherited one,
        # its Terminate message would have ended that backend. (Which pooled connection
        # this read got is the pool's choice: it may have opened a second meanwhile.)
        assert uow.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (parent,)
        ).fetchone() == (1,)
