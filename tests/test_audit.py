"""The audit log: every read and write of patient data, append-only (SPEC §1, §7)."""

from __future__ import annotations

import sqlite3
import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_team, make_user
from test_sync_http import mutation, push, visit_fields


@pytest.fixture
def world(app, client):
    team = make_team(app)
    patient = make_patient(app, team)
    nurse = login(client, make_user(app, "nurse", teams=(team,)).username)
    return {"patient": patient, "nurse": nurse, "team": team}


def rows_after(app, start):
    with app.app_context():
        return [dict(r) for r in db.get_db().execute(
            "SELECT * FROM audit_log WHERE id > ? ORDER BY id", (start,))]


def last_id(app):
    with app.app_context():
        return db.get_db().execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]


def test_a_pushed_write_is_audited_with_who_which_device_and_patient(app, world):
    start = last_id(app)
    vid = str(uuid.uuid4())
    push(world["nurse"], mutation(1, "visit", vid, **visit_fields(world["patient"])))
    (row,) = rows_after(app, start)
    assert (row["action"], row["entity"], row["record_id"], row["patient_id"]) == (
        "create", "visit", vid, world["patient"])
    assert row["user_id"] == world["nurse"].user["id"]
    assert row["client_id"] == world["nurse"].client_id
    assert "Wound" not in (row["detail"] or "")  # field names only, never values


def test_rest_reads_are_audited_once_per_patient(app, world):
    start = last_id(app)
    world["nurse"].get(f"/api/v1/patients/{world['patient']}/visits")
    world["nurse"].get(f"/api/v1/patients/{world['patient']}")
    reads = [r for r in rows_after(app, start) if r["action"] == "read"]
    assert [r["patient_id"] for r in reads] == [world["patient"], world["patient"]]


def test_a_read_that_finds_nothing_out_of_scope_writes_nothing(app, client, world):
    outsider = login(client, make_user(app, "nurse", teams=(make_team(app),)).username)
    start = last_id(app)
    assert outsider.get(f"/api/v1/patients/{world['patient']}").status_code == 404
    assert rows_after(app, start) == []


def test_audit_log_is_append_only(app, world):
    push(world["nurse"], mutation(1, "visit", str(uuid.uuid4()),
                                  **visit_fields(world["patient"])))
    with app.app_context():
        conn = db.get_db()
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit_log SET user_id = 'someone else'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit_log")


def test_coordinator_reads_a_patients_audit_and_that_read_is_audited(app, client, world):
    push(world["nurse"], mutation(1, "visit", str(uuid.uuid4()),
                                  **visit_fields(world["patient"])))
    coordinator = login(client, make_user(app, "coordinator", teams=(world["team"],)).username)
    entries = coordinator.get("/api/v1/audit", query_string={"patient_id": world["patient"]})
    assert entries.status_code == 200
    assert any(e["action"] == "create" and e["entity"] == "visit" for e in entries.json)
    again = coordinator.get("/api/v1/audit", query_string={"patient_id": world["patient"]}).json
    assert again[0]["action"] == "read_audit"
