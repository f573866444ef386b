"""The SQLite audit log's patient index, filled in batches (storage/sqlite/audit.py,
migration 0020): who read a patient's record is found whether or not the rows are
indexed yet, a batch indexes every row with a patient, lookups use the index, and a
restore or an upgrade leaves nothing out."""

from __future__ import annotations

import sqlite3
import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_team, make_user, migrated_app, test_config
from test_sync_http import mutation, pull_all, push, visit_fields
from test_sync_restore import backup_and_restore_around

from storage import open_storage
from storage.audit import AuditEntry
from storage.sqlite import migrations
from storage.sqlite.audit import SqliteAudit, index_audit_rows


@pytest.fixture
def app(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    return migrated_app(test_config(tmp_path, clock))


def marks(app) -> tuple[int, int, int]:
    """(the index mark, the last audit id, index entries)."""
    with app.app_context():
        conn = db.get_db()
        (upto,) = conn.execute("SELECT upto FROM audit_index_mark").fetchone()
        (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()
        (indexed,) = conn.execute("SELECT count(*) FROM audit_patient_index").fetchone()
    return upto, last, indexed


def pull_reads(coordinator, patient_id):
    response = coordinator.get("/api/v1/audit", query_string={"patient_id": patient_id,
                                                               "limit": 500})
    assert response.status_code == 200, response.json
    return [row for row in response.json if row["action"] == "read"
            and (row["detail"] or {}).get("via") == "pull"]


def test_every_pull_is_found_by_patient_on_both_sides_of_a_batch(app, client, monkeypatch):
    monkeypatch.setattr(SqliteAudit, "index_batch", 7)
    team = make_team(app)
    patients = [make_patient(app, team) for _ in range(3)]
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)
    _, _, cursor = pull_all(nurse)  # the snapshot: one read row per patient
    for n in range(8):  # each pull returns a changed visit of one patient: one read row
        visit = str(uuid.uuid4())
        patient = patients[n % 3]
        assert push(nurse, mutation(n + 1, "visit", visit,
                                    **visit_fields(patient))).status_code == 200
        changes, _, cursor = pull_all(nurse, cursor)
        assert [c["id"] for c in changes] == [visit]
    upto, last, indexed = marks(app)
    assert 0 < upto < last and indexed > 0  # some rows indexed, the newest not yet
    for n, patient in enumerate(patients):
        reads = pull_reads(coordinator, patient)
        # the snapshot, then one pull in three
        assert len(reads) == 1 + len(range(n, 8, 3))
        assert [row["id"] for row in reads] == sorted((row["id"] for row in reads),
                                                      reverse=True)


def test_a_batch_indexes_every_row_that_names_a_patient(tmp_path, monkeypatch):
    storage = open_storage(str(tmp_path / "a.db"))
    storage.migrate()
    monkeypatch.setattr(SqliteAudit, "index_batch", 10)
    entry = AuditEntry(at="2026-12-02T09:00:00+00:00", action="read", user_id="u1")
    with storage.write() as uow:
        uow.audit.append_each_patient(entry, [f"p{n}" for n in range(6)])
        uow.audit.append([AuditEntry(at=entry.at, action="login")] * 3)  # no patient
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT upto FROM audit_index_mark").fetchone() == (0,)
    with storage.write() as uow:
        uow.audit.append([entry._replace(patient_id="p9")])  # the 10th row: a batch
    assert conn.execute("SELECT upto FROM audit_index_mark").fetchone() == (10,)
    assert conn.execute("SELECT patient_id, audit_id FROM audit_patient_index").fetchall() == [
        *((f"p{n}", n + 1) for n in range(6)), ("p9", 10)]
    storage.close()


def test_a_lookup_by_patient_seeks_the_index(tmp_path):
    storage = open_storage(str(tmp_path / "a.db"))
    storage.migrate()
    with storage.write() as uow:
        audit = uow.audit
        statements: list[str] = []
        audit.conn.set_trace_callback(statements.append)
        audit.entries(patient_id="p1", user_id="u1", before_id=50)
        audit.entries(patient_id="p1")
        audit.conn.set_trace_callback(None)
        plans = [" | ".join(row[3] for row in audit.conn.execute(
            "EXPLAIN QUERY PLAN " + sql))
            for sql in statements if sql.lstrip().startswith("SELECT a.")]
    storage.close()
    tail, indexed, tail_any_user, indexed_any_user = plans
    assert "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in tail_any_user
    assert "SEARCH p USING PRIMARY KEY (patient_id=? AND audit_id<?)" in indexed_any_user
    # the newest rows by id range (or by user and id), never a walk of the whole log
    assert tail.startswith("SEARCH a USING") and "id>? AND id<?" in tail.replace("rowid", "id")
    assert "SCAN" not in tail
    assert "SEARCH p USING PRIMARY KEY (patient_id=? AND audit_id<?)" in indexed
    assert "TEMP B-TREE" not in indexed and "SCAN" not in indexed


def test_rows_copied_by_a_restore_are_indexed(app, client, tmp_path):
    team = make_team(app)
    patient = make_patient(app, team)
    coordinator = login(client, make_user(app, "coordinator", teams=(team,)).username)

    def read_after_backup():
        pull_all(coordinator)  # a read row newer than the backup

    backup_and_restore_around(tmp_path, read_after_backup)
    upto, last, _ = marks(app)
    assert upto == last
    assert len(pull_reads(coordinator, patient)) == 1


def test_the_upgrade_indexes_the_rows_already_there(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    everything = migrations.available
    monkeypatch.setattr(migrations, "available",
                        lambda: [(n, p) for n, p in everything() if n < 20])
    migrations.migrate(conn)
    conn.executemany("INSERT INTO audit_log (at, action, patient_id) VALUES (?, 'read', ?)",
                     [("2026-12-01T09:00:00+00:00", p) for p in ("p2", None, "p1", "p2")])
    monkeypatch.setattr(migrations, "available", everything)
    assert migrations.migrate(conn) == [n for n, _ in everything() if n >= 20]
    assert conn.execute("SELECT * FROM audit_patient_index").fetchall() == [
        ("p1", 3), ("p2", 1), ("p2", 4)]
    assert conn.execute("SELECT upto FROM audit_index_mark").fetchone() == (4,)
    index_audit_rows(conn)  # nothing after the mark: nothing to do
    assert conn.execute("SELECT count(*) FROM audit_patient_index").fetchone() == (3,)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_patient_index")
