"""Record queries: scope look-ups, NHS number uniqueness, what reports and FHIR read.

Records are written through the sync engine (storage/contract/records_helpers.py).
Queries about users and teams (own patient, names, coordinators) need accounts, which
this suite cannot create through an interface yet; the HTTP tests cover them.
"""

from __future__ import annotations

import uuid

from storage import Storage
from storage.contract.records_helpers import (
    carer_link,
    nhs_number,
    open_escalation,
    patient,
    write,
)
from storage.records import VersionMade

TEAM_A, TEAM_B, TEAM_C = (str(uuid.uuid4()) for _ in range(3))


def test_patients_of_teams_are_the_live_patients_on_those_teams(storage: Storage) -> None:
    a1, a2 = patient(storage, TEAM_A), patient(storage, TEAM_A)
    b1 = patient(storage, TEAM_B)
    patient(storage, TEAM_C)
    gone = patient(storage, TEAM_A)
    write(storage, "patient", {}, gone, op="delete")
    moved = patient(storage, TEAM_A)
    write(storage, "patient", {"team_id": TEAM_C}, moved, op="update")
    with storage.read() as uow:
        assert uow.records.patients_of_teams({TEAM_A}) == {a1, a2}
        assert uow.records.patients_of_teams([TEAM_A, TEAM_B]) == {a1, a2, b1}
        assert uow.records.patients_of_teams(()) == set()


def test_patients_of_a_carer_need_an_active_link_and_no_sharing_objection(
    storage: Storage,
) -> None:
    carer = str(uuid.uuid4())
    linked, inactive, objecting, other = (patient(storage, TEAM_A) for _ in range(4))
    carer_link(storage, linked, carer)
    carer_link(storage, inactive, carer, active=False)
    carer_link(storage, objecting, carer)
    carer_link(storage, other, str(uuid.uuid4()))
    # Objecting after the link was made: the link stays, but shows nothing.
    write(storage, "patient", {"sharing_objection": True}, objecting, op="update")
    with storage.read() as uow:
        assert uow.records.patients_of_carer(carer) == {linked}
        assert sorted(uow.records.carer_linked_patients(carer)) == sorted(
            [linked, inactive, objecting])
        assert uow.records.patients_of_carer(str(uuid.uuid4())) == set()


def test_patient_data_is_the_live_patients_fields(storage: Storage) -> None:
    kept = patient(storage, TEAM_A, given_name="Alma")
    gone = patient(storage, TEAM_A)
    write(storage, "patient", {}, gone, op="delete")
    with storage.read() as uow:
        data = uow.records.patient_data(kept)
        assert data is not None and data["given_name"] == "Alma"
        assert data["team_id"] == TEAM_A
        assert uow.records.patient_data(gone) is None
        assert uow.records.patient_data(str(uuid.uuid4())) is None
        assert set(uow.records.patients_data([kept, gone])) == {kept}


def test_an_nhs_number_is_taken_by_another_live_patient_only(storage: Storage) -> None:
    number, freed = nhs_number(), nhs_number()
    holder = patient(storage, TEAM_A, nhs_number=number)
    gone = patient(storage, TEAM_A, nhs_number=freed)
    write(storage, "patient", {}, gone, op="delete")
    with storage.read() as uow:
        assert uow.records.nhs_number_taken(number, exclude_id=str(uuid.uuid4()))
        assert not uow.records.nhs_number_taken(number, exclude_id=holder)
        assert not uow.records.nhs_number_taken(freed, exclude_id=str(uuid.uuid4()))


def test_versions_and_who_made_them_come_from_the_changelog(storage: Storage) -> None:
    record = patient(storage, TEAM_A, given_name="Alma")
    write(storage, "patient", {"given_name": "Alma May"}, record, op="update")
    with storage.read() as uow:
        versions = uow.records.versions_of("patient", [record])
        assert [v.data["given_name"] for v in versions] == ["Alma", "Alma May"]
        assert {v.id for v in versions} == {record}
        first = uow.records.first_version_at("patient", record)
        assert first == versions[0].at
        made = uow.records.version_made("patient", record, 2)
        assert isinstance(made, VersionMade) and made.at == versions[1].at
        assert made.author_id and made.client_id
        assert uow.records.version_made("patient", record, 3) is None
        assert uow.records.first_version_at("patient", str(uuid.uuid4())) is None


def test_report_queries_leave_out_deleted_and_voided_records(storage: Storage) -> None:
    p1, p2 = patient(storage, TEAM_A), patient(storage, TEAM_A)
    other = patient(storage, TEAM_B)

    def score(patient_id: str, assessed_at: str, value: float) -> str:
        return write(storage, "activation_score", {
            "patient_id": patient_id, "assessed_at": assessed_at, "score": value})

    score(p1, "2026-11-20T10:00:00+00:00", 70.0)
    score(p1, "2026-11-10T10:00:00+00:00", 40.0)
    voided = score(p2, "2026-11-12T10:00:00+00:00", 55.0)
    write(storage, "activation_score", {"entered_in_error": True, "void_reason": "Wrong"},
          voided, op="update")
    score(other, "2026-11-12T10:00:00+00:00", 90.0)
    with storage.read() as uow:
        found = uow.records.live_assessments("activation_score", "level", [p1, p2])
    # Ordered by assessed_at, not by when written.
    assert [(f.patient_id, str(f.assessed_at)[:10]) for f in found] == [
        (p1, "2026-11-10"), (p1, "2026-11-20")]
    assert all(f.value is not None for f in found)


def test_visits_by_status_and_signed_visits(storage: Storage) -> None:
    p1 = patient(storage, TEAM_A)
    base = {"patient_id": p1, "scheduled_start": "2026-11-20T09:00:00+00:00",
            "scheduled_end": "2026-11-20T09:30:00+00:00", "visit_type": "wound_care"}
    scheduled = write(storage, "visit", {**base, "status": "scheduled"})
    done = write(storage, "visit", {
        **base, "status": "completed", "started_at": "2026-11-20T09:00:00+00:00",
        "ended_at": "2026-11-20T09:30:00+00:00", "notes": "Dressing changed.",
        "signed_at": "2026-11-20T09:31:00+00:00"})
    with storage.read() as uow:
        found = uow.records.live_records_with_status("visit", ["completed", "no_access"], [p1])
        assert [record_id for record_id, _ in found] == [done]
        assert found[0][1]["status"] == "completed"
        assert uow.records.live_records_with_status("visit", ["completed"], []) == []
        assert uow.records.signed_visits([p1], limit=3) == [(done, p1)]
        assert scheduled not in {v for v, _ in uow.records.signed_visits([p1], limit=3)}


def test_raised_escalations_and_open_ones_of_teams(storage: Storage) -> None:
    p1 = patient(storage, TEAM_A)
    assessment = write(storage, "falls_assessment", {
        "patient_id": p1, "assessed_at": "2026-11-20T10:00:00+00:00",
        "falls_last_12_months": 2, "fall_injury": False, "unable_to_get_up": False,
        "lost_consciousness": False, "feels_unsteady": False,
        "worried_about_falling": False})
    open_escalation(storage, p1, TEAM_A, "falls_risk_high", "falls_assessment", assessment)
    with storage.read() as uow:
        raised = uow.records.raised_escalations([p1])
        open_ones = uow.records.open_escalations_of_teams([TEAM_A])
        assert uow.records.open_escalations_of_teams([TEAM_B]) == []
    assert len(raised) == 1 and raised[0].raised_at
    assert raised[0].acknowledged_at is None and raised[0].resolved_at is None
    assert len(open_ones) == 1 and open_ones[0][1] == "falls_risk_high"
    write(storage, "falls_assessment", {"entered_in_error": True, "void_reason": "Wrong"},
          assessment, op="update")
    with storage.read() as uow:
        assert uow.records.raised_escalations([p1]) == []
