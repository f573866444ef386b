"""FHIR R4 read API: every resource type read by id and searched by patient, each
validated against R4 (fhirclient) and UK Core Patient rules; access and audit as every
other read; errors as OperationOutcome."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import login, login_as, make_record, make_team, patient_fields
from fhir_helpers import NHS_NUMBER_SYSTEM, push, rid, seed_record, validate

FHIR = "/api/v1/fhir"


@pytest.fixture
def ward(app: Any, client: Any) -> dict[str, Any]:
    team = make_team(app)
    nurse = login_as(app, client, "nurse", teams=(team,))
    ids = seed_record(app, nurse, team)
    return {"team": team, "nurse": nurse, "ids": ids}


def fhir_get(session: Any, path: str, status: int = 200) -> dict[str, Any]:
    response = session.get(f"{FHIR}/{path}")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    return validate(response.get_json())


def read_audits(app: Any, patient_id: str) -> list[str]:
    import dbtools as db

    with app.app_context():
        rows = db.get_db().execute(
            "SELECT detail FROM audit_log WHERE action = 'read' AND patient_id = ?"
            " ORDER BY id", (patient_id,)).fetchall()
    return [row[0] for row in rows]


def test_patient_is_uk_core_with_nhs_number_and_verification_status(ward: Any) -> None:
    patient = fhir_get(ward["nurse"], f"Patient/{ward['ids']['patient']}")
    (identifier,) = patient["identifier"]
    assert identifier["system"] == NHS_NUMBER_SYSTEM
    assert identifier["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "02"
    assert patient["name"] == [{"use": "official", "family": "Crawley", "given": ["Edith"]}]
    assert patient["gender"] == "female" and patient["birthDate"] == "1941-03-02"
    assert "Key safe" not in str(patient)  # access notes are staff-only, never exported


def test_search_patient_by_nhs_number(ward: Any, app: Any) -> None:
    number = fhir_get(ward["nurse"], f"Patient/{ward['ids']['patient']}")[
        "identifier"][0]["value"]
    bundle = fhir_get(ward["nurse"], f"Patient?identifier={NHS_NUMBER_SYSTEM}|{number}")
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    assert fhir_get(ward["nurse"], "Patient?identifier=other|1")["total"] == 0


@pytest.mark.parametrize("resource_type, key, check", [
    ("RelatedPerson", "carer_link",
     lambda r: r["relationship"][0]["text"] == "Daughter" and r["active"] is True),
    ("Encounter", "visit",
     lambda r: r["status"] == "finished" and r["class"]["code"] == "HH"
     and r["period"]["start"].startswith("2026-11-24T09:05")),
    ("Provenance", "visit",
     lambda r: r["target"] == [{"reference": f"Encounter/{rid('visit-1')}"}]
     and r["agent"][0]["type"]["coding"][0]["code"] == "attester"),
    ("QuestionnaireResponse", "falls",
     lambda r: r["status"] == "completed"
     and r["encounter"]["reference"] == f"Encounter/{rid('visit-1')}"
     and {"linkId": "falls_last_12_months", "text": "Falls in the last 12 months",
          "answer": [{"valueInteger": 2}]} in r["item"]),
    ("RiskAssessment", "falls",
     lambda r: "stratification" in r["method"]["text"] and "not a prediction" in
     r["method"]["text"] and r["prediction"][0]["qualitativeRisk"]["coding"][1]["code"]
     == "high" and "Injured in a fall" in r["prediction"][0]["rationale"]
     and "probabilityDecimal" not in r["prediction"][0]),
    ("Observation", "pam",
     lambda r: r["valueQuantity"]["value"] == 52.3
     and {c["code"]["coding"][0]["code"]: c["valueInteger"] for c in r["component"]}
     == {"pam-level": 2, "pam-level-reported": 3}),
    ("Goal", "goal",
     lambda r: r["lifecycleStatus"] == "active" and r["target"][0]["detailQuantity"]["value"]
     == 3 and r["target"][0]["dueDate"] == "2027-01-05"),
    ("CarePlan", "patient",
     lambda r: r["goal"] == [{"reference": f"Goal/{rid('goal-1')}"}]
     and r["activity"][0]["detail"]["scheduledTiming"]["repeat"]["dayOfWeek"]
     == ["mon", "wed", "fri"]),
])
def test_each_resource_type_reads_by_id_and_by_patient(
    ward: Any, app: Any, resource_type: str, key: str, check: Any
) -> None:
    patient_id = ward["ids"]["patient"]
    resource = fhir_get(ward["nurse"], f"{resource_type}/{ward['ids'][key]}")
    assert check(resource)
    bundle = fhir_get(ward["nurse"], f"{resource_type}?patient=Patient/{patient_id}")
    assert [e["resource"] for e in bundle["entry"]] == [resource]
    assert f'"via": "fhir:{resource_type}"' in "".join(read_audits(app, patient_id))


def test_an_empty_search_about_a_visible_patient_is_audited(ward: Any, app: Any) -> None:
    patient_id = make_record(app, "patient", patient_fields(ward["team"]))
    assert fhir_get(ward["nurse"], f"Goal?patient={patient_id}")["total"] == 0
    assert read_audits(app, patient_id) == ['{"via": "fhir:Goal"}']


def test_an_unsigned_visit_is_a_planned_encounter_without_provenance(ward: Any) -> None:
    push(ward["nurse"], "visit", rid("visit-planned"), {
        "patient_id": ward["ids"]["patient"], "scheduled_start": "2026-11-25T09:00:00+00:00",
        "scheduled_end": "2026-11-25T10:00:00+00:00", "visit_type": "wound_care"})
    encounter = fhir_get(ward["nurse"], f"Encounter/{rid('visit-planned')}")
    assert encounter["status"] == "planned"
    assert encounter["period"] == {"start": "2026-11-25T09:00:00.000000+00:00",
                                   "end": "2026-11-25T10:00:00.000000+00:00"}
    fhir_get(ward["nurse"], f"Provenance/{rid('visit-planned')}", status=404)
    provenances = fhir_get(ward["nurse"], f"Provenance?patient={ward['ids']['patient']}")
    assert [e["resource"]["id"] for e in provenances["entry"]] == [rid("visit-1")]


def test_flag_for_the_escalation_the_assessment_raised(ward: Any) -> None:
    bundle = fhir_get(ward["nurse"], f"Flag?patient={ward['ids']['patient']}")
    flags = [e["resource"] for e in bundle["entry"]]
    assert {f["code"]["coding"][0]["code"] for f in flags} >= {"falls_risk_high"}
    assert all(f["status"] == "active" for f in flags)
    assert fhir_get(ward["nurse"], f"Flag/{flags[0]['id']}") == flags[0]


def test_questionnaire_is_published_and_answers_refer_to_it(ward: Any) -> None:
    questionnaire = fhir_get(ward["nurse"], "Questionnaire/falls-assessment")
    response = fhir_get(ward["nurse"], f"QuestionnaireResponse/{ward['ids']['falls']}")
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    link_ids = {i["linkId"] for i in questionnaire["item"]}
    assert {i["linkId"] for i in response["item"]} <= link_ids


def test_everything_holds_every_resource_of_the_patient(ward: Any, app: Any) -> None:
    bundle = fhir_get(ward["nurse"], f"Patient/{ward['ids']['patient']}/$everything")
    types = sorted({e["resource"]["resourceType"] for e in bundle["entry"]})
    assert types == sorted(["Patient", "RelatedPerson", "Encounter", "Provenance",
                            "QuestionnaireResponse", "RiskAssessment", "Observation",
                            "Goal", "Flag", "CarePlan"])
    assert '"via": "fhir:$everything"' in read_audits(app, ward["ids"]["patient"])[-1]


def test_voided_records_are_entered_in_error(ward: Any) -> None:
    nurse = ward["nurse"]
    push(nurse, "activation_score", ward["ids"]["pam"],
         {"entered_in_error": True, "void_reason": "Wrong patient"}, op="update",
         base_version=1)
    push(nurse, "falls_assessment", ward["ids"]["falls"],
         {"entered_in_error": True, "void_reason": "Wrong patient"}, op="update",
         base_version=1)
    assert fhir_get(nurse, f"Observation/{ward['ids']['pam']}")["status"] == "entered-in-error"
    for resource_type in ("QuestionnaireResponse", "RiskAssessment"):
        resource = fhir_get(nurse, f"{resource_type}/{ward['ids']['falls']}")
        assert resource["status"] == "entered-in-error"


def test_out_of_scope_answers_404_operation_outcome_and_is_not_audited(
    ward: Any, app: Any, client: Any
) -> None:
    other = login_as(app, client, "nurse", teams=(make_team(app),))
    admin = login_as(app, client, "admin")
    patient_id = ward["ids"]["patient"]
    before = read_audits(app, patient_id)
    for session in (other, admin):
        outcome = fhir_get(session, f"Patient/{patient_id}", status=404)
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "not-found"
        assert fhir_get(session, f"Goal?patient={patient_id}")["total"] == 0
        fhir_get(session, f"Patient/{patient_id}/$everything", status=404)
    assert read_audits(app, patient_id) == before


def test_carer_sees_demographics_and_visit_times_not_assessments(ward: Any, app: Any,
                                                                 client: Any) -> None:
    from server import database
    from server.services import accounts

    with app.app_context(), database.read() as uow:
        carer = accounts.user_by_id(uow, ward["ids"]["carer_user"])
    session = login(client, carer.username)
    patient_id = ward["ids"]["patient"]
    bundle = fhir_get(session, f"Patient/{patient_id}/$everything")
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Encounter", "Goal", "CarePlan"} <= types
    assert not types & {"RiskAssessment", "QuestionnaireResponse", "Observation", "Flag",
                        "Provenance"}


def test_patient_reads_their_own_record_without_staff_fields_or_flags(
    ward: Any, app: Any, client: Any
) -> None:
    patient_id = ward["ids"]["patient"]
    own = login_as(app, client, "patient", patient_id=patient_id)
    bundle = fhir_get(own, f"Patient/{patient_id}/$everything")
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Observation", "RiskAssessment", "Goal", "CarePlan"} <= types
    assert "Flag" not in types and "Key safe" not in str(bundle)
    other = make_record(app, "patient", patient_fields(ward["team"]))
    fhir_get(own, f"Patient/{other}", status=404)


def test_sharing_objection_patient_is_still_readable_by_their_care_team(
    ward: Any, app: Any
) -> None:
    # Direct care: their own team reads them like any REST read; exports leave them out
    # (tests/test_fhir_bulk.py).
    objecting = make_record(app, "patient", {**patient_fields(ward["team"]),
                                             "sharing_objection": True})
    fhir_get(ward["nurse"], f"Patient/{objecting}")


def test_errors_are_operation_outcomes(ward: Any, client: Any) -> None:
    unauthenticated = client.get(f"{FHIR}/Patient")
    assert unauthenticated.status_code == 401
    assert unauthenticated.mimetype == "application/fhir+json"
    assert validate(unauthenticated.get_json())["issue"][0]["code"] == "login"
    assert "Bearer" in unauthenticated.headers["WWW-Authenticate"]
    outcome = fhir_get(ward["nurse"], "Goal", status=400)
    assert outcome["issue"][1]["expression"] == ["patient"]
    assert fhir_get(ward["nurse"], "Patient?_count=0", status=422)["issue"][0]["code"] \
        == "processing"
    assert fhir_get(ward["nurse"], "Spaceship/1", status=404)["issue"][0]["code"] \
        == "not-found"


def test_capability_statement(ward: Any) -> None:
    statement = fhir_get(ward["nurse"], "metadata")
    assert statement["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in statement["format"]
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert {"Patient", "Encounter", "CarePlan", "Flag", "Questionnaire", "Group"} <= types


def test_patient_search_pages(ward: Any, app: Any) -> None:
    for _ in range(2):
        make_record(app, "patient", patient_fields(ward["team"]))
    first = fhir_get(ward["nurse"], "Patient?_count=2")
    assert len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    rest = fhir_get(ward["nurse"], next_url.split("/api/v1/fhir/", 1)[1])
    assert len(rest["entry"]) == 1 and "total" in rest


def test_a_path_no_fhir_route_matches_still_answers_an_operation_outcome(ward: Any) -> None:
    """A newline in the path matches no route under the FHIR base (the fuzzer found it):
    the answer is still FHIR's, not the rest of the API's error shape."""
    for method in ("get", "post"):
        response = getattr(ward["nurse"], method)(f"{FHIR}/Patient%0Aanything")
        assert response.status_code == 404
        assert response.mimetype == "application/fhir+json"
        assert validate(response.get_json())["resourceType"] == "OperationOutcome"
