"""Pulls splice each record's stored audience view (issue 13): what each role receives.

Redaction per audience through the HTTP API (a patient and a carer never receive
staff-only fields, staff do); the spliced body is the JSON the records would encode to;
rows without current views (before migration 0019's fill, or under older rules) are
redacted per actor, and ``refresh_views`` remakes them; an empty poll writes nothing.
"""

from __future__ import annotations

import json

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user
from test_sync_http import pull, pull_all

from server import database
from server.records import entities, permissions
from sync.protocol import wire_json
from sync.views import refresh_views

VISIT = {"scheduled_start": "2026-11-25T09:00:00+00:00",
         "scheduled_end": "2026-11-25T09:30:00+00:00", "visit_type": "review",
         "notes": "Clinical note"}


@pytest.fixture
def world(app, client):
    team = make_team(app)
    patient = make_patient(app, team, access_notes="Key safe 1234, dog in the garden")
    patient_user = make_user(app, "patient", patient_id=patient)
    carer_user, other_carer = make_user(app, "carer"), make_user(app, "carer")
    for carer in (carer_user, other_carer):
        make_record(app, "carer_link", {"patient_id": patient, "carer_user_id": carer.id,
                                        "relationship": "daughter",
                                        "consent_basis": "patient_consent", "active": True})
    make_record(app, "visit", {"patient_id": patient, **VISIT})
    make_record(app, "falls_assessment", {
        "patient_id": patient, "assessed_at": "2026-11-20T10:00:00+00:00",
        "falls_last_12_months": 2, "fall_injury": False, "unable_to_get_up": False,
        "lost_consciousness": False, "feels_unsteady": True, "worried_about_falling": True})
    return {
        "patient_id": patient, "carer_id": carer_user.id,
        "nurse": login(client, make_user(app, "nurse", teams=(team,)).username),
        "coordinator": login(client, make_user(app, "coordinator", teams=(team,)).username),
        "patient": login(client, patient_user.username),
        "carer": login(client, carer_user.username),
    }


def by_entity(changes):
    found = {}
    for change in changes:
        found.setdefault(change["entity"], []).append(change["data"])
    return found


@pytest.mark.parametrize("role", ["nurse", "coordinator"])
def test_staff_receive_staff_only_fields(world, role):
    records = by_entity(pull_all(world[role])[0])
    assert records["patient"][0]["access_notes"] == "Key safe 1234, dog in the garden"
    assert records["visit"][0]["notes"] == "Clinical note"
    assert len(records["carer_link"]) == 2
    assert "falls_assessment" in records


def test_patient_never_receives_staff_only_fields(world):
    records = by_entity(pull_all(world["patient"])[0])
    assert "access_notes" not in records["patient"][0]
    assert records["patient"][0]["given_name"] == "Edith"
    assert records["visit"][0]["notes"] == "Clinical note"
    assert "falls_assessment" in records


def test_carer_receives_demographics_visit_times_and_only_their_own_link(world):
    records = by_entity(pull_all(world["carer"])[0])
    assert set(records["patient"][0]) <= permissions.CARER_FIELDS["patient"]
    assert "access_notes" not in records["patient"][0]
    assert set(records["visit"][0]) <= permissions.CARER_FIELDS["visit"]
    assert "notes" not in records["visit"][0]
    assert "falls_assessment" not in records
    assert [link["carer_user_id"] for link in records["carer_link"]] == [world["carer_id"]]


def test_spliced_body_is_the_json_of_the_records(world):
    response = pull(world["nurse"])
    body = response.get_data(as_text=True)
    assert body == wire_json(json.loads(body))  # sorted, compact: as Flask encodes a dict
    assert response.mimetype == "application/json"


def forget_views(app):
    with app.app_context():
        conn = db.get_db()
        with db.write_transaction(conn):
            conn.execute("UPDATE records SET views_key = 'older rules', view_staff = 'null',"
                         " view_patient = 'null', view_carer = 'null'")


@pytest.mark.parametrize("role", ["nurse", "patient", "carer"])
def test_rows_without_current_views_are_redacted_per_actor(app, world, role):
    expected = pull_all(world[role])[0]
    forget_views(app)  # as a database made before 0019, or under other rules
    fresh = login(world[role].client, world[role].user["username"])
    assert pull_all(fresh)[0] == expected
    with app.app_context():
        remade = refresh_views(database.sync_store(), entities.build_registry())
    assert remade > 0
    again = login(world[role].client, world[role].user["username"])
    assert pull_all(again)[0] == expected


def test_an_empty_poll_writes_nothing_and_keeps_the_cursor(app, world):
    cursor = pull_all(world["nurse"])[2]
    watcher = db.connect(app.config["DB"])  # data_version moves when another conn commits
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        for _ in range(3):
            body = pull(world["nurse"], cursor).json
            assert body["changes"] == [] and body["evictions"] == []
            assert body["cursor"] == cursor and body["has_more"] is False
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    finally:
        watcher.close()
