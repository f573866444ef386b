"""FHIR test helpers: validation with fhirclient's R4 (4.0.1) models, UK Core Patient
checks, and a small patient record with one of everything, written through sync push.

Why fhirclient: its models are generated from the FHIR 4.0.1 definitions (fhir.resources
7+ offers only R5, R4B and STU3). Strict parsing refuses unknown elements, wrong types,
bad date/dateTime/instant formats, lists where one value belongs and missing required
elements, for every resource inside a Bundle too.
"""

from __future__ import annotations

import uuid
from typing import Any

from conftest import Session, make_patient, make_record, make_user
from fhirclient.models.fhirelementfactory import FHIRElementFactory
from flask import Flask

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
UK_CORE_PATIENT = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
VERIFICATION_URL = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
)
VERIFICATION_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland"
VERIFICATION_CODES = {f"0{n}" for n in range(1, 9)}


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Parse strictly as FHIR R4; raises FHIRValidationError naming what is wrong."""
    model = FHIRElementFactory.instantiate(resource["resourceType"], resource)
    assert model.as_json()["resourceType"] == resource["resourceType"]
    for entry in resource.get("entry", []):
        validate(entry["resource"])
    if resource["resourceType"] == "Patient":
        check_uk_core_patient(resource)
    return resource


def check_uk_core_patient(patient: dict[str, Any]) -> None:
    """The UK Core Patient rules that matter for Doorstep's data."""
    assert UK_CORE_PATIENT in patient["meta"]["profile"]
    numbers = [i for i in patient.get("identifier", []) if i["system"] == NHS_NUMBER_SYSTEM]
    assert len(numbers) == 1
    number = numbers[0]
    assert len(number["value"]) == 10 and number["value"].isdigit()
    for extension in number.get("extension", []):
        assert extension["url"] == VERIFICATION_URL
        (code,) = extension["valueCodeableConcept"]["coding"]
        assert code["system"] == VERIFICATION_SYSTEM and code["code"] in VERIFICATION_CODES


def push(session: Session, entity: str, record_id: str, fields: dict[str, Any],
         op: str = "create", base_version: int = 0) -> None:
    """One mutation through sync push, as a device would send it."""
    push_batch(session, [(entity, record_id, fields, op, base_version)])


def push_batch(session: Session,
               mutations: list[tuple[str, str, dict[str, Any], str, int]]) -> None:
    """(entity, id, fields, op, base_version) mutations in one sync push; all applied."""
    first = getattr(session, "last_mutation_id", 0) + 1
    session.last_mutation_id = first + len(mutations) - 1  # type: ignore[attr-defined]
    response = session.post("/api/v1/sync/push", json={
        "client_id": session.client_id, "schema_version": 1,
        "mutations": [{"mutation_id": first + n, "entity": entity, "id": record_id,
                       "op": op, "base_version": base_version, "fields": fields}
                      for n, (entity, record_id, fields, op, base_version)
                      in enumerate(mutations)]})
    assert response.status_code == 200, response.json
    for result in response.json["results"]:
        assert result["status"] == "applied", result


def falls_answers(**overrides: Any) -> dict[str, Any]:
    answers = {"falls_last_12_months": 2, "fall_injury": True, "unable_to_get_up": False,
               "lost_consciousness": False, "feels_unsteady": True,
               "worried_about_falling": True, "frailty_cfs": 6, "tug_seconds": 18.5,
               "short_fes_i": 15, "multifactorial": {"vision": "referred"}}
    answers.update(overrides)
    return answers


def rid(name: str) -> str:
    """A record id (a UUID, as the API requires) that tests can name: rid("visit-1")."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"doorstep-tests/{name}"))


def seed_record(app: Flask, nurse: Session, team_id: str, tag: str = "1",
                **patient_overrides: Any) -> dict[str, str]:
    """One patient with a carer, a signed visit, a falls assessment (raising an
    escalation), an activation score, a goal and a reminder; returns their ids."""
    patient_id = make_patient(app, team_id, **patient_overrides)
    carer = make_user(app, "carer")
    ids = {"patient": patient_id, "carer_user": carer.id,
           **{kind: rid(f"{kind}-{tag}")
              for kind in ("carer_link", "visit", "falls", "pam", "goal", "reminder")}}
    if not patient_overrides.get("sharing_objection"):
        make_record(app, "carer_link", {"patient_id": patient_id, "carer_user_id": carer.id,
                                        "relationship": "Daughter",
                                        "consent_basis": "patient_consent"},
                    ids["carer_link"])
    push_batch(nurse, [(entity, ids[key], fields, "create", 0) for entity, key, fields in (
        ("visit", "visit", {
            "patient_id": patient_id, "assigned_to": nurse.user["id"],
            "scheduled_start": "2026-11-24T09:00:00+00:00",
            "scheduled_end": "2026-11-24T10:00:00+00:00", "visit_type": "assessment",
            "status": "completed", "started_at": "2026-11-24T09:05:00+00:00",
            "ended_at": "2026-11-24T09:50:00+00:00", "notes": "Seen at home.",
            "signed_at": "2026-11-24T09:55:00+00:00"}),
        ("falls_assessment", "falls", {
            "patient_id": patient_id, "visit_id": ids["visit"],
            "assessed_at": "2026-11-24T09:30:00+00:00", **falls_answers()}),
        ("activation_score", "pam", {
            "patient_id": patient_id, "assessed_at": "2026-11-24T09:40:00+00:00",
            "score": 52.3, "source_level": 3, "source": "PAM-13 (licensed)"}),
        ("goal", "goal", {
            "patient_id": patient_id, "title": "Walk to the post box", "times_per_week": 3,
            "start_date": "2026-11-24", "review_date": "2027-01-05",
            "description": "With the frame"}),
        ("reminder", "reminder", {
            "patient_id": patient_id, "goal_id": ids["goal"], "recipient_ids": [carer.id],
            "title": "Walk time", "body": "Take the frame", "time_of_day": "10:30",
            "days_of_week": [1, 3, 5], "start_date": "2026-11-24"}),
    )])
    return ids

