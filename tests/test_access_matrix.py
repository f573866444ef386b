"""Each role sees and changes exactly what SPEC §1 allows, through REST and pull.

Rows: role × endpoint → expected status. Out-of-scope records answer 404, never 403.
"""

from __future__ import annotations

import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user
from test_sync_http import mutation, pull_all, push

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


@pytest.fixture
def world(app, client):
    team, other_team = make_team(app), make_team(app)
    patient = make_patient(app, team)
    stranger = make_patient(app, other_team)
    patient_user = make_user(app, "patient", patient_id=patient)
    carer_user = make_user(app, "carer")
    make_record(app, "carer_link", {"patient_id": patient, "carer_user_id": carer_user.id,
                                    "relationship": "daughter",
                                    "consent_basis": "patient_consent", "active": True})
    make_record(app, "falls_assessment", {
        "patient_id": patient, "assessed_at": "2026-11-20T10:00:00+00:00",
        "falls_last_12_months": 2, "fall_injury": False, "unable_to_get_up": False,
        "lost_consciousness": False, "feels_unsteady": True, "worried_about_falling": True})
    make_record(app, "visit", {
        "patient_id": patient, "scheduled_start": "2026-11-25T09:00:00+00:00",
        "scheduled_end": "2026-11-25T09:30:00+00:00", "visit_type": "review",
        "notes": "Clinical note"})
    sessions = {
        "nurse": login(client, make_user(app, "nurse", teams=(team,)).username),
        "coordinator": login(client, make_user(app, "coordinator", teams=(team,)).username),
        "patient": login(client, patient_user.username),
        "carer": login(client, carer_user.username),
        "admin": login(client, make_user(app, "admin").username),
        "other_nurse": login(client, make_user(app, "nurse", teams=(other_team,)).username),
    }
    return {"pid": patient, "stranger": stranger, "team": team, **sessions}


READS = [
    # (role, path template, expected status)
    *[(role, "/api/v1/patients/{p}", 200) for role in ("nurse", "coordinator", "patient", "carer")],
    ("admin", "/api/v1/patients/{p}", 404),
    ("other_nurse", "/api/v1/patients/{p}", 404),
    ("nurse", "/api/v1/patients/{s}", 404),
    ("nurse", "/api/v1/patients/{p}/falls-assessments", 200),
    ("patient", "/api/v1/patients/{p}/falls-assessments", 200),
    ("nurse", "/api/v1/patients/{p}/timeline", 200),
    ("admin", "/api/v1/patients/{p}/visits", 404),
    ("nurse", "/api/v1/users", 403),
    ("coordinator", "/api/v1/users", 403),
    ("patient", "/api/v1/users", 403),
    ("carer", "/api/v1/teams", 403),
    ("admin", "/api/v1/users", 200),
    ("admin", "/api/v1/teams", 200),
    ("nurse", "/api/v1/audit?patient_id={p}", 403),
    ("coordinator", "/api/v1/audit?patient_id={p}", 200),
    ("coordinator", "/api/v1/audit?patient_id={s}", 404),
    ("admin", "/api/v1/audit", 200),
    ("patient", "/api/v1/audit", 403),
    *[(role, "/api/v1/devices", 200) for role in ("nurse", "coordinator", "patient", "carer",
                                                  "admin")],
    *[(role, "/api/v1/conflicts", 200) for role in ("nurse", "patient", "carer", "admin")],
]


@pytest.mark.parametrize(("role", "path", "status"), READS)
def test_reads(world, role, path, status):
    url = path.format(p=world["pid"], s=world["stranger"])
    assert world[role].get(url).status_code == status


def items(world, role, resource):
    response = world[role].get(f"/api/v1/patients/{world['pid']}/{resource}")
    return response.json["items"] if response.status_code == 200 else None


def test_carer_sees_visit_times_but_no_clinical_notes_or_assessments(world):
    patient = world["carer"].get(f"/api/v1/patients/{world['pid']}").json["data"]
    assert "access_notes" not in patient and patient["given_name"] == "Edith"
    visits = items(world, "carer", "visits")
    assert visits and "notes" not in visits[0]["data"]
    assert visits[0]["data"]["scheduled_start"]
    assert items(world, "carer", "falls-assessments") == []


def test_patient_never_sees_access_notes(world):
    patient = world["patient"].get(f"/api/v1/patients/{world['pid']}").json["data"]
    assert "access_notes" not in patient
    nurse_view = world["nurse"].get(f"/api/v1/patients/{world['pid']}").json["data"]
    assert nurse_view["access_notes"] == "Key safe 1234; dog"


@pytest.mark.parametrize("role", ["nurse", "coordinator", "patient", "carer", "admin"])
def test_pull_gives_each_role_its_redacted_view(world, role):
    changes, _, _ = pull_all(world[role])
    entities = {c["entity"] for c in changes}
    if role == "admin":
        assert changes == []
        return
    assert "patient" in entities
    patient = next(c for c in changes if c["entity"] == "patient")["data"]
    assert ("access_notes" in patient) == (role in ("nurse", "coordinator"))
    assert ("falls_assessment" in entities) == (role != "carer")
    if role == "carer":
        visit = next(c for c in changes if c["entity"] == "visit")["data"]
        assert "notes" not in visit


WRITES = [
    # (role, entity, allowed)
    ("nurse", "visit", True), ("coordinator", "visit", True),
    ("patient", "visit", False), ("carer", "visit", False), ("admin", "visit", False),
    ("nurse", "goal", True), ("patient", "goal", True), ("carer", "goal", False),
    ("patient", "goal_log", True), ("carer", "goal_log", True), ("admin", "goal_log", False),
    ("patient", "self_report", True), ("carer", "self_report", True),
    ("carer", "falls_assessment", False), ("patient", "activation_score", False),
    ("other_nurse", "visit", False),
]


def fields_for(entity, patient_id, goal_id):
    return {
        "visit": {"patient_id": patient_id, "scheduled_start": "2026-11-26T09:00:00+00:00",
                  "scheduled_end": "2026-11-26T09:30:00+00:00", "visit_type": "review"},
        "goal": {"patient_id": patient_id, "title": "Walk to the shop",
                 "times_per_week": 3, "start_date": "2026-11-24", "status": "active"},
        "goal_log": {"patient_id": patient_id, "goal_id": goal_id, "date": "2026-11-24",
                     "done": True},
        "self_report": {"patient_id": patient_id, "kind": "unwell",
                        "happened_at": "2026-11-24T08:00:00+00:00", "details": "Dizzy"},
        "falls_assessment": {"patient_id": patient_id, "assessed_at": "2026-11-24T10:00:00Z",
                             "falls_last_12_months": 0, "feels_unsteady": False,
                             "worried_about_falling": False},
        "activation_score": {"patient_id": patient_id, "assessed_at": "2026-11-24T10:00:00Z",
                             "score": 52.3, "source": "PAM 13"},
    }[entity]


@pytest.mark.parametrize(("role", "entity", "allowed"), WRITES)
def test_writes(app, world, role, entity, allowed):
    goal_id = make_record(app, "goal", fields_for("goal", world["pid"], None))
    record_id = str(uuid.uuid4())
    result = push(world[role], mutation(1, entity, record_id,
                                        **fields_for(entity, world["pid"], goal_id)))
    status = result.json["results"][0]["status"]
    assert status == ("applied" if allowed else "rejected"), result.json
    with app.app_context():
        stored = db.get_db().execute("SELECT 1 FROM records WHERE id = ?", (record_id,)).fetchone()
    assert (stored is not None) == allowed
