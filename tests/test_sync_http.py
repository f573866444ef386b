"""The sync wire protocol through HTTP (SPEC §3.2–§3.4): one table row per rule."""

from __future__ import annotations

import json
import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_team, make_user

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


def visit_fields(patient_id, **overrides):
    fields = {"patient_id": patient_id, "scheduled_start": "2026-11-24T09:00:00+00:00",
              "scheduled_end": "2026-11-24T09:30:00+00:00", "visit_type": "wound_care",
              "status": "scheduled"}
    fields.update(overrides)
    return fields


def mutation(mid, entity, record_id, op="create", base=0, **fields):
    return {"mutation_id": mid, "entity": entity, "id": record_id, "op": op,
            "base_version": base, "fields": fields, "client_time": "2026-11-24T09:00:00Z"}


def push(session, *mutations, schema_version=1):
    return session.post("/api/v1/sync/push", json={
        "client_id": session.client_id, "schema_version": schema_version,
        "mutations": list(mutations)})


def pull(session, cursor=None, limit=500):
    query = {"client_id": session.client_id, "limit": limit}
    if cursor:
        query["cursor"] = cursor
    return session.get("/api/v1/sync/pull", query_string=query)


def pull_all(session, cursor=None):
    changes, evictions = [], []
    while True:
        body = pull(session, cursor).json
        changes += body["changes"]
        evictions += body["evictions"]
        cursor = body["cursor"]
        if not body["has_more"]:
            return changes, evictions, cursor


@pytest.fixture
def world(app, client):
    team = make_team(app)
    patient = make_patient(app, team)
    nurse_user = make_user(app, "nurse", teams=(team,))
    return {"team": team, "patient": patient,
            "a": login(client, nurse_user.username, device="tablet A"),
            "b": login(client, nurse_user.username, device="tablet B"),
            "other": login(client, make_user(app, "nurse", teams=(team,)).username)}


def audit_count(app):
    with app.app_context():
        return db.get_db().execute("SELECT count(*) FROM audit_log").fetchone()[0]


def test_create_is_applied_with_version(world):
    vid = str(uuid.uuid4())
    body = push(world["a"], mutation(1, "visit", vid, **visit_fields(world["patient"]))).json
    assert body["last_mutation_id"] == 1
    assert body["results"] == [{"mutation_id": 1, "status": "applied", "version": 1}]


def test_replay_returns_the_stored_result_and_applies_nothing(app, world):
    vid = str(uuid.uuid4())
    first = push(world["a"], mutation(1, "visit", vid, **visit_fields(world["patient"]))).json
    again = push(world["a"], mutation(1, "visit", vid, **visit_fields(world["patient"]))).json
    assert again["results"] == first["results"]
    record = world["a"].get(f"/api/v1/patients/{world['patient']}/visits").json["items"]
    assert [r["version"] for r in record] == [1]


def test_a_mutation_that_skips_ahead_is_out_of_order(world):
    vid = str(uuid.uuid4())
    body = push(world["a"], mutation(2, "visit", vid, **visit_fields(world["patient"]))).json
    assert body["results"][0]["status"] == "out_of_order"
    assert body["last_mutation_id"] == 0


def test_concurrent_edit_of_one_field_is_a_conflict_and_keeps_both_values(world):
    a, other = world["a"], world["other"]
    vid = str(uuid.uuid4())
    push(a, mutation(1, "visit", vid, **visit_fields(world["patient"])))
    push(other, mutation(1, "visit", vid, op="update", base=1, notes="Dressing changed"))
    body = push(a, mutation(2, "visit", vid, op="update", base=1, notes="Wound healing",
                            status="in_progress")).json
    result = body["results"][0]
    assert result["status"] == "conflict" and len(result["conflict_ids"]) == 1
    visit = a.get(f"/api/v1/patients/{world['patient']}/visits").json["items"][0]["data"]
    assert visit["notes"] == "Dressing changed"      # server value kept
    assert visit["status"] == "in_progress"          # non-conflicting field applied
    conflict = a.get("/api/v1/conflicts").json["items"][0]["data"]
    assert (conflict["field"], conflict["client_value"], conflict["server_value"]) == (
        "notes", "Wound healing", "Dressing changed")


def test_own_earlier_mutations_never_conflict(world):
    a = world["a"]
    vid = str(uuid.uuid4())
    push(a, mutation(1, "visit", vid, **visit_fields(world["patient"])),
         mutation(2, "visit", vid, op="update", base=1, notes="first"))
    body = push(a, mutation(3, "visit", vid, op="update", base=1, notes="second")).json
    assert body["results"][0]["status"] == "applied"


def test_rejected_mutation_is_quarantined_with_field_errors(app, world):
    body = push(world["a"], mutation(1, "visit", str(uuid.uuid4()),
                                     **visit_fields(world["patient"], visit_type="tea"))).json
    result = body["results"][0]
    assert result["status"] == "rejected" and "visit_type" in result["errors"]
    assert body["last_mutation_id"] == 1
    with app.app_context():
        raw = db.get_db().execute("SELECT raw FROM sync_quarantine").fetchone()[0]
    assert json.loads(raw)["fields"]["visit_type"] == "tea"


def test_out_of_scope_record_is_rejected_as_not_found(app, world):
    elsewhere = make_patient(app, make_team(app))
    body = push(world["a"], mutation(1, "visit", str(uuid.uuid4()),
                                     **visit_fields(elsewhere))).json
    assert body["results"][0]["status"] == "rejected"


def test_unsupported_schema_version_is_426_and_quarantined(app, world):
    response = push(world["a"], mutation(1, "visit", str(uuid.uuid4()),
                                         **visit_fields(world["patient"])), schema_version=99)
    assert response.status_code == 426
    with app.app_context():
        assert db.get_db().execute("SELECT count(*) FROM sync_quarantine").fetchone()[0] == 1


def test_more_than_500_mutations_is_413(world):
    batch = [mutation(i, "visit", str(uuid.uuid4()), **visit_fields(world["patient"]))
             for i in range(1, 502)]
    assert push(world["a"], *batch).status_code == 413


def test_snapshot_then_incremental_pull(app, world):
    a, b = world["a"], world["b"]
    changes, _, cursor = pull_all(b)
    assert {c["entity"] for c in changes} == {"patient"}
    vid = str(uuid.uuid4())
    push(a, mutation(1, "visit", vid, **visit_fields(world["patient"])),
         mutation(2, "visit", vid, op="update", base=1, notes="n1"),
         mutation(3, "visit", vid, op="update", base=2, notes="n2"))
    changes, _, cursor = pull_all(b, cursor)
    assert [(c["id"], c["version"], c["data"]["notes"]) for c in changes] == [(vid, 3, "n2")]
    before = audit_count(app)
    changes, evictions, _ = pull_all(b, cursor)
    assert changes == [] and evictions == []
    assert audit_count(app) == before  # an empty pull writes nothing


def test_pull_audits_one_row_per_patient(app, world):
    make_patient(app, world["team"])
    with app.app_context():
        start = db.get_db().execute("SELECT max(id) FROM audit_log").fetchone()[0]
    pull_all(world["b"])
    with app.app_context():
        rows = db.get_db().execute(
            "SELECT patient_id FROM audit_log WHERE id > ? AND action = 'read'",
            (start,)).fetchall()
    assert len(rows) == 2 and len({r[0] for r in rows}) == 2


def test_patient_moved_to_another_team_is_evicted(app, client, world):
    _, _, cursor = pull_all(world["b"])
    admin_team = make_team(app)
    coordinator = login(client, make_user(app, "coordinator",
                                          teams=(world["team"], admin_team)).username)
    moved = push(coordinator, mutation(1, "patient", world["patient"], op="update", base=1,
                                       team_id=admin_team)).json
    assert moved["results"][0]["status"] == "applied"
    _, evictions, _ = pull_all(world["b"], cursor)
    assert evictions == [{"entity": "patient", "id": world["patient"]}]


def test_bad_cursor_is_410_reset_required(world):
    response = pull(world["a"], cursor="not-a-cursor")
    assert response.status_code == 410
    assert response.json["errors"] == {"cursor": "reset_required"}


def test_pull_for_another_devices_client_id_is_refused(world):
    response = world["a"].get("/api/v1/sync/pull",
                              query_string={"client_id": world["b"].client_id})
    assert response.status_code == 422


def test_resolving_a_conflict_through_http(world):
    a, other = world["a"], world["other"]
    vid = str(uuid.uuid4())
    push(a, mutation(1, "visit", vid, **visit_fields(world["patient"])))
    push(other, mutation(1, "visit", vid, op="update", base=1, notes="theirs"))
    conflict_id = push(a, mutation(2, "visit", vid, op="update", base=1,
                                   notes="mine")).json["results"][0]["conflict_ids"][0]
    resolved = a.post(f"/api/v1/conflicts/{conflict_id}/resolve",
                      json={"resolution": "took_client"})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["data"]["status"] == "resolved"
    visit = a.get(f"/api/v1/patients/{world['patient']}/visits").json["items"][0]["data"]
    assert visit["notes"] == "mine"
    again = a.post(f"/api/v1/conflicts/{conflict_id}/resolve", json={"resolution": "kept_server"})
    assert again.status_code == 409
