"""Validation of synced records (SPEC §2): accepted and refused inputs per entity and rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.records.schemas import records
from server.records.schemas.record_schemas import SCHEMAS
from sync.registry import Actor, ValidationFailed

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PATIENT = "3f2b8c1e-5d4a-4e6f-9a7b-1c2d3e4f5a6b"
USER = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d"

VALID: dict[str, dict[str, Any]] = {
    "patient": {"nhs_number": "943 476 5919", "given_name": "Ada", "family_name": "Lovelace",
                "date_of_birth": "1938-12-10", "team_id": "team-north"},
    "carer_link": {"patient_id": PATIENT, "carer_user_id": USER, "relationship": "daughter",
                   "consent_basis": "patient_consent"},
    "visit": {"patient_id": PATIENT, "scheduled_start": "2026-11-24T09:00:00Z",
              "scheduled_end": "2026-11-24T09:30:00Z", "visit_type": "wound_care"},
    "visit_addendum": {"visit_id": "v-1", "patient_id": PATIENT,
                       "text": "Dressing was changed on the left leg, not the right."},
    "falls_assessment": {"patient_id": PATIENT, "assessed_at": "2026-11-24T09:10:00+00:00",
                         "falls_last_12_months": 0, "feels_unsteady": False,
                         "worried_about_falling": False},
    "activation_score": {"patient_id": PATIENT, "assessed_at": "2026-11-24T09:10:00Z",
                         "score": 52.3},
    "goal": {"patient_id": PATIENT, "title": "Walk to the post box", "times_per_week": 3,
             "start_date": "2026-11-24"},
    "goal_log": {"goal_id": "g-1", "patient_id": PATIENT, "date": "2026-11-24",
                 "done": True},
    "self_report": {"patient_id": PATIENT, "kind": "fall",
                    "happened_at": "2026-11-24T07:45:00Z", "injured": False},
    "reminder": {"patient_id": PATIENT, "recipient_ids": [USER], "title": "Walk",
                 "time_of_day": "10:30", "days_of_week": [1, 3, 5],
                 "start_date": "2026-11-24"},
    "escalation": {"patient_id": PATIENT, "team_id": "team-north", "rule": "fall_reported",
                   "severity": "urgent", "reason": "Fall reported by the patient",
                   "source_entity": "self_report", "source_id": "s-1"},
}


def create(entity: str, trusted: bool | None = None, **overrides: Any) -> dict[str, Any]:
    fields = {**VALID[entity], **overrides}
    fields = {k: v for k, v in fields.items() if v is not ...}
    return records.validate_fields(entity, "create", None, fields, now=NOW, trusted=trusted)


def stored(entity: str, **overrides: Any) -> dict[str, Any]:
    """A record as the store holds it: created fields plus derived ones."""
    cleaned = create(entity, trusted=entity == "escalation", **overrides)
    return {**cleaned, **records.derive(entity, cleaned)}


def errors_of(entity: str, op: str, current: dict[str, Any] | None, fields: Any,
              **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ValidationFailed) as raised:
        records.validate_fields(entity, op, current, fields, now=NOW, **kwargs)
    errors = raised.value.errors
    for messages in errors.values():  # messages are lists of sentences for people
        assert messages and all(isinstance(m, str) and len(m) > 8 for m in messages)
    return errors


def test_every_spec_entity_has_a_schema_and_a_valid_example() -> None:
    assert set(SCHEMAS) == set(VALID)


@pytest.mark.parametrize("entity", sorted(VALID))
def test_valid_create_is_json_ready(entity: str) -> None:
    cleaned = create(entity, trusted=entity == "escalation")
    assert json.loads(json.dumps(cleaned)) == cleaned


ACCEPTED = [
    # (entity, overrides, expected subset of the cleaned record)
    ("patient", {}, {"nhs_number": "9434765919", "sex": "unknown",
                     "risk_profiling_opt_out": False, "sharing_objection": False}),
    ("patient", {"nhs_number": "943-476-5919"}, {"nhs_number": "9434765919"}),
    ("patient", {"given_name": "  Ada  "}, {"given_name": "Ada"}),
    ("patient", {"postcode": "ls14ap"}, {"postcode": "LS1 4AP"}),
    ("patient", {"postcode": "sw1a 1aa"}, {"postcode": "SW1A 1AA"}),
    ("patient", {"complexity_tier": "significant", "sex": "female"},
     {"complexity_tier": "significant", "sex": "female"}),
    ("patient", {"phone": "+44 (0)113 496 0000"}, {"phone": "+44 (0)113 496 0000"}),
    ("patient", {"date_of_birth": "2026-11-25"}, {"date_of_birth": "2026-11-25"}),
    ("patient", {"sex": None, "address": None}, {"sex": "unknown", "address": None}),
    ("carer_link", {}, {"active": True}),
    ("carer_link", {"consent_basis": "lasting_power_of_attorney"},
     {"consent_basis": "lasting_power_of_attorney"}),
    ("visit", {}, {"status": "scheduled", "interventions": [],
                   "scheduled_start": "2026-11-24T09:00:00.000000+00:00"}),
    ("visit", {"scheduled_start": "2026-11-24T10:00:00+01:00"},
     {"scheduled_start": "2026-11-24T09:00:00.000000+00:00"}),
    ("visit", {"scheduled_end": "2026-11-24T09:00:00Z"}, {}),  # end == start allowed
    ("visit", {"interventions": [" dressing ", "medication review"]},
     {"interventions": ["dressing", "medication review"]}),
    ("visit", {"status": "completed", "started_at": "2026-11-24T09:02:00Z",
               "ended_at": "2026-11-24T09:28:00Z", "signed_at": "2026-11-24T09:29:00Z"},
     {"status": "completed"}),
    ("visit", {"signed_at": None, "assigned_to": None}, {"signed_at": None}),
    ("falls_assessment", {}, {"entered_in_error": False,
                              "multifactorial": {"vision": "not_assessed"}}),
    ("falls_assessment", {"falls_last_12_months": 1, "fall_injury": True,
                          "unable_to_get_up": False, "lost_consciousness": False,
                          "frailty_cfs": 9, "tug_seconds": 15.1, "gait_speed_m_s": 0.79,
                          "short_fes_i": 28},
     {"tug_seconds": 15.1}),
    ("falls_assessment", {"multifactorial": {"vision": "referred",
                                             "home_hazards": "concern_action_taken"}},
     {"multifactorial": {"vision": "referred", "home_hazards": "concern_action_taken",
                         "continence": "not_assessed"}}),
    ("activation_score", {"score": 0}, {"score": 0}),
    ("activation_score", {"score": 100, "source_level": 4, "source": "PAM-13"},
     {"score": 100, "source_level": 4}),
    ("activation_score", {"score": 47.1}, {"score": 47.1}),
    ("goal", {}, {"status": "active"}),
    ("goal", {"times_per_week": 1, "review_date": "2026-11-24"}, {"times_per_week": 1}),
    ("goal", {"times_per_week": 21}, {"times_per_week": 21}),
    ("goal_log", {"done": False, "note": ""}, {"done": False, "note": ""}),
    ("self_report", {"kind": "carer_strain", "injured": None}, {"kind": "carer_strain"}),
    ("self_report", {"happened_at": "2030-01-01T00:00:00Z"}, {}),  # never lose a report
    ("reminder", {}, {"timezone": "Europe/London", "active": True, "body": ""}),
    ("reminder", {"days_of_week": [7, 1, 3]}, {"days_of_week": [1, 3, 7]}),
    ("reminder", {"title": "x" * 60, "body": "y" * 120, "time_of_day": "00:00"}, {}),
    ("reminder", {"time_of_day": "23:59", "timezone": "America/New_York",
                  "end_date": "2026-11-24"}, {"timezone": "America/New_York"}),
    ("reminder", {"recipient_ids": [USER, "carer-2"], "goal_id": "g-1"}, {"goal_id": "g-1"}),
]


@pytest.mark.parametrize(("entity", "overrides", "expected"), ACCEPTED)
def test_accepted(entity: str, overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    cleaned = create(entity, **overrides)
    for key, value in expected.items():
        if isinstance(value, dict):
            assert value.items() <= cleaned[key].items()
        else:
            assert cleaned[key] == value, key


REFUSED = [
    # (entity, overrides, field expected in errors); ... removes a field
    ("patient", {"nhs_number": ...}, "nhs_number"),
    ("patient", {"nhs_number": "9434765918"}, "nhs_number"),
    ("patient", {"nhs_number": "9990000000"}, "nhs_number"),  # check digit 10
    ("patient", {"nhs_number": 9434765919}, "nhs_number"),
    ("patient", {"given_name": "   "}, "given_name"),
    ("patient", {"family_name": "x" * 101}, "family_name"),
    ("patient", {"date_of_birth": "10/12/1938"}, "date_of_birth"),
    ("patient", {"date_of_birth": "1938-02-30"}, "date_of_birth"),
    ("patient", {"date_of_birth": "19381210"}, "date_of_birth"),
    ("patient", {"date_of_birth": "2026-11-26"}, "date_of_birth"),  # future
    ("patient", {"date_of_birth": "1870-01-01"}, "date_of_birth"),
    ("patient", {"sex": "f"}, "sex"),
    ("patient", {"complexity_tier": "high"}, "complexity_tier"),
    ("patient", {"sharing_objection": "yes"}, "sharing_objection"),
    ("patient", {"risk_profiling_opt_out": 1}, "risk_profiling_opt_out"),
    ("patient", {"postcode": "12345"}, "postcode"),
    ("patient", {"phone": "call me"}, "phone"),
    ("patient", {"team_id": ...}, "team_id"),
    ("patient", {"team_id": "../etc"}, "team_id"),
    ("patient", {"patient_id": PATIENT}, "patient_id"),
    ("patient", {"favourite_colour": "blue"}, "favourite_colour"),
    ("patient", {"id": PATIENT}, "id"),
    ("patient", {"version": 3}, "version"),
    ("patient", {"deleted": False}, "deleted"),
    ("patient", {"updated_at": "2026-11-24T09:00:00Z"}, "updated_at"),
    ("carer_link", {"consent_basis": "verbal"}, "consent_basis"),
    ("carer_link", {"relationship": ...}, "relationship"),
    ("carer_link", {"active": "true"}, "active"),
    ("visit", {"scheduled_end": "2026-11-24T08:59:59Z"}, "scheduled_end"),
    ("visit", {"scheduled_end": "2026-11-24T10:00:00+02:00"}, "scheduled_end"),
    ("visit", {"scheduled_start": "2026-11-24T09:00:00"}, "scheduled_start"),  # no offset
    ("visit", {"scheduled_start": "2026-11-24"}, "scheduled_start"),
    ("visit", {"scheduled_start": "tomorrow"}, "scheduled_start"),
    ("visit", {"scheduled_start": "0001-01-01T00:00:00+01:00"}, "scheduled_start"),
    ("visit", {"scheduled_end": "9999-12-31T23:59:00-01:00"}, "scheduled_end"),
    ("visit", {"scheduled_start": "2026-11-24T25:00:00Z"}, "scheduled_start"),
    ("goal", {"start_date": "0026-11-24"}, "start_date"),
    ("visit", {"visit_type": "social"}, "visit_type"),
    ("visit", {"status": "done"}, "status"),
    ("visit", {"started_at": "2026-11-24T09:10:00Z", "ended_at": "2026-11-24T09:00:00Z"},
     "ended_at"),
    ("visit", {"interventions": "dressing"}, "interventions"),
    ("visit", {"interventions": [""]}, "interventions"),
    ("visit", {"signed_at": "2026-11-24T09:29:00Z"}, "signed_at"),  # still scheduled
    ("visit", {"signed_by": USER}, "signed_by"),
    ("visit_addendum", {"text": ""}, "text"),
    ("visit_addendum", {"visit_id": ...}, "visit_id"),
    ("visit_addendum", {"entered_in_error": True}, "void_reason"),
    ("falls_assessment", {"falls_last_12_months": -1}, "falls_last_12_months"),
    ("falls_assessment", {"falls_last_12_months": 1.0}, "falls_last_12_months"),
    ("falls_assessment", {"falls_last_12_months": 1}, "fall_injury"),
    ("falls_assessment", {"fall_injury": True}, "fall_injury"),
    ("falls_assessment", {"feels_unsteady": ...}, "feels_unsteady"),
    ("falls_assessment", {"worried_about_falling": None}, "worried_about_falling"),
    ("falls_assessment", {"frailty_cfs": 0}, "frailty_cfs"),
    ("falls_assessment", {"frailty_cfs": 10}, "frailty_cfs"),
    ("falls_assessment", {"tug_seconds": "15"}, "tug_seconds"),
    ("falls_assessment", {"tug_seconds": 0}, "tug_seconds"),
    ("falls_assessment", {"gait_speed_m_s": 4}, "gait_speed_m_s"),
    ("falls_assessment", {"short_fes_i": 6}, "short_fes_i"),
    ("falls_assessment", {"short_fes_i": 29}, "short_fes_i"),
    ("falls_assessment", {"multifactorial": {"vision": "bad"}}, "multifactorial"),
    ("falls_assessment", {"multifactorial": {"hearing": "no_concern"}}, "multifactorial"),
    ("falls_assessment", {"risk_level": "low"}, "risk_level"),
    ("falls_assessment", {"reasons": []}, "reasons"),
    ("falls_assessment", {"recommended_actions": []}, "recommended_actions"),
    ("falls_assessment", {"fes_i_band": "low"}, "fes_i_band"),
    ("activation_score", {"score": 47.05}, "score"),
    ("activation_score", {"score": 100.1}, "score"),
    ("activation_score", {"score": -0.1}, "score"),
    ("activation_score", {"score": "52.3"}, "score"),
    ("activation_score", {"source_level": 5}, "source_level"),
    ("activation_score", {"level": 2}, "level"),
    ("activation_score", {"level_mismatch": False}, "level_mismatch"),
    ("goal", {"times_per_week": 0}, "times_per_week"),
    ("goal", {"times_per_week": 22}, "times_per_week"),
    ("goal", {"times_per_week": True}, "times_per_week"),
    ("goal", {"review_date": "2026-11-23"}, "review_date"),
    ("goal", {"status": "done"}, "status"),
    ("goal", {"title": ...}, "title"),
    ("goal_log", {"done": ...}, "done"),
    ("goal_log", {"done": "yes"}, "done"),
    ("self_report", {"kind": "broken_hip"}, "kind"),
    ("self_report", {"happened_at": ...}, "happened_at"),
    ("reminder", {"title": "x" * 61}, "title"),
    ("reminder", {"body": "y" * 121}, "body"),
    ("reminder", {"time_of_day": "9:30"}, "time_of_day"),
    ("reminder", {"time_of_day": "24:00"}, "time_of_day"),
    ("reminder", {"time_of_day": "10:30:00"}, "time_of_day"),
    ("reminder", {"days_of_week": []}, "days_of_week"),
    ("reminder", {"days_of_week": [0]}, "days_of_week"),
    ("reminder", {"days_of_week": [8]}, "days_of_week"),
    ("reminder", {"days_of_week": [1, 1]}, "days_of_week"),
    ("reminder", {"days_of_week": ["1"]}, "days_of_week"),
    ("reminder", {"timezone": "BST"}, "timezone"),
    ("reminder", {"timezone": "Europe/Londn"}, "timezone"),
    ("reminder", {"timezone": "../../etc/passwd"}, "timezone"),
    ("reminder", {"end_date": "2026-11-23"}, "end_date"),
    ("reminder", {"recipient_ids": []}, "recipient_ids"),
    ("reminder", {"recipient_ids": [USER, USER]}, "recipient_ids"),
]


@pytest.mark.parametrize(("entity", "overrides", "field"), REFUSED)
def test_refused(entity: str, overrides: dict[str, Any], field: str) -> None:
    fields = {k: v for k, v in {**VALID[entity], **overrides}.items() if v is not ...}
    assert field in errors_of(entity, "create", None, fields)


def test_messages_speak_to_the_nurse() -> None:
    errors = errors_of("visit", "create", None,
                       {**VALID["visit"], "scheduled_start": "2026-11-24T09:00:00"})
    assert "offset" in errors["scheduled_start"][0]
    errors = errors_of("patient", "create", None, {**VALID["patient"], "nhs_number": "123"})
    assert errors["nhs_number"] == ["An NHS number has 10 digits; this has 3."]


@pytest.mark.parametrize("fields", [None, [], "notes", 42])
def test_fields_must_be_an_object(fields: Any) -> None:
    assert "fields" in errors_of("goal", "create", None, fields)


def test_unknown_entity_and_op() -> None:
    assert "entity" in errors_of("prescription", "create", None, {})
    assert "op" in errors_of("goal", "upsert", None, {})


# --- updates: partial fields, checked on the merged record ----------------------------

UPDATE_REFUSED = [
    ("visit", {}, {"scheduled_end": "2026-11-24T08:00:00Z"}, "scheduled_end"),
    ("visit", {}, {"scheduled_start": "2026-11-24T10:00:00Z"}, "scheduled_end"),
    ("visit", {}, {"patient_id": "someone-else"}, "patient_id"),
    ("visit", {}, {"visit_type": None}, "visit_type"),
    ("visit", {}, {"signed_at": "2026-11-24T09:40:00Z"}, "signed_at"),
    ("goal", {"review_date": "2026-12-24"}, {"start_date": "2027-01-01"}, "review_date"),
    ("goal", {}, {"times_per_week": 22}, "times_per_week"),
    ("goal", {}, {"title": None}, "title"),
    ("reminder", {"end_date": "2026-12-01"}, {"start_date": "2026-12-02"}, "end_date"),
    ("reminder", {}, {"days_of_week": []}, "days_of_week"),
    ("reminder", {}, {"patient_id": "p-2"}, "patient_id"),
    ("carer_link", {}, {"carer_user_id": "someone-else"}, "carer_user_id"),
    ("patient", {}, {"nhs_number": "9434765918"}, "nhs_number"),
    ("patient", {}, {"date_of_birth": "2099-01-01"}, "date_of_birth"),
]


@pytest.mark.parametrize(("entity", "initial", "fields", "field"), UPDATE_REFUSED)
def test_update_refused(entity: str, initial: dict[str, Any], fields: dict[str, Any],
                        field: str) -> None:
    assert field in errors_of(entity, "update", stored(entity, **initial), fields)


UPDATE_ACCEPTED = [
    ("visit", {}, {"notes": "Leg ulcer improving."}),
    ("visit", {}, {"status": "completed", "signed_at": "2026-11-24T09:35:00Z"}),
    ("visit", {"status": "no_access"}, {"signed_at": "2026-11-24T09:35:00Z"}),
    ("visit", {}, {"scheduled_start": "2026-11-24T09:15:00Z"}),
    ("goal", {}, {"review_date": "2026-12-24", "status": "paused"}),
    ("reminder", {}, {"active": False, "end_date": "2026-11-24"}),
    ("patient", {}, {"team_id": "team-south", "phone": None}),
    ("patient", {}, {"nhs_number": "999 000 0018"}),
    ("carer_link", {}, {"active": False}),
]


@pytest.mark.parametrize(("entity", "initial", "fields"), UPDATE_ACCEPTED)
def test_update_accepted(entity: str, initial: dict[str, Any], fields: dict[str, Any]) -> None:
    cleaned = records.validate_fields(entity, "update", stored(entity, **initial), fields,
                                      now=NOW)
    assert set(cleaned) == set(fields)


def test_update_with_no_fields_is_a_no_op() -> None:
    assert records.validate_fields("goal", "update", stored("goal"), {}, now=NOW) == {}


# --- signing ------------------------------------------------------------------------

def signed_visit() -> dict[str, Any]:
    return {**stored("visit", status="completed", signed_at="2026-11-24T09:35:00Z"),
            "signed_by": USER}


def test_signing_records_the_actor_as_signer() -> None:
    cleaned = records.validate_fields(
        "visit", "update", stored("visit", status="completed"),
        {"signed_at": "2026-11-24T09:35:00Z"}, actor_id=USER, now=NOW)
    assert cleaned == {"signed_at": "2026-11-24T09:35:00.000000+00:00", "signed_by": USER}


@pytest.mark.parametrize("fields", [
    {"notes": "Forgot to mention the dressing."},
    {"status": "cancelled"},
    {"signed_at": None},
    {"signed_at": "2026-11-24T10:00:00Z"},
    {"interventions": ["extra"]},
])
def test_a_signed_visit_is_immutable(fields: dict[str, Any]) -> None:
    errors = errors_of("visit", "update", signed_visit(), fields)
    field = next(iter(fields))
    assert "addendum" in errors[field][0]


def test_a_signed_visit_refuses_even_invalid_changes_with_the_addendum_message() -> None:
    errors = errors_of("visit", "update", signed_visit(), {"status": "bogus"})
    assert "addendum" in errors["status"][0]


def test_resending_a_signed_visit_unchanged_is_harmless() -> None:
    current = signed_visit()
    fields = {"notes": current.get("notes"), "status": "completed",
              "signed_at": "2026-11-24T09:35:00Z"}
    fields = {k: v for k, v in fields.items() if v is not None}
    records.validate_fields("visit", "update", current, fields, now=NOW)


def test_a_signed_visit_cannot_be_deleted_but_an_unsigned_one_can() -> None:
    assert "deleted" in errors_of("visit", "delete", signed_visit(), {})
    assert records.validate_fields("visit", "delete", stored("visit"), {}, now=NOW) == {}


# --- append-only ----------------------------------------------------------------------

APPEND_ONLY_EDITS = [
    ("visit_addendum", {"text": "Changed my mind."}),
    ("falls_assessment", {"tug_seconds": 10}),
    ("falls_assessment", {"feels_unsteady": True}),
    ("activation_score", {"score": 60.0}),
    ("goal_log", {"done": False}),
    ("self_report", {"details": "Actually I tripped."}),
]


@pytest.mark.parametrize(("entity", "fields"), APPEND_ONLY_EDITS)
def test_append_only_records_cannot_be_edited(entity: str, fields: dict[str, Any]) -> None:
    errors = errors_of(entity, "update", stored(entity), fields)
    assert "entered in error" in errors[next(iter(fields))][0]


@pytest.mark.parametrize("entity", sorted(records.APPEND_ONLY))
def test_append_only_records_can_be_voided_once_with_a_reason(entity: str) -> None:
    current = stored(entity)
    void = {"entered_in_error": True, "void_reason": "Recorded against the wrong patient."}
    assert records.validate_fields(entity, "update", current, void, now=NOW) == void
    assert "void_reason" in errors_of(entity, "update", current, {"entered_in_error": True})
    assert "void_reason" in errors_of(entity, "update", current,
                                      {"entered_in_error": True, "void_reason": "  "})
    assert "entered_in_error" in errors_of(entity, "update", current,
                                           {"void_reason": "Wrong patient."})
    voided = {**current, **void}
    # a retry of the same void is not a change; a second, different one is refused
    assert records.validate_fields(entity, "update", voided, void, now=NOW) == void
    errors = errors_of(entity, "update", voided, {"void_reason": "Another reason."})
    assert "already" in errors["void_reason"][0]
    errors = errors_of(entity, "update", voided, {"entered_in_error": False})
    assert "already" in errors["entered_in_error"][0]


@pytest.mark.parametrize("entity", sorted(records.APPEND_ONLY))
def test_append_only_records_cannot_be_deleted(entity: str) -> None:
    assert "deleted" in errors_of(entity, "delete", stored(entity), {})


def test_voiding_keeps_the_original_answers_and_their_result() -> None:
    current = stored("falls_assessment", falls_last_12_months=2, fall_injury=False,
                     unable_to_get_up=False, lost_consciousness=False)
    cleaned = records.validate_fields("falls_assessment", "update", current,
                                      {"entered_in_error": True, "void_reason": "Duplicate"},
                                      now=NOW)
    merged = {**current, **cleaned}
    assert records.derive("falls_assessment", merged)["risk_level"] == "high"


# --- escalations ------------------------------------------------------------------------

def test_devices_cannot_create_escalations_but_the_server_can() -> None:
    assert "entity" in errors_of("escalation", "create", None, VALID["escalation"],
                                 trusted=False)
    cleaned = create("escalation", trusted=True)
    assert cleaned["status"] == "open" and cleaned["occurrences"] == 1


@pytest.mark.parametrize("fields", [
    {"severity": "routine"}, {"reason": "changed"}, {"acknowledged_by": USER},
    {"resolved_at": "2026-11-24T10:00:00Z"}, {"occurrences": 5},
])
def test_staff_change_only_escalation_status_fields(fields: dict[str, Any]) -> None:
    errors = errors_of("escalation", "update", stored("escalation"), fields, trusted=False)
    assert "status and resolution note" in errors[next(iter(fields))][0]


def test_without_trust_information_the_engine_enforces_who_writes_escalations() -> None:
    # The engine refuses device-made escalations itself (EntityType.server_only).
    assert create("escalation")["status"] == "open"


def test_acknowledge_then_resolve_stamps_who_and_when() -> None:
    current = stored("escalation")
    ack = records.validate_fields("escalation", "update", current,
                                  {"status": "acknowledged"}, actor_id=USER, now=NOW)
    assert ack == {"status": "acknowledged", "acknowledged_by": USER,
                   "acknowledged_at": "2026-11-24T09:00:00.000000+00:00"}
    current = {**current, **ack}
    assert "resolution_note" in errors_of("escalation", "update", current,
                                          {"status": "resolved"})
    done = records.validate_fields(
        "escalation", "update", current,
        {"status": "resolved", "resolution_note": "Phoned daughter; GP visit booked."},
        actor_id=USER, now=NOW)
    assert done["resolved_by"] == USER and "acknowledged_by" not in done
    current = {**current, **done}
    assert "status" in errors_of("escalation", "update", current, {"status": "open"})
    assert "deleted" in errors_of("escalation", "delete", current, {})


def test_the_server_may_update_its_own_escalation() -> None:
    cleaned = records.validate_fields("escalation", "update", stored("escalation"),
                                      {"occurrences": 2}, trusted=True, now=NOW)
    assert cleaned == {"occurrences": 2}


# --- NHS number uniqueness hook ------------------------------------------------------------

def test_nhs_number_uniqueness_is_asked_only_for_new_or_changed_numbers() -> None:
    asked: list[tuple[str, str | None]] = []

    def exists(number: str, exclude_id: str | None) -> bool:
        asked.append((number, exclude_id))
        return number == "9990000018"

    records.validate_fields("patient", "create", None, VALID["patient"], now=NOW,
                            nhs_number_exists=exists)
    assert asked == [("9434765919", None)]
    current = {**stored("patient"), "id": PATIENT}
    records.validate_fields("patient", "update", current, {"nhs_number": "943 476 5919",
                                                           "given_name": "Ada"},
                            now=NOW, nhs_number_exists=exists)
    assert len(asked) == 1  # unchanged number: not asked
    errors = errors_of("patient", "update", current, {"nhs_number": "999-000-0018"},
                       nhs_number_exists=exists)
    assert "already registered" in errors["nhs_number"][0]
    assert asked[-1] == ("9990000018", PATIENT)


# --- derive -------------------------------------------------------------------------------

def test_derive_falls_assessment() -> None:
    merged = create("falls_assessment", falls_last_12_months=1, fall_injury=False,
                    unable_to_get_up=False, lost_consciousness=False, feels_unsteady=True,
                    tug_seconds=15.1, frailty_cfs=4, short_fes_i=9)
    derived = records.derive("falls_assessment", merged)
    assert derived["risk_level"] == "intermediate"
    assert [r["code"] for r in derived["reasons"]] == [
        "fall_in_last_12_months", "feels_unsteady", "tug_slow"]
    assert derived["recommended_actions"][0]["code"] == "strength_balance_exercise"
    assert derived["fes_i_band"] == "moderate"
    assert derived["rules_version"] == "wfg2022-1"
    assert json.loads(json.dumps(derived)) == derived


def test_derive_uses_configured_thresholds_and_says_so() -> None:
    merged = create("falls_assessment", feels_unsteady=True, tug_seconds=13)
    assert records.derive("falls_assessment", merged)["risk_level"] == "low"
    local = records.derive("falls_assessment", merged,
                           falls_thresholds={"tug_impaired_above_s": 12})
    assert local["risk_level"] == "intermediate"
    assert local["rules_version"] == "wfg2022-1+local"


def test_derive_without_fes_i() -> None:
    derived = records.derive("falls_assessment", create("falls_assessment"))
    assert derived["fes_i_band"] is None and derived["risk_level"] == "low"


@pytest.mark.parametrize(("score", "source", "expected"), [
    (47.0, None, {"level": 1, "level_mismatch": False}),
    (47.1, 1, {"level": 2, "level_mismatch": True}),
    (67.1, 4, {"level": 4, "level_mismatch": False}),
])
def test_derive_activation(score: float, source: int | None,
                           expected: dict[str, Any]) -> None:
    merged = create("activation_score", score=score, source_level=source)
    assert records.derive("activation_score", merged) == expected


def test_derive_refuses_an_incomplete_stored_record_instead_of_crashing() -> None:
    with pytest.raises(ValidationFailed):
        records.derive("falls_assessment", {"falls_last_12_months": 1})
    with pytest.raises(ValidationFailed):
        records.derive("activation_score", {})
    assert records.derive("goal", stored("goal")) == {}


# --- registry adapters -----------------------------------------------------------------------

def test_registry_adapters_wire_actor_clock_and_trust() -> None:
    validate = records.validator_for("visit", clock=lambda: NOW)
    nurse = Actor(user_id=USER, role="nurse", client_id="c-1")
    cleaned = validate(nurse, "update", stored("visit", status="completed"),
                       {"signed_at": "2026-11-24T09:35:00Z"})
    assert cleaned["signed_by"] == USER
    system = Actor(user_id="system", role="system", client_id="server")
    escalate = records.validator_for("escalation", clock=lambda: NOW)
    assert escalate(system, "create", None, VALID["escalation"])["status"] == "open"
    with pytest.raises(ValidationFailed):
        escalate(nurse, "create", None, VALID["escalation"])
    derive = records.deriver_for("activation_score")
    assert derive({"score": 55.2})["level"] == 3


# --- bad input never crashes (SPEC §7: bad input never answers 500) ----------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
    | st.sampled_from(["2026-11-24", "2026-11-24T09:00:00Z", "0001-01-01T00:00:00+14:00",
                       "9434765919", "Europe/London", "10:30", "completed", "resolved"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=8,
)


@pytest.mark.parametrize("entity", sorted(VALID))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_json_is_either_cleaned_or_refused_with_field_errors(entity: str,
                                                                  data: st.DataObject) -> None:
    names = sorted(SCHEMAS[entity]().fields) + ["id", "risk_level", "level", "unknown"]
    fields = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=6))
    base = data.draw(st.sampled_from([None, "valid"]))
    current = stored(entity) if base else None
    op = data.draw(st.sampled_from(["create", "update", "delete"]))
    try:
        cleaned = records.validate_fields(entity, op, current, fields, now=NOW)
    except ValidationFailed as exc:
        assert exc.errors and all(isinstance(v, list) for v in exc.errors.values())
    else:
        assert json.loads(json.dumps(cleaned)) == cleaned
