"""Escalation rules (SPEC §5): each fires, does not fire just below its threshold, and a
repeat while open adds an occurrence. Records are written through the engine, as a
device's push or the server would; the controlled clock is the server's time."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import dbtools as db
import pytest
from conftest import make_patient, make_record, make_team, make_user, migrated_app, test_config

from server import database
from server.clock import iso
from server.escalation import scans as escalation_jobs
from server.records import engine as records
from sync import SYSTEM, ValidationFailed

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


# -- helpers shared by the escalation test files -----------------------------------------


def make_world(app):
    """A team with a coordinator and a nurse (the patient's care co-ordinator), a patient."""
    team = make_team(app)
    coordinator = make_user(app, "coordinator", teams=(team,))
    nurse = make_user(app, "nurse", teams=(team,))
    patient = make_patient(app, team, care_coordinator_id=nurse.id)
    return {"team": team, "coordinator": coordinator, "nurse": nurse, "patient": patient}


def write(app, entity, fields, record_id, op="update"):
    """A change written as the server would (SYSTEM), through the engine and its hooks."""
    with app.app_context(), database.write() as uow:
        return records.write_as_system(uow, SYSTEM, entity, fields, record_id, op)


def escalations(app, **where):
    """Every escalation record's data (with id and version), oldest first."""
    conn = db.connect(app.config["DATABASE"])
    try:
        rows = conn.execute("SELECT id, version, data FROM records WHERE entity = 'escalation'"
                            " ORDER BY seq").fetchall()
    finally:
        conn.close()
    found = [{"id": r["id"], "version": r["version"], **json.loads(r["data"])} for r in rows]
    return [e for e in found if all(e.get(k) == v for k, v in where.items())]


def notices(app, escalation_id=None):
    conn = db.connect(app.config["DATABASE"])
    try:
        rows = [dict(r) for r in conn.execute(
            "SELECT * FROM escalation_notifications ORDER BY due_at, kind")]
    finally:
        conn.close()
    return [r for r in rows if escalation_id in (None, r["escalation_id"])]


def at(moment):
    return iso(moment)


def fall(patient_id, **overrides):
    fields = {"patient_id": patient_id, "kind": "fall", "happened_at": at(NOW),
              "injured": False, "unable_to_get_up": False, "details": "Tripped on the rug"}
    fields.update(overrides)
    return fields


def falls_assessment(patient_id, **overrides):
    fields = {"patient_id": patient_id, "assessed_at": at(NOW), "falls_last_12_months": 0,
              "feels_unsteady": False, "worried_about_falling": False}
    fields.update(overrides)
    if fields["falls_last_12_months"]:  # asked only after a fall
        for detail in ("fall_injury", "unable_to_get_up", "lost_consciousness"):
            fields.setdefault(detail, False)
    return fields


def visit(patient_id, **overrides):
    """A half-hour visit ending ``scheduled_end`` (default: 30 minutes ago)."""
    end = datetime.fromisoformat(overrides.get("scheduled_end", at(NOW - timedelta(minutes=30))))
    fields = {"patient_id": patient_id, "scheduled_start": at(end - timedelta(minutes=30)),
              "scheduled_end": at(end), "visit_type": "wound_care", "status": "scheduled"}
    fields.update(overrides)
    return fields


def run_rules(app, now):
    with app.app_context():
        return escalation_jobs.run_escalation_rules(app, now)


@pytest.fixture
def world(app):
    return make_world(app)


# -- fall_reported -----------------------------------------------------------------------


@pytest.mark.parametrize("injured, stuck, severity", [
    (False, False, "urgent"),
    (True, False, "emergency"),
    (False, True, "emergency"),
    (True, True, "emergency"),
])
def test_a_reported_fall_is_urgent_and_an_emergency_if_hurt_or_stuck(
        app, world, injured, stuck, severity):
    report = make_record(app, "self_report",
                         fall(world["patient"], injured=injured, unable_to_get_up=stuck))
    [esc] = escalations(app)
    assert esc["rule"] == "fall_reported" and esc["severity"] == severity
    assert esc["patient_id"] == world["patient"] and esc["team_id"] == world["team"]
    assert (esc["source_entity"], esc["source_id"]) == ("self_report", report)
    assert esc["status"] == "open" and esc["occurrences"] == 1
    assert esc["acknowledged_by"] is None and esc["resolved_at"] is None
    assert esc["reason"].startswith("Fall reported")


@pytest.mark.parametrize("kind", ["unwell", "carer_strain", "other"])
def test_other_self_reports_raise_nothing(app, world, kind):
    make_record(app, "self_report", fall(world["patient"], kind=kind, injured=True))
    assert escalations(app) == []


def test_a_second_fall_while_open_is_an_occurrence_and_raises_severity(app, world):
    make_record(app, "self_report", fall(world["patient"]))
    make_record(app, "self_report", fall(world["patient"]))
    [esc] = escalations(app)
    assert esc["occurrences"] == 2 and esc["severity"] == "urgent"
    make_record(app, "self_report", fall(world["patient"], injured=True))
    [esc] = escalations(app)
    assert esc["occurrences"] == 3 and esc["severity"] == "emergency"
    assert "injured" in esc["reason"]
    make_record(app, "self_report", fall(world["patient"]))  # never lowers the severity
    [esc] = escalations(app)
    assert esc["occurrences"] == 4 and esc["severity"] == "emergency"


def test_a_fall_after_acknowledgement_opens_a_new_escalation(app, world):
    make_record(app, "self_report", fall(world["patient"]))
    [first] = escalations(app)
    write(app, "escalation", {"status": "acknowledged"}, first["id"])
    make_record(app, "self_report", fall(world["patient"]))
    assert [(e["status"], e["occurrences"]) for e in escalations(app)] == [
        ("acknowledged", 1), ("open", 1)]


def test_falls_of_different_patients_are_separate(app, world):
    other = make_patient(app, world["team"])
    make_record(app, "self_report", fall(world["patient"]))
    make_record(app, "self_report", fall(other))
    assert sorted(e["patient_id"] for e in escalations(app)) == sorted([world["patient"], other])


def test_voided_fall_reports_fire_nothing(app, world):
    report = make_record(app, "self_report", fall(world["patient"]))
    write(app, "self_report", {"entered_in_error": True, "void_reason": "Wrong patient"}, report)
    assert escalations(app)[0]["occurrences"] == 1  # voiding is not a new fall
    make_record(app, "self_report", fall(world["patient"], entered_in_error=True,
                                         void_reason="Test entry"))
    assert [e["occurrences"] for e in escalations(app)] == [1]


# -- falls risk --------------------------------------------------------------------------


def test_high_falls_risk_is_urgent(app, world):
    make_record(app, "falls_assessment",
                falls_assessment(world["patient"], falls_last_12_months=1, fall_injury=True))
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"], esc["source_entity"]) == (
        "falls_risk_high", "urgent", "falls_assessment")


def test_one_fall_without_a_high_risk_sign_is_not_high(app, world):
    make_record(app, "falls_assessment", falls_assessment(
        world["patient"], falls_last_12_months=1, fall_injury=False, unable_to_get_up=False,
        lost_consciousness=False, frailty_cfs=4))
    assert escalations(app, rule="falls_risk_high") == []


def test_high_falls_risk_repeats_are_occurrences(app, world):
    for _ in range(2):
        make_record(app, "falls_assessment",
                    falls_assessment(world["patient"], falls_last_12_months=2))
    [esc] = escalations(app)
    assert esc["rule"] == "falls_risk_high" and esc["occurrences"] == 2


def test_intermediate_falls_risk_is_routine(app, world):
    make_record(app, "falls_assessment",
                falls_assessment(world["patient"], feels_unsteady=True, tug_seconds=15.5))
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"]) == ("falls_risk_intermediate", "routine")


def test_gait_just_inside_normal_is_low_risk_and_raises_nothing(app, world):
    make_record(app, "falls_assessment",
                falls_assessment(world["patient"], feels_unsteady=True, tug_seconds=15.0))
    assert escalations(app) == []


def test_intermediate_falls_risk_repeats_are_occurrences(app, world):
    for _ in range(2):
        make_record(app, "falls_assessment",
                    falls_assessment(world["patient"], worried_about_falling=True,
                                     gait_speed_m_s=0.7))
    [esc] = escalations(app)
    assert esc["rule"] == "falls_risk_intermediate" and esc["occurrences"] == 2


# -- activation --------------------------------------------------------------------------


def score(app, patient_id, value, days_ago=0, **extra):
    return make_record(app, "activation_score", {
        "patient_id": patient_id, "assessed_at": at(NOW - timedelta(days=days_ago)),
        "score": value, **extra})


def test_activation_level_1_is_routine(app, world):
    score(app, world["patient"], 47.0)
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"]) == ("activation_low", "routine")
    assert "level 1" in esc["reason"]


def test_a_first_score_at_level_2_raises_nothing(app, world):
    score(app, world["patient"], 47.1)
    assert escalations(app) == []


def test_a_drop_of_one_level_from_the_previous_score_fires(app, world):
    score(app, world["patient"], 55.2, days_ago=30)  # level 3
    score(app, world["patient"], 55.1)  # level 2
    [esc] = escalations(app)
    assert esc["rule"] == "activation_low" and "from level 3 to 2" in esc["reason"]


def test_the_same_level_as_before_raises_nothing(app, world):
    score(app, world["patient"], 60.0, days_ago=30)
    score(app, world["patient"], 55.2)
    assert escalations(app) == []


def test_a_voided_previous_score_is_not_compared(app, world):
    score(app, world["patient"], 50.0, days_ago=60)  # level 2
    wrong = score(app, world["patient"], 70.0, days_ago=30)  # level 4, entered in error
    write(app, "activation_score", {"entered_in_error": True, "void_reason": "Other patient"},
          wrong)
    score(app, world["patient"], 50.0)  # level 2: no drop from the last real score
    assert escalations(app) == []


def test_low_activation_repeats_are_occurrences(app, world):
    score(app, world["patient"], 40.0, days_ago=30)
    score(app, world["patient"], 42.0)
    [esc] = escalations(app)
    assert esc["occurrences"] == 2


# -- no access ---------------------------------------------------------------------------


def test_no_access_is_an_urgent_welfare_check(app, world):
    visit_id = make_record(app, "visit", visit(world["patient"]))
    assert escalations(app) == []
    write(app, "visit", {"status": "no_access"}, visit_id)
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"], esc["source_id"]) == (
        "no_access_visit", "urgent", visit_id)
    assert "welfare check" in esc["reason"]


@pytest.mark.parametrize("status", ["in_progress", "completed", "cancelled"])
def test_other_visit_outcomes_are_no_welfare_check(app, world, status):
    visit_id = make_record(app, "visit", visit(world["patient"]))
    write(app, "visit", {"status": status}, visit_id)
    assert escalations(app, rule="no_access_visit") == []


def test_editing_a_no_access_visit_again_fires_nothing_more(app, world):
    visit_id = make_record(app, "visit", visit(world["patient"], status="no_access"))
    write(app, "visit", {"notes": "Neighbour says she is away"}, visit_id)
    assert [e["occurrences"] for e in escalations(app)] == [1]


def test_no_access_again_at_the_same_visit_is_an_occurrence_another_visit_is_not(app, world):
    visit_id = make_record(app, "visit", visit(world["patient"]))
    write(app, "visit", {"status": "no_access"}, visit_id)
    write(app, "visit", {"status": "scheduled"}, visit_id)
    write(app, "visit", {"status": "no_access"}, visit_id)
    other = make_record(app, "visit", visit(world["patient"], status="no_access"))
    found = {e["source_id"]: e["occurrences"] for e in escalations(app)}
    assert found == {visit_id: 2, other: 1}


# -- late sync ---------------------------------------------------------------------------


@pytest.mark.parametrize("ended_ago, fires", [
    (timedelta(hours=24, minutes=1), True),
    (timedelta(hours=24), False),
    (timedelta(hours=23, minutes=59), False),
])
def test_a_visit_reaching_the_server_over_24h_after_it_ended_is_late(
        app, world, ended_ago, fires):
    ended = NOW - ended_ago
    visit_id = make_record(app, "visit", visit(
        world["patient"], scheduled_start=at(ended - timedelta(hours=1)),
        scheduled_end=at(ended), started_at=at(ended - timedelta(minutes=50)),
        ended_at=at(ended), status="completed"))
    found = escalations(app, rule="late_sync")
    assert bool(found) is fires
    if fires:
        assert (found[0]["severity"], found[0]["source_id"]) == ("routine", visit_id)


def test_late_sync_uses_scheduled_end_when_no_end_time_was_recorded(app, world):
    visit_id = make_record(app, "visit", visit(
        world["patient"], scheduled_start=at(NOW - timedelta(hours=30)),
        scheduled_end=at(NOW - timedelta(hours=29))))
    write(app, "visit", {"status": "completed"}, visit_id)
    assert [e["rule"] for e in escalations(app)] == ["late_sync"]


def test_a_visit_completed_on_time_then_edited_later_is_not_late(app, world, clock):
    visit_id = make_record(app, "visit", visit(world["patient"]))
    write(app, "visit", {"status": "completed", "ended_at": at(NOW)}, visit_id)
    clock.advance(days=3)
    write(app, "visit", {"notes": "Added the dressing type"}, visit_id)
    assert escalations(app) == []


def test_a_visit_ended_late_twice_is_one_escalation_with_two_occurrences(app, world):
    ended = at(NOW - timedelta(days=2))
    visit_id = make_record(app, "visit", visit(world["patient"], status="in_progress"))
    write(app, "visit", {"status": "completed", "ended_at": ended}, visit_id)
    write(app, "visit", {"status": "in_progress"}, visit_id)
    write(app, "visit", {"status": "completed"}, visit_id)
    [esc] = escalations(app)
    assert esc["rule"] == "late_sync" and esc["occurrences"] == 2


# -- missed visit (scheduler) ------------------------------------------------------------


def test_a_visit_still_scheduled_2h_after_its_end_is_missed(app, world):
    end = NOW - timedelta(hours=2)
    visit_id = make_record(app, "visit", visit(world["patient"], scheduled_end=at(end),
                                               scheduled_start=at(end - timedelta(hours=1))))
    assert run_rules(app, NOW - timedelta(seconds=1)) == {"missed_visit": 0,
                                                          "goal_not_logged": 0}
    assert escalations(app) == []
    assert run_rules(app, NOW)["missed_visit"] == 1
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"], esc["source_id"]) == ("missed_visit", "urgent",
                                                                visit_id)


@pytest.mark.parametrize("status", ["in_progress", "completed", "no_access", "cancelled"])
def test_a_visit_that_moved_on_is_not_missed(app, world, status):
    make_record(app, "visit", visit(world["patient"], status=status,
                                    scheduled_end=at(NOW - timedelta(hours=5))))
    run_rules(app, NOW)
    assert escalations(app, rule="missed_visit") == []


def test_a_missed_visit_is_raised_once_however_many_ticks_find_it(app, world):
    make_record(app, "visit", visit(world["patient"], scheduled_end=at(NOW - timedelta(hours=3))))
    for minutes in range(0, 120, 30):
        run_rules(app, NOW + timedelta(minutes=minutes))
    [esc] = escalations(app)
    assert esc["occurrences"] == 1 and esc["version"] == 1


def test_a_rescheduled_visit_missed_again_is_an_occurrence(app, world):
    visit_id = make_record(app, "visit", visit(world["patient"],
                                               scheduled_end=at(NOW - timedelta(hours=3))))
    run_rules(app, NOW)
    write(app, "visit", {"scheduled_start": at(NOW), "scheduled_end": at(NOW + timedelta(hours=1))},
          visit_id)
    run_rules(app, NOW + timedelta(hours=3, minutes=1))
    [esc] = escalations(app)
    assert esc["rule"] == "missed_visit" and esc["occurrences"] == 2


def test_visits_beyond_the_lookback_are_not_escalated(app, world):
    make_record(app, "visit", visit(world["patient"], scheduled_start=at(NOW - timedelta(days=9)),
                                    scheduled_end=at(NOW - timedelta(days=8))))
    run_rules(app, NOW)
    assert escalations(app) == []


def test_visits_of_a_deleted_patient_are_not_escalated(app, world):
    make_record(app, "visit", visit(world["patient"], scheduled_end=at(NOW - timedelta(hours=3))))
    write(app, "patient", {}, world["patient"], op="delete")
    run_rules(app, NOW)
    assert escalations(app) == []


# -- goal not logged (scheduler) ---------------------------------------------------------


def goal(app, patient_id, start, **overrides):
    return make_record(app, "goal", {"patient_id": patient_id, "title": "Walk to the shop",
                                     "times_per_week": 3, "start_date": start, **overrides})


def goal_log(app, patient_id, goal_id, day, **extra):
    return make_record(app, "goal_log", {"goal_id": goal_id, "patient_id": patient_id,
                                         "date": day, "done": True, **extra})


def test_an_active_goal_not_logged_for_7_days_is_routine(app, world):
    goal_id = goal(app, world["patient"], "2026-11-01")
    goal_log(app, world["patient"], goal_id, "2026-11-17")
    assert run_rules(app, NOW)["goal_not_logged"] == 1  # 24 Nov: 7 days since the 17th
    [esc] = escalations(app)
    assert (esc["rule"], esc["severity"], esc["source_id"]) == ("goal_not_logged", "routine",
                                                                goal_id)
    assert "last logged 2026-11-17" in esc["reason"]


def test_a_goal_logged_6_days_ago_is_fine(app, world):
    goal_id = goal(app, world["patient"], "2026-11-01")
    goal_log(app, world["patient"], goal_id, "2026-11-18")
    run_rules(app, NOW)
    assert escalations(app) == []


def test_a_goal_never_logged_counts_from_its_start(app, world):
    goal(app, world["patient"], "2026-11-18")
    run_rules(app, NOW)
    assert escalations(app) == []
    goal(app, world["patient"], "2026-11-17")
    run_rules(app, NOW)
    assert "started 2026-11-17" in escalations(app)[0]["reason"]


def test_a_voided_log_does_not_count(app, world):
    goal_id = goal(app, world["patient"], "2026-11-01")
    log_id = goal_log(app, world["patient"], goal_id, "2026-11-23")
    write(app, "goal_log", {"entered_in_error": True, "void_reason": "Other goal"}, log_id)
    run_rules(app, NOW)
    assert len(escalations(app)) == 1


@pytest.mark.parametrize("status", ["achieved", "paused", "stopped"])
def test_goals_that_are_not_active_are_not_chased(app, world, status):
    goal(app, world["patient"], "2026-10-01", status=status)
    run_rules(app, NOW)
    assert escalations(app) == []


def test_a_lapsed_goal_is_raised_once_and_again_only_after_it_lapses_again(app, world):
    goal_id = goal(app, world["patient"], "2026-11-01")
    goal_log(app, world["patient"], goal_id, "2026-11-16")
    run_rules(app, NOW)
    run_rules(app, NOW + timedelta(hours=12))
    assert [e["occurrences"] for e in escalations(app)] == [1]
    goal_log(app, world["patient"], goal_id, "2026-11-25")
    run_rules(app, NOW + timedelta(days=7))  # 1 Dec: 6 days since the 25th
    assert [e["occurrences"] for e in escalations(app)] == [1]
    run_rules(app, NOW + timedelta(days=8))  # 2 Dec: 7 days
    assert [e["occurrences"] for e in escalations(app)] == [2]


# -- every escalation --------------------------------------------------------------------


def test_escalations_sync_to_staff_and_are_audited_as_the_system(app, world):
    make_record(app, "self_report", fall(world["patient"]))
    [esc] = escalations(app)
    conn = db.connect(app.config["DATABASE"])
    try:
        row = conn.execute("SELECT detail FROM audit_log WHERE entity = 'escalation'"
                           " AND record_id = ?", (esc["id"],)).fetchone()
    finally:
        conn.close()
    assert json.loads(row["detail"])["by"] == "system"


def test_a_new_escalation_schedules_its_notice_and_re_notifications(app, world):
    make_record(app, "self_report", fall(world["patient"], injured=True))
    [esc] = escalations(app)
    rows = notices(app, esc["id"])
    assert [(r["kind"], r["status"], r["due_at"]) for r in rows] == [
        ("opened", "due", at(NOW)),
        ("renotify", "due", at(NOW + timedelta(minutes=10))),
        ("renotify", "due", at(NOW + timedelta(minutes=20))),
        ("renotify", "due", at(NOW + timedelta(minutes=30))),
    ]


def test_an_escalation_rolls_back_with_the_change_that_raised_it(app, world):
    """The escalation and its notices are written in the change's own transaction."""
    make_record(app, "self_report", fall(world["patient"]))
    before = (escalations(app), notices(app))
    with pytest.raises(ValidationFailed), app.app_context(), database.write() as uow:
        records.write_as_system(uow, SYSTEM, "self_report", fall(world["patient"]),
                                str(uuid.uuid4()))
        records.write_as_system(uow, SYSTEM, "visit", {"patient_id": world["patient"]},
                                str(uuid.uuid4()))
    assert (escalations(app), notices(app)) == before


def test_thresholds_are_configuration(tmp_path, clock):
    app = migrated_app(test_config(tmp_path, clock, ESCALATION_LATE_SYNC_HOURS=48,
                                 ESCALATION_MISSED_VISIT_HOURS=4,
                                 ESCALATION_ACTIVATION_LOW_LEVEL=2,
                                 ESCALATION_GOAL_NOT_LOGGED_DAYS=3))
    world = make_world(app)
    patient = world["patient"]
    ended = at(NOW - timedelta(hours=30))
    make_record(app, "visit", visit(patient, scheduled_end=ended, ended_at=ended,
                                    status="completed"))  # 30 h late: fine under 48 h
    make_record(app, "visit", visit(patient, scheduled_end=at(NOW - timedelta(hours=3))))
    score(app, patient, 50.0)  # level 2: now low
    goal(app, patient, "2026-11-21")  # 3 days without a log
    run_rules(app, NOW)  # the visit is 3 h overdue: not yet missed under 4 h
    assert sorted(e["rule"] for e in escalations(app)) == ["activation_low", "goal_not_logged"]
    run_rules(app, NOW + timedelta(hours=1))
    assert "missed_visit" in {e["rule"] for e in escalations(app)}
