"""Co-ordinator reports (SPEC §10) over a small known data set built along a history: the
clock is moved to when each thing happened, so the server's times (when an escalation
was raised, when a visit's ending reached the server) are those of the story below.

The story, team North (the coordinator's) unless said; now = Tue 24 Nov 2026 09:00 UTC,
so the 12 weeks are 2026-W37 (Mon 7 Sep) … 2026-W48 (Mon 23 Nov, to date):

- p1: falls high on 10 Nov (W46), low on 17 Nov (W47); activation level 2 on 10 Nov;
- p2: falls intermediate on 8 Sep (W37); a high on 20 Nov later voided; level 4 on 23 Nov;
- p3: opted out of risk profiling: falls high and level 3 on 18 Nov (never in the mix);
- p4: objects to sharing: falls high on 2 Nov (W45) — still counted (docs/reports.md);
- p5: never assessed; an activation level 1 on 19 Nov, voided;
- p6 (team South): falls high, a visit — never in North's reports.

Escalations raised by those rules (and visits) are acknowledged or resolved at known
times; visits end on known days and reach the server on time or late.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import dbtools as db
import pytest
from conftest import login, make_patient, make_record, make_team, make_user
from test_escalation_rules import escalations, falls_assessment, visit, write

from server.clock import iso

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
WEEKS = [f"2026-W{n}" for n in range(37, 49)]


def utc(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Story:
    """Writes records as of given server times (moving the app's clock)."""

    def __init__(self, app, clock):
        self.app, self.clock = app, clock

    def at(self, moment):
        self.clock.now = moment
        return self

    def falls(self, patient, risk, moment):
        answers = {"high": {"falls_last_12_months": 2},
                   "intermediate": {"falls_last_12_months": 1, "tug_seconds": 20},
                   "low": {}}[risk]
        record = make_record(self.at(moment).app, "falls_assessment",
                             falls_assessment(patient, assessed_at=iso(moment), **answers))
        return record

    def score(self, patient, value, moment):
        return make_record(self.at(moment).app, "activation_score", {
            "patient_id": patient, "assessed_at": iso(moment), "score": value})

    def void(self, entity, record_id, moment):
        write(self.at(moment).app, entity,
              {"entered_in_error": True, "void_reason": "Wrong patient"}, record_id)

    def escalation_of(self, source_id):
        [found] = escalations(self.app, source_id=source_id)
        return found["id"]

    def answer(self, source_id, status, moment):
        write(self.at(moment).app, "escalation", {"status": status,
              **({"resolution_note": "Visited"} if status == "resolved" else {})},
              self.escalation_of(source_id))

    def ended_visit(self, patient, status, ended, reached):
        """A visit that ended at ``ended`` and whose ending reached the server ``reached``."""
        fields = visit(patient, scheduled_end=iso(ended), status=status,
                       started_at=iso(ended - timedelta(minutes=30)), ended_at=iso(ended))
        return make_record(self.at(reached).app, "visit", fields)


def build_world(app, clock):
    """The story above; leaves the clock at NOW. Also used by tests/test_pwa_reports.py."""
    north, south = make_team(app, "North"), make_team(app, "South")
    s = Story(app, clock)
    p = {n: make_patient(app, north, given_name=name)
         for n, name in ((1, "Alma"), (2, "Bridget"), (5, "Enid"))}
    p[3] = make_patient(app, north, given_name="Cora", risk_profiling_opt_out=True)
    p[4] = make_patient(app, north, given_name="Dora", sharing_objection=True)
    p[6] = make_patient(app, south, given_name="Freda")

    # Falls and activation (each high/intermediate raises its escalation).
    p1_high = s.falls(p[1], "high", utc(11, 10))
    s.answer(p1_high, "acknowledged", utc(11, 10, 10, 30))            # urgent, 30 min
    s.falls(p[1], "low", utc(11, 17, 9))
    s.score(p[1], 50.0, utc(11, 10))
    p2_int = s.falls(p[2], "intermediate", utc(9, 8))
    s.answer(p2_int, "acknowledged", utc(9, 8, 12))                   # routine, 120 min
    voided = s.falls(p[2], "high", utc(11, 20, 12))                   # its urgent: left out
    s.void("falls_assessment", voided, utc(11, 20, 13))
    s.score(p[2], 70.0, utc(11, 23))
    p3_high = s.falls(p[3], "high", utc(11, 18, 9))
    s.answer(p3_high, "acknowledged", utc(11, 18, 9, 10))             # urgent, 10 min
    s.score(p[3], 60.0, utc(11, 18, 9))
    s.falls(p[4], "high", utc(11, 2))                                 # urgent, never answered
    low = s.score(p[5], 45.0, utc(11, 19))                            # its routine: left out
    s.void("activation_score", low, utc(11, 19, 11))
    s.falls(p[6], "high", utc(11, 17))

    # Visits: on time, late (routine late_sync), no access (urgent, resolved in 60 min).
    s.ended_visit(p[5], "completed", utc(11, 16), reached=utc(11, 16, 11))
    s.ended_visit(p[5], "completed", utc(11, 17), reached=utc(11, 19, 12))      # late
    no_access = s.ended_visit(p[5], "no_access", utc(11, 18, 10), reached=utc(11, 18, 10))
    s.answer(no_access, "resolved", utc(11, 18, 11))
    later = s.ended_visit(p[5], "scheduled", utc(11, 20), reached=utc(11, 19))
    write(s.at(utc(11, 22, 11)).app, "visit", {"status": "completed",                # late
          "started_at": iso(utc(11, 20, 9, 30)), "ended_at": iso(utc(11, 20))}, later)
    make_record(s.at(utc(11, 16)).app, "visit", visit(p[5], status="cancelled",
                scheduled_end=iso(utc(11, 16))))
    # Sun 18 Oct 23:30 UTC is Mon 19 Oct 00:30 in London (BST): week 43, not 42.
    s.ended_visit(p[1], "completed", utc(10, 18, 23, 30), reached=utc(10, 19))
    s.ended_visit(p[6], "completed", utc(11, 17), reached=utc(11, 17, 11))
    s.at(NOW)
    coordinator = make_user(app, "coordinator", teams=(north,))
    return {"north": north, "south": south, "p": p, "coordinator": coordinator}


@pytest.fixture
def world(app, clock):
    return build_world(app, clock)


@pytest.fixture
def coord(client, world):
    return login(client, world["coordinator"].username)


def report(session, name, **query):
    response = session.get(f"/api/v1/reports/{name}", query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def week(rows, label):
    return next(row for row in rows if row["week"] == label)


# -- caseload by falls risk and activation ------------------------------------------------


def test_the_weeks_are_the_last_twelve_iso_weeks_in_uk_time(coord):
    body = report(coord, "caseload")
    rows = body["falls_risk"]["weeks"]
    assert [r["week"] for r in rows] == WEEKS
    assert (rows[0]["start"], rows[0]["end"]) == ("2026-09-07", "2026-09-13")
    # Snapshots at the week's end, midnight UK time (BST in September), now for this week.
    assert rows[0]["as_of"] == "2026-09-13T23:00:00+00:00"
    assert rows[-1]["as_of"] == "2026-11-24T09:00:00+00:00"
    assert body["timezone"] == "Europe/London"
    assert body["teams"] == [{"id": coord.user["team_ids"][0], "name": "North"}]


def test_caseload_by_falls_risk_at_the_end_of_each_week(coord):
    body = report(coord, "caseload")
    assert body["patients"] == 4 and body["left_out"] == {"risk_profiling_opt_out": 1}
    rows = body["falls_risk"]["weeks"]
    mix = {label: week(rows, label)["counts"] for label in ("2026-W37", "2026-W45", "2026-W46",
                                                            "2026-W47", "2026-W48")}
    assert mix == {
        "2026-W37": {"high": 0, "intermediate": 1, "low": 0, "not_assessed": 3},
        "2026-W45": {"high": 1, "intermediate": 1, "low": 0, "not_assessed": 2},
        "2026-W46": {"high": 2, "intermediate": 1, "low": 0, "not_assessed": 1},
        # p1 is low now; p2's voided high never counts; p3 opted out; p4 is counted.
        "2026-W47": {"high": 1, "intermediate": 1, "low": 1, "not_assessed": 1},
        "2026-W48": {"high": 1, "intermediate": 1, "low": 1, "not_assessed": 1},
    }


def test_caseload_by_activation_level_at_the_end_of_each_week(coord):
    rows = report(coord, "caseload")["activation"]["weeks"]
    empty = {"1": 0, "2": 0, "3": 0, "4": 0}
    assert week(rows, "2026-W45")["counts"] == {**empty, "not_assessed": 4}
    assert week(rows, "2026-W47")["counts"] == {**empty, "2": 1, "not_assessed": 3}
    # p2's level 4 (23 Nov) counts; p5's voided level 1 and opted-out p3's level 3 do not.
    assert week(rows, "2026-W48")["counts"] == {**empty, "2": 1, "4": 1, "not_assessed": 2}


def test_opting_out_of_risk_profiling_takes_a_patient_out_of_every_week(app, coord, world):
    write(app, "patient", {"risk_profiling_opt_out": True}, world["p"][4])
    body = report(coord, "caseload")
    assert body["left_out"] == {"risk_profiling_opt_out": 2}
    assert week(body["falls_risk"]["weeks"], "2026-W45")["counts"]["high"] == 0


def test_a_sharing_objection_does_not_take_a_patient_out_of_reports(app, coord, world):
    # Reports stay inside the care team and carry counts only (docs/reports.md): p4, who
    # objects to sharing, is the one high in W45, and lifting the objection changes nothing.
    before = report(coord, "caseload")
    assert week(before["falls_risk"]["weeks"], "2026-W45")["counts"]["high"] == 1
    write(app, "patient", {"sharing_objection": False}, world["p"][4])
    after = report(coord, "caseload")
    assert after["falls_risk"] == before["falls_risk"] and after["patients"] == 4


# -- escalations ---------------------------------------------------------------------------


def test_escalations_raised_per_week_and_median_time_to_acknowledge(coord):
    body = report(coord, "escalations")
    assert [r["week"] for r in body["weeks"]] == WEEKS
    w47 = week(body["weeks"], "2026-W47")
    # urgent: p3's falls (10 min) and the no-access visit (resolved after 60 min);
    # routine: the two late syncs, not answered. The voided records' escalations: out.
    assert w47["raised"] == {"emergency": 0, "urgent": 2, "routine": 2, "total": 4}
    assert w47["median_minutes_to_acknowledge"] == {"emergency": None, "urgent": 35.0,
                                                    "routine": None}
    assert week(body["weeks"], "2026-W46")["median_minutes_to_acknowledge"]["urgent"] == 30.0
    assert week(body["weeks"], "2026-W45")["raised"]["urgent"] == 1
    assert week(body["weeks"], "2026-W37")["median_minutes_to_acknowledge"]["routine"] == 120.0
    assert body["all_weeks"]["raised"] == {"emergency": 0, "urgent": 4, "routine": 3, "total": 7}
    assert body["all_weeks"]["acknowledged"] == {"emergency": 0, "urgent": 3, "routine": 1}
    assert body["all_weeks"]["median_minutes_to_acknowledge"] == {
        "emergency": None, "urgent": 30.0, "routine": 120.0}


def test_risk_opt_out_does_not_hide_a_patients_escalations(coord):
    # p3's falls escalation is a call for care, not risk profiling: it is counted above.
    w47 = week(report(coord, "escalations")["weeks"], "2026-W47")
    assert w47["acknowledged"]["urgent"] == 2


# -- visits --------------------------------------------------------------------------------


def test_visits_completed_no_access_and_late_synced_per_week(coord):
    rows = report(coord, "visits")["weeks"]
    assert [r["week"] for r in rows] == WEEKS
    # Late: reached the server > 24 h after ending (the late_sync rule), also when it was
    # booked in time and only its completion came late. Cancelled and South's: out.
    assert week(rows, "2026-W47") == {"week": "2026-W47", "start": "2026-11-16",
                                      "end": "2026-11-22", "completed": 3, "no_access": 1,
                                      "late_synced": 2}
    assert week(rows, "2026-W43")["completed"] == 1 and week(rows, "2026-W42")["completed"] == 0
    assert report(coord, "visits")["late_sync_hours"] == 24


# -- scope, roles, audit ----------------------------------------------------------------


def test_another_teams_data_is_absent_and_its_id_is_404(app, client, world):
    both = login(client, make_user(app, "coordinator", teams=(world["north"],
                                                               world["south"])).username)
    south = report(both, "caseload", team_id=world["south"])
    assert south["patients"] == 1 and south["teams"][0]["name"] == "South"
    assert report(both, "visits", team_id=world["south"])["weeks"][-2]["completed"] == 1
    assert report(both, "caseload")["patients"] == 5
    north_only = login(client, world["coordinator"].username)
    response = north_only.get("/api/v1/reports/caseload", query_string={
        "team_id": world["south"]})
    assert response.status_code == 404
    assert set(response.json) == {"code", "status", "message", "errors"}


@pytest.mark.parametrize("role", ["nurse", "patient", "carer", "admin"])
def test_only_coordinators_get_reports(app, client, world, role):
    teams = (world["north"],) if role == "nurse" else ()
    session = login(client, make_user(app, role, teams=teams).username)
    for name in ("caseload", "escalations", "visits"):
        assert session.get(f"/api/v1/reports/{name}").status_code == 403


def test_bad_input_is_refused_with_the_one_error_shape(coord):
    assert coord.get("/api/v1/reports/patients").status_code == 404
    response = coord.get("/api/v1/reports/visits", query_string={"format": "xlsx"})
    assert response.status_code == 422 and "format" in json.dumps(response.json["errors"])
    assert coord.client.get("/api/v1/reports/visits").status_code == 401


def test_each_report_request_writes_one_audit_row(app, coord, world):
    report(coord, "caseload")
    coord.get("/api/v1/reports/visits?format=csv")
    conn = db.connect(app.config["DATABASE"])
    try:
        rows = conn.execute("SELECT user_id, action, patient_id, detail FROM audit_log"
                            " WHERE action = 'report' ORDER BY id").fetchall()
        reads = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'read'").fetchone()
    finally:
        conn.close()
    assert [(r["user_id"], r["patient_id"]) for r in rows] == [(world["coordinator"].id, None)] * 2
    assert [json.loads(r["detail"]) for r in rows] == [
        {"report": "caseload", "teams": [world["north"]], "format": "json"},
        {"report": "visits", "teams": [world["north"]], "format": "csv"}]
    assert reads[0] == 0


# -- CSV -----------------------------------------------------------------------------------


def csv_rows(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_by_accept_header_or_format_parameter(coord):
    by_header = coord.client.get("/api/v1/reports/visits",
                                 headers={**coord.headers(), "Accept": "text/csv"})
    by_param = coord.get("/api/v1/reports/visits?format=csv")
    assert by_header.get_data() == by_param.get_data()
    rows = csv_rows(by_param)
    assert [r["week"] for r in rows] == WEEKS
    w47 = next(r for r in rows if r["week"] == "2026-W47")
    assert (w47["completed"], w47["no_access"], w47["late_synced"]) == ("3", "1", "2")


def test_csv_of_caseload_and_escalations_carry_the_same_numbers(coord):
    caseload = {r["week"]: r for r in csv_rows(coord.get("/api/v1/reports/caseload?format=csv"))}
    assert caseload["2026-W46"]["falls_risk_high"] == "2"
    assert caseload["2026-W48"]["activation_level_4"] == "1"
    assert caseload["2026-W48"]["falls_risk_not_assessed"] == "1"
    escalated = {r["week"]: r for r in csv_rows(
        coord.get("/api/v1/reports/escalations?format=csv"))}
    assert escalated["2026-W47"]["raised_urgent"] == "2"
    assert escalated["2026-W47"]["median_minutes_to_acknowledge_urgent"] == "35.0"
    assert escalated["2026-W47"]["median_minutes_to_acknowledge_routine"] == ""


def test_csv_cells_cannot_run_as_spreadsheet_formulas(app, client):
    team = make_team(app, '=HYPERLINK("http://evil.example","Click")')
    make_patient(app, team)
    session = login(client, make_user(app, "coordinator", teams=(team,)).username)
    rows = csv_rows(session.get("/api/v1/reports/caseload?format=csv"))
    assert rows[0]["teams"] == '\'=HYPERLINK("http://evil.example","Click")'
    assert all(not r["teams"].startswith(("=", "+", "-", "@")) for r in rows)


def test_the_reports_are_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    get = spec["paths"]["/api/v1/reports/{name}"]["get"]
    assert set(get["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {p["name"] for p in get["parameters"]} == {"team_id", "format"}
