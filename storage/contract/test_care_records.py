"""Care-record queries the escalation rules and reminders make, each with matching and
non-matching records (written through the sync engine: storage/contract/care_data.py)."""

from __future__ import annotations

from datetime import date, timedelta

from storage import Storage
from storage.contract import care_data
from storage.contract.conftest import Clock


def test_open_escalation_per_patient_rule_and_source(storage: Storage) -> None:
    with storage.write() as uow:
        patient, other = care_data.patient(uow), care_data.patient(uow)

        def escalation(patient_id: str, rule: str, source: str, status: str = "open") -> str:
            return care_data.write(uow, "escalation", {
                "patient_id": patient_id, "rule": rule, "source_id": source, "status": status,
                "severity": "urgent"})

        escalation(patient, "missed_visit", "visit-1", status="acknowledged")
        wanted = escalation(patient, "missed_visit", "visit-2")
        escalation(other, "missed_visit", "visit-1")
        deleted = escalation(patient, "goal_not_logged", "goal-1")
        care_data.delete(uow, "escalation", deleted)
        queries = uow.care_records
        found = queries.open_escalation(patient, "missed_visit")
        assert found is not None and found.id == wanted
        assert found.data["source_id"] == "visit-2"
        assert queries.open_escalation(patient, "missed_visit", "visit-2") == found
        assert queries.open_escalation(patient, "missed_visit", "visit-1") is None
        assert queries.open_escalation(patient, "fall_reported") is None
        assert queries.open_escalation(patient, "goal_not_logged") is None


def test_previous_activation_level_skips_voided_later_and_the_score_itself(
        storage: Storage) -> None:
    with storage.write() as uow:
        patient = care_data.patient(uow)

        def score(level: int, at: str, **extra: object) -> str:
            return care_data.write(uow, "activation_score", {
                "patient_id": patient, "level": level, "assessed_at": at, **extra})

        score(1, "2026-01-01T10:00:00+00:00")
        score(2, "2026-03-01T10:00:00+00:00")
        score(4, "2026-03-02T10:00:00+00:00", entered_in_error=True, void_reason="wrong")
        score(3, "2026-06-01T10:00:00+00:00")  # after: not "previous"
        this = score(1, "2026-04-01T10:00:00+00:00")
        queries = uow.care_records
        assert queries.previous_activation_level(patient, this,
                                                 "2026-04-01T10:00:00+00:00") == 2
        assert queries.previous_activation_level(patient, this,
                                                 "2025-12-01T10:00:00+00:00") is None
        assert queries.previous_activation_level(care_data.patient(uow), this,
                                                 "2026-04-01T10:00:00+00:00") is None


def test_missed_visits_are_the_live_scheduled_ones_in_the_window_not_yet_raised(
        storage: Storage, clock: Clock) -> None:
    end = clock.now - timedelta(hours=2)
    with storage.write() as uow:
        patient, gone = care_data.patient(uow), care_data.patient(uow)

        def visit(patient_id: str, ended: object, status: str = "scheduled") -> str:
            return care_data.write(uow, "visit", {
                "patient_id": patient_id, "status": status,
                "scheduled_start": (end - timedelta(minutes=30)).isoformat(),
                "scheduled_end": ended.isoformat() if hasattr(ended, "isoformat") else ended})

        missed = visit(patient, end)
        raised = visit(patient, end - timedelta(minutes=1))
        visit(patient, end, status="completed")
        visit(patient, clock.now)  # ends after the cutoff
        visit(patient, end - timedelta(days=10))  # before the look-back
        visit(gone, end)
        care_data.delete(uow, "patient", gone)
        deleted = visit(patient, end)
        care_data.delete(uow, "visit", deleted)
        uow.care_records.record_escalation_finding(
            "missed_visit", raised, (end - timedelta(minutes=1)).isoformat(), "esc", clock.now)
        found = uow.care_records.missed_visits(clock.now - timedelta(hours=1),
                                               clock.now - timedelta(days=7))
    assert [(v.visit_id, v.patient_id, v.scheduled_end) for v in found] == [
        (missed, patient, end.isoformat())]


def test_lapsed_goals_count_from_the_last_live_log_or_the_start(storage: Storage,
                                                               clock: Clock) -> None:
    with storage.write() as uow:
        patient = care_data.patient(uow)

        def goal(start: str, status: str = "active") -> str:
            return care_data.write(uow, "goal", {"patient_id": patient, "status": status,
                                                 "start_date": start})

        def log(goal_id: str, day: str, **extra: object) -> None:
            care_data.write(uow, "goal_log", {"patient_id": patient, "goal_id": goal_id,
                                              "date": day, "done": True, **extra})

        never = goal("2026-11-01")
        lapsed = goal("2026-10-01")
        log(lapsed, "2026-11-10")
        log(lapsed, "2026-11-20", entered_in_error=True, void_reason="wrong day")
        fresh = goal("2026-10-01")
        log(fresh, "2026-11-20")
        goal("2026-10-01", status="completed")
        goal("2026-11-18")  # started after the cutoff
        raised = goal("2026-11-02")
        uow.care_records.record_escalation_finding("goal_not_logged", raised, "2026-11-02",
                                                   "esc", clock.now)
        found = uow.care_records.lapsed_goals(date(2026, 11, 17))
    assert {g.goal_id: (g.since, g.logged) for g in found} == {
        never: ("2026-11-01", False), lapsed: ("2026-11-10", True)}
    assert fresh not in {g.goal_id for g in found}


def test_active_reminders_of_live_patients_with_their_sharing_objection(
        storage: Storage) -> None:
    with storage.write() as uow:
        patient = care_data.patient(uow, sharing_objection=True)
        gone = care_data.patient(uow)

        def reminder(patient_id: str, **extra: object) -> str:
            return care_data.write(uow, "reminder", {"patient_id": patient_id,
                                                     "time_of_day": "09:00", **extra})

        active = reminder(patient, active=True)
        unset = reminder(patient)
        reminder(patient, active=False)
        reminder(gone)
        care_data.delete(uow, "patient", gone)
        care_data.delete(uow, "reminder", reminder(patient))
        found = uow.care_records.active_reminders()
    assert {r.id for r in found} == {active, unset}
    assert all(r.sharing_objection for r in found)
    assert {r.data["time_of_day"] for r in found} == {"09:00"}


def test_goal_done_on_a_day_needs_a_live_not_voided_done_log_that_day(
        storage: Storage) -> None:
    with storage.write() as uow:
        patient = care_data.patient(uow)

        def log(goal_id: str, day: str, **extra: object) -> str:
            return care_data.write(uow, "goal_log", {"patient_id": patient, "goal_id": goal_id,
                                                     "date": day, "done": True, **extra})

        log("g1", "2026-11-24")
        log("g2", "2026-11-24", done=False)
        log("g3", "2026-11-24", entered_in_error=True, void_reason="wrong")
        care_data.delete(uow, "goal_log", log("g4", "2026-11-24"))
        queries, day = uow.care_records, date(2026, 11, 24)
        assert queries.goal_done_on(patient, "g1", day)
        assert not queries.goal_done_on(patient, "g1", day + timedelta(days=1))
        assert not queries.goal_done_on("another-patient", "g1", day)
        for goal_id in ("g2", "g3", "g4"):
            assert not queries.goal_done_on(patient, goal_id, day)
