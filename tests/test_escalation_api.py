"""The escalations inbox over REST and sync: list, filter, acknowledge, resolve, and who
may (the team's coordinators only; everyone else gets 404, never 403)."""

from __future__ import annotations

import json

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user
from test_escalation_rules import escalations, fall, make_world, notices
from test_sync_http import mutation, pull_all, push

# The HTTP checks run against SQLite and PostgreSQL (tests/conftest.py `backend`).
pytestmark = pytest.mark.both_backends


@pytest.fixture
def world(app, client):
    w = make_world(app)
    make_record(app, "self_report", fall(w["patient"]))
    [esc] = escalations(app)
    w["escalation"] = esc["id"]
    w["coord"] = login(client, w["coordinator"].username)
    return w


def url(escalation_id, action=""):
    return f"/api/v1/escalations/{escalation_id}" + (f"/{action}" if action else "")


def audit_rows(app, via):
    conn = db.connect(app.config["DATABASE"])
    try:
        rows = conn.execute("SELECT user_id, patient_id, detail FROM audit_log"
                            " WHERE action = 'read'").fetchall()
    finally:
        conn.close()
    return [dict(r) for r in rows if json.loads(r["detail"])["via"] == via]


# -- lifecycle ----------------------------------------------------------------------------


def test_acknowledge_then_resolve_stamps_who_and_when(app, world, clock):
    coord = world["coord"]
    answer = coord.post(url(world["escalation"], "acknowledge"))
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    assert data["status"] == "acknowledged"
    assert data["acknowledged_by"] == world["coordinator"].id
    assert data["acknowledged_at"].startswith("2026-11-24T09:00:00")
    clock.advance(minutes=10)
    answer = coord.post(url(world["escalation"], "resolve"),
                        json={"note": "Phoned her daughter; GP visit booked."})
    assert answer.status_code == 200, answer.json
    data = answer.json["data"]
    assert data["status"] == "resolved" and data["resolved_by"] == world["coordinator"].id
    assert data["resolved_at"].startswith("2026-11-24T09:10:00")
    assert data["resolution_note"] == "Phoned her daughter; GP visit booked."
    assert answer.json["version"] == 3


def test_resolve_straight_from_open_is_allowed(app, world):
    answer = world["coord"].post(url(world["escalation"], "resolve"), json={"note": "Seen today."})
    assert answer.status_code == 200
    assert answer.json["data"]["acknowledged_by"] is None


@pytest.mark.parametrize("body", [None, {}, {"note": ""}, {"note": "   "}])
def test_resolving_needs_a_note(app, world, body):
    answer = world["coord"].post(url(world["escalation"], "resolve"), json=body)
    assert answer.status_code == 422
    assert set(answer.json) == {"code", "status", "message", "errors"}
    assert escalations(app)[0]["status"] == "open"


def test_acknowledging_twice_changes_nothing(app, world):
    world["coord"].post(url(world["escalation"], "acknowledge"))
    again = world["coord"].post(url(world["escalation"], "acknowledge"))
    assert again.status_code == 200 and again.json["version"] == 2


def test_a_resolved_escalation_cannot_go_back(app, world):
    world["coord"].post(url(world["escalation"], "resolve"), json={"note": "Done."})
    answer = world["coord"].post(url(world["escalation"], "acknowledge"))
    assert answer.status_code == 422
    assert "forward only" in answer.json["errors"]["status"][0]


def test_acknowledging_stops_the_re_notifications(app, world):
    world["coord"].post(url(world["escalation"], "acknowledge"))
    assert {r["status"] for r in notices(app, world["escalation"])} == {"cancelled"}


def test_an_unknown_escalation_is_404(app, world):
    assert world["coord"].post(url("no-such-id", "acknowledge")).status_code == 404
    assert world["coord"].get(url("no-such-id")).status_code == 404


# -- who may ---------------------------------------------------------------------------------


def outsiders(app, client, world):
    other_team = make_team(app)
    patient_user = make_user(app, "patient", patient_id=world["patient"])
    carer = make_user(app, "carer")
    make_record(app, "carer_link", {"patient_id": world["patient"], "carer_user_id": carer.id,
                                    "relationship": "son", "consent_basis": "patient_consent"})
    return {
        "nurse of the team": login(client, world["nurse"].username),
        "coordinator of another team": login(
            client, make_user(app, "coordinator", teams=(other_team,)).username),
        "patient": login(client, patient_user.username),
        "carer": login(client, carer.username),
        "admin": login(client, make_user(app, "admin").username),
    }


def test_only_the_teams_coordinators_may_acknowledge_or_resolve(app, client, world):
    for who, session in outsiders(app, client, world).items():
        for action, body in (("acknowledge", None), ("resolve", {"note": "x"})):
            answer = session.post(url(world["escalation"], action), json=body)
            assert answer.status_code == 404, (who, action, answer.json)
            assert answer.json["message"] == "Escalation not found."
    assert escalations(app)[0]["status"] == "open"


def test_only_staff_of_the_team_see_escalations(app, client, world):
    sessions = outsiders(app, client, world)
    nurse = sessions.pop("nurse of the team")
    assert nurse.get(url(world["escalation"])).status_code == 200
    assert [e["id"] for e in nurse.get("/api/v1/escalations").json["items"]] == [
        world["escalation"]]
    for who, session in sessions.items():
        assert session.get(url(world["escalation"])).status_code == 404, who
        listed = session.get("/api/v1/escalations")
        assert listed.status_code == 200 and listed.json["items"] == [], who


def test_a_coordinator_acknowledges_by_sync_too_and_a_nurse_is_refused(app, client, world):
    nurse = login(client, world["nurse"].username)
    refused = push(nurse, mutation(1, "escalation", world["escalation"], op="update", base=1,
                                   status="acknowledged"))
    assert refused.json["results"][0]["status"] == "rejected"
    applied = push(world["coord"], mutation(1, "escalation", world["escalation"], op="update",
                                            base=1, status="acknowledged"))
    assert applied.json["results"][0]["status"] == "applied"
    [esc] = escalations(app)
    assert esc["acknowledged_by"] == world["coordinator"].id
    assert {r["status"] for r in notices(app, world["escalation"])} == {"cancelled"}


def test_staff_receive_escalations_by_pull_patients_and_carers_do_not(app, client, world):
    nurse = login(client, world["nurse"].username)
    changes, _, _ = pull_all(nurse)
    assert [c["id"] for c in changes if c["entity"] == "escalation"] == [world["escalation"]]
    carer_sessions = outsiders(app, client, world)
    for who in ("patient", "carer"):
        changes, _, _ = pull_all(carer_sessions[who])
        assert [c for c in changes if c["entity"] == "escalation"] == [], who


def test_a_server_occurrence_and_a_coordinators_acknowledgement_never_conflict(app, world):
    """The server bumps occurrences while the coordinator's device acknowledges v1."""
    make_record(app, "self_report", fall(world["patient"]))  # v2: occurrences 2
    answer = push(world["coord"], mutation(1, "escalation", world["escalation"], op="update",
                                           base=1, status="acknowledged"))
    assert answer.json["results"][0]["status"] == "applied"
    [esc] = escalations(app)
    assert (esc["status"], esc["occurrences"]) == ("acknowledged", 2)


# -- the list -------------------------------------------------------------------------------------


def test_the_list_filters_and_pages(app, client, world):
    other_patient = make_patient(app, world["team"])
    make_record(app, "self_report", fall(other_patient, injured=True))
    make_record(app, "activation_score", {"patient_id": other_patient,
                                          "assessed_at": "2026-11-24T08:00:00+00:00",
                                          "score": 40.0})
    coord = world["coord"]
    coord.post(url(world["escalation"], "acknowledge"))

    def ids(**query):
        answer = coord.get("/api/v1/escalations", query_string=query)
        assert answer.status_code == 200, answer.json
        return sorted(item["id"] for item in answer.json["items"])

    everything = ids()
    assert len(everything) == 3
    assert ids(status="acknowledged") == [world["escalation"]]
    assert len(ids(status="open")) == 2
    assert len(ids(severity="emergency")) == 1
    assert len(ids(rule="activation_low")) == 1
    assert ids(patient_id=world["patient"]) == [world["escalation"]]
    assert ids(team=world["team"]) == everything == ids(team_id=world["team"])
    assert ids(team="another-team") == []
    first = coord.get("/api/v1/escalations", query_string={"limit": 2}).json
    second = coord.get("/api/v1/escalations",
                       query_string={"limit": 2, "after": first["next_after"]}).json
    assert second["next_after"] is None
    assert sorted(i["id"] for i in first["items"] + second["items"]) == everything
    assert coord.get("/api/v1/escalations", query_string={"severity": "high"}).status_code == 422


def test_reads_are_audited_once_per_patient(app, world):
    world["coord"].get("/api/v1/escalations")
    world["coord"].get(url(world["escalation"]))
    rows = audit_rows(app, "rest:escalation")
    assert [(r["user_id"], r["patient_id"]) for r in rows] == [
        (world["coordinator"].id, world["patient"])] * 2


def test_the_endpoints_are_in_the_openapi_document(app, client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/escalations", "/api/v1/escalations/{escalation_id}",
            "/api/v1/escalations/{escalation_id}/acknowledge",
            "/api/v1/escalations/{escalation_id}/resolve"} <= set(paths)
