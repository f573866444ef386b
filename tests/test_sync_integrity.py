"""Issue 10 through HTTP: nothing destroyed, orphaned, applied unstored or confirmed.

Repeated mutation ids in a batch, signed visits and patients that cannot be deleted,
team moves, references between records, and unchanged edits that must be checked
and audited like any other.
"""

from __future__ import annotations

import uuid

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user, patient_fields
from test_sync_http import mutation, pull_all, push, visit_fields

from server import database
from server.services import audit

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def ward(app, client):
    team, other_team, foreign_team = make_team(app), make_team(app), make_team(app)
    patient = make_patient(app, team)
    elsewhere = make_patient(app, foreign_team)
    nurse_user = make_user(app, "nurse", teams=(team, other_team))
    return {"team": team, "other_team": other_team, "foreign_team": foreign_team,
            "patient": patient, "elsewhere": elsewhere,
            "nurse": login(client, nurse_user.username),
            "colleague": login(client, make_user(app, "nurse", teams=(team,)).username)}


def stored(app, entity, record_id):
    with app.app_context():
        row = db.get_db().execute(
            "SELECT version, deleted FROM records WHERE entity = ? AND id = ?",
            (entity, record_id)).fetchone()
    return None if row is None else dict(row)


# -- item 4: a mutation_id repeated inside one batch ------------------------------------


def test_a_repeated_mutation_id_in_one_batch_replays_the_first_result(app, ward):
    first, second = new_id(), new_id()
    answer = push(ward["nurse"],
                  mutation(1, "visit", first, **visit_fields(ward["patient"])),
                  mutation(1, "visit", second, **visit_fields(ward["patient"])))
    assert answer.status_code == 200
    results = answer.json["results"]
    assert results[0] == {"mutation_id": 1, "status": "applied", "version": 1}
    assert results[1] == results[0]  # a replay of the same batch's result
    assert stored(app, "visit", first) is not None
    assert stored(app, "visit", second) is None  # never "applied" without storing


def test_a_repeated_rejected_mutation_id_replays_the_rejection(ward):
    answer = push(ward["nurse"],
                  mutation(1, "visit", new_id(), **visit_fields(ward["patient"], status="x")),
                  mutation(1, "visit", new_id(), **visit_fields(ward["patient"])))
    first, again = answer.json["results"]
    assert first["status"] == "rejected" and again == first


# -- item 7: signed visits are never deleted ---------------------------------------------


def signed_visit(app, patient_id):
    return make_record(app, "visit", visit_fields(
        patient_id, status="completed", signed_at="2026-11-24T09:40:00+00:00"))


def test_a_signed_visit_cannot_be_deleted_through_push(app, ward):
    visit_id = signed_visit(app, ward["patient"])
    result = push(ward["nurse"], mutation(1, "visit", visit_id, op="delete", base=1)).json
    assert result["results"][0]["status"] == "rejected"
    assert "signed visit cannot be deleted" in result["results"][0]["errors"]["deleted"][0]
    assert stored(app, "visit", visit_id) == {"version": 1, "deleted": 0}


def test_a_conflict_resolution_cannot_delete_a_signed_visit(app, ward):
    visit_id = make_record(app, "visit", visit_fields(ward["patient"], status="completed"))
    # The colleague deletes on version 1 after the nurse's edit: a record-level conflict.
    edit = push(ward["nurse"], mutation(1, "visit", visit_id, op="update", base=1,
                                        notes="Dressing changed")).json
    assert edit["results"][0]["status"] == "applied"
    deleting = push(ward["colleague"], mutation(1, "visit", visit_id, op="delete", base=1)).json
    assert deleting["results"][0]["status"] == "conflict"
    conflict_id = deleting["results"][0]["conflict_ids"][0]
    signing = push(ward["nurse"], mutation(2, "visit", visit_id, op="update", base=2,
                                           signed_at="2026-11-24T09:40:00+00:00")).json
    assert signing["results"][0]["status"] == "applied"
    answer = ward["colleague"].post(f"/api/v1/conflicts/{conflict_id}/resolve",
                                    json={"resolution": "took_client"})
    assert answer.status_code == 422
    assert "signed visit cannot be deleted" in answer.json["errors"]["deleted"][0]
    assert stored(app, "visit", visit_id) == {"version": 3, "deleted": 0}


# -- item 8: patients are never deleted by a device --------------------------------------


def test_a_nurse_cannot_delete_a_patient_and_nothing_disappears(app, ward):
    goal = make_record(app, "goal", {"patient_id": ward["patient"], "title": "Walk",
                                     "times_per_week": 3, "start_date": "2026-11-24"})
    result = push(ward["nurse"], mutation(1, "patient", ward["patient"], op="delete",
                                          base=1)).json["results"][0]
    assert result["status"] == "rejected"
    assert "never deleted" in result["errors"]["deleted"][0]
    assert stored(app, "patient", ward["patient"])["deleted"] == 0
    changes, _, _ = pull_all(ward["colleague"])
    assert {c["id"] for c in changes} >= {ward["patient"], goal}
    # The NHS number stays registered to the patient.
    with app.app_context():
        conn = db.get_db()
        number = conn.execute("SELECT json_extract(data, '$.nhs_number') FROM records"
                              " WHERE id = ?", (ward["patient"],)).fetchone()[0]
    again = push(ward["nurse"], mutation(2, "patient", new_id(),
                                         **patient_fields(ward["team"], nhs_number=number)))
    assert again.json["results"][0]["status"] == "rejected"
    assert "nhs_number" in again.json["results"][0]["errors"]


def test_an_update_of_a_deleted_record_is_a_record_level_conflict(app, ward):
    goal = make_record(app, "goal", {"patient_id": ward["patient"], "title": "Walk",
                                     "times_per_week": 3, "start_date": "2026-11-24"})
    deleted = push(ward["colleague"], mutation(1, "goal", goal, op="delete", base=1)).json
    assert deleted["results"][0]["status"] == "applied"
    result = push(ward["nurse"], mutation(1, "goal", goal, op="update", base=1,
                                          title="Walk daily")).json["results"][0]
    assert result["status"] == "conflict" and len(result["conflict_ids"]) == 1
    conflict = ward["nurse"].get("/api/v1/conflicts").json["items"][0]["data"]
    assert conflict["field"] == "_record" and conflict["server_value"] is None


# -- item 9: team moves -------------------------------------------------------------------


@pytest.mark.parametrize("team_key", ["foreign_team", "missing"])
def test_a_patient_cannot_be_moved_to_a_team_the_nurse_is_not_in(app, ward, team_key):
    team = ward.get(team_key) or new_id()
    result = push(ward["nurse"], mutation(1, "patient", ward["patient"], op="update", base=1,
                                          team_id=team)).json["results"][0]
    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["team_id"]
    assert stored(app, "patient", ward["patient"])["version"] == 1


@pytest.mark.parametrize("team_key", ["foreign_team", "missing"])
def test_a_patient_cannot_be_created_in_a_team_the_nurse_is_not_in(ward, team_key):
    team = ward.get(team_key) or new_id()
    result = push(ward["nurse"], mutation(1, "patient", new_id(),
                                          **patient_fields(team))).json["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["team_id"]


def test_a_patient_can_move_between_the_nurses_own_teams(app, ward):
    result = push(ward["nurse"], mutation(1, "patient", ward["patient"], op="update", base=1,
                                          team_id=ward["other_team"])).json["results"][0]
    assert result == {"mutation_id": 1, "status": "applied", "version": 2}
    # The colleague, only in the first team, no longer sees the patient; the nurse does.
    _, evictions, _ = pull_all(ward["colleague"])
    assert ward["nurse"].get(f"/api/v1/patients/{ward['patient']}").status_code == 200
    assert ward["colleague"].get(f"/api/v1/patients/{ward['patient']}").status_code == 404


# -- item 10: references exist and belong to the same patient -----------------------------


def goal_of(app, patient_id):
    return make_record(app, "goal", {"patient_id": patient_id, "title": "Walk",
                                     "times_per_week": 3, "start_date": "2026-11-24"})


def child_fields(entity, patient_id, ref):
    if entity == "visit_addendum":
        return {"visit_id": ref, "patient_id": patient_id, "text": "Dressing on the left leg."}
    if entity == "falls_assessment":
        return {"patient_id": patient_id, "visit_id": ref, "falls_last_12_months": 0,
                "assessed_at": "2026-11-24T09:10:00+00:00", "feels_unsteady": False,
                "worried_about_falling": False}
    if entity == "goal_log":
        return {"goal_id": ref, "patient_id": patient_id, "date": "2026-11-24", "done": True}
    return {"patient_id": patient_id, "goal_id": ref, "recipient_ids": [new_id()],
            "title": "Walk", "time_of_day": "10:30", "days_of_week": [1],
            "start_date": "2026-11-24"}


REFERENCING = [("visit_addendum", "visit_id", "visit"), ("falls_assessment", "visit_id", "visit"),
               ("goal_log", "goal_id", "goal"), ("reminder", "goal_id", "goal")]


def parent_of(app, kind, patient_id):
    if kind == "visit":
        return make_record(app, "visit", visit_fields(patient_id))
    return goal_of(app, patient_id)


@pytest.mark.parametrize(("entity", "field", "kind"), REFERENCING)
@pytest.mark.parametrize("where", ["other_patient", "missing"])
def test_a_reference_to_another_patients_or_no_record_is_refused(
        app, ward, entity, field, kind, where):
    # The other patient is on the nurse's caseload too: scope alone would not catch it.
    other = make_patient(app, ward["team"])
    ref = parent_of(app, kind, other) if where == "other_patient" else new_id()
    record_id = new_id()
    result = push(ward["nurse"], mutation(1, entity, record_id,
                                          **child_fields(entity, ward["patient"], ref))).json
    assert result["results"][0]["status"] == "rejected"
    assert list(result["results"][0]["errors"]) == [field]
    assert stored(app, entity, record_id) is None


@pytest.mark.parametrize(("entity", "field", "kind"), REFERENCING)
def test_a_reference_to_the_same_patients_record_is_accepted(app, ward, entity, field, kind):
    ref = parent_of(app, kind, ward["patient"])
    result = push(ward["nurse"], mutation(1, entity, new_id(),
                                          **child_fields(entity, ward["patient"], ref))).json
    assert result["results"][0]["status"] == "applied", result


def test_a_reminder_cannot_be_moved_to_another_patients_goal(app, ward):
    reminder = make_record(app, "reminder", child_fields(
        "reminder", ward["patient"], goal_of(app, ward["patient"])))
    foreign_goal = goal_of(app, make_patient(app, ward["team"]))
    result = push(ward["nurse"], mutation(1, "reminder", reminder, op="update", base=1,
                                          goal_id=foreign_goal)).json["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["goal_id"]


def test_a_childs_patient_must_exist(app, ward):
    result = push(ward["nurse"], mutation(1, "visit", new_id(),
                                          **visit_fields(new_id()))).json["results"][0]
    assert result["status"] == "rejected" and list(result["errors"]) == ["patient_id"]


# -- item 12: unchanged edits are checked and audited first -------------------------------


def enrolled(app, client, ward, role):
    staff = ward["nurse"]
    body = {"role": role}
    if role == "carer":
        body |= {"relationship": "daughter", "consent_basis": "patient_consent"}
    invite = staff.post(f"/api/v1/patients/{ward['patient']}/invites", json=body)
    assert invite.status_code in (200, 201), invite.json
    username = f"{role}-{new_id()[:8]}"
    answer = client.post("/api/v1/auth/enrol", json={
        "code": invite.json["code"], "username": username, "password": "a long passphrase",
        "display_name": role.title()})
    assert answer.status_code in (200, 201), answer.json
    return login(client, username, "a long passphrase")


def test_a_patient_cannot_confirm_their_access_notes_by_guessing(app, client, ward):
    me = enrolled(app, client, ward, "patient")
    right = push(me, mutation(1, "patient", ward["patient"], op="update", base=1,
                              access_notes="Key safe 1234; dog")).json["results"][0]
    wrong = push(me, mutation(2, "patient", ward["patient"], op="update", base=1,
                              access_notes="Key safe 0000")).json["results"][0]
    assert right["status"] == wrong["status"] == "rejected"
    assert right["errors"] == wrong["errors"]


def test_a_carer_cannot_confirm_visit_notes_by_guessing(app, client, ward):
    visit_id = make_record(app, "visit", visit_fields(ward["patient"], notes="Leg ulcer"))
    carer = enrolled(app, client, ward, "carer")
    right = push(carer, mutation(1, "visit", visit_id, op="update", base=1,
                                 notes="Leg ulcer")).json["results"][0]
    wrong = push(carer, mutation(2, "visit", visit_id, op="update", base=1,
                                 notes="Chest pain")).json["results"][0]
    assert right["status"] == wrong["status"] == "rejected"
    assert right["errors"] == wrong["errors"]


def test_an_unchanged_edit_is_validated_and_audited(app, ward):
    visit_id = make_record(app, "visit", visit_fields(ward["patient"], notes="Same"))
    invalid = push(ward["nurse"], mutation(1, "visit", visit_id, op="update", base=1,
                                           notes="Same", status="no such status")).json
    assert invalid["results"][0]["status"] == "rejected"
    same = push(ward["nurse"], mutation(2, "visit", visit_id, op="update", base=1,
                                        notes="Same")).json["results"][0]
    assert same == {"mutation_id": 2, "status": "applied", "version": 1}
    with app.app_context(), database.read() as uow:
        rows = [e for e in audit.entries(uow, patient_id=ward["patient"])
                if e["record_id"] == visit_id and e["user_id"] == ward["nurse"].user["id"]]
    assert [e["action"] for e in rows] == ["update_unchanged"]
