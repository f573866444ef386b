"""One marshmallow schema per synced entity (SPEC §2): the fields a device may send.

Invariants:
- ``required=True`` marks what a create must carry; updates load with ``partial=True``
  and ``server/records/schemas/records.py`` then checks the merged record;
- optional fields accept ``null`` to clear them; required ones never do;
- server-computed fields (falls ``risk_level``…, activation ``level``…, ``signed_by``,
  escalation stamps) are NOT in these schemas: ``records.py`` refuses them by name with
  a clear message, and ``records.derive`` / ``records.server_stamps`` fill them;
- numeric ranges of clinical answers come from ``instruments/*.json`` (one copy shared
  with the PWA); unknown fields are refused (marshmallow's default ``RAISE``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema

from server.clinical import instruments
from server.records.schemas import record_fields as f

SEX = ("female", "male", "other", "unknown")
COMPLEXITY_TIERS = ("well", "moderate", "significant")
CONSENT_BASES = ("patient_consent", "lasting_power_of_attorney", "best_interests")
VISIT_TYPES = ("assessment", "wound_care", "medication", "continence", "review",
               "palliative", "other")
VISIT_STATUSES = ("scheduled", "in_progress", "completed", "no_access", "cancelled")
GOAL_STATUSES = ("active", "achieved", "paused", "stopped")
SELF_REPORT_KINDS = ("fall", "unwell", "carer_strain", "other")
SEVERITIES = ("routine", "urgent", "emergency")
ESCALATION_STATUSES = ("open", "acknowledged", "resolved")


class RecordSchema(Schema):
    """Base: unknown fields are refused with a message naming the problem."""

    error_messages = {
        "unknown": "Doorstep does not have this field for this kind of record.",
        "type": "Send the record's fields as a JSON object.",
    }


def optional(field: type[f.RecordField], *args: Any, **kwargs: Any) -> f.RecordField:
    return field(*args, allow_none=True, **kwargs)


def required(field: type[f.RecordField], *args: Any, **kwargs: Any) -> f.RecordField:
    return field(*args, required=True, **kwargs)


def _answer_range(name: str) -> dict[str, Any]:
    spec = instruments.load("falls")["answers"][name]
    return {"minimum": spec["min"], "maximum": spec["max"]}


class VoidableSchema(RecordSchema):
    """Append-only records: created once, then only voided once (entered in error)."""

    entered_in_error = f.Boolean()
    void_reason = optional(f.Text, max_length=500)


class PatientSchema(RecordSchema):
    nhs_number = required(f.NhsNumber)
    given_name = required(f.Text, max_length=100)
    family_name = required(f.Text, max_length=100)
    date_of_birth = required(f.Date)
    sex = f.Choice(SEX)
    address = optional(f.Text, max_length=500, blank=True)
    postcode = optional(f.Postcode)
    phone = optional(f.Phone)
    team_id = required(f.Identifier)
    gp_practice = optional(f.Text, max_length=100, blank=True)
    named_gp = optional(f.Text, max_length=100, blank=True)
    care_coordinator_id = optional(f.Identifier)
    complexity_tier = optional(f.Choice, COMPLEXITY_TIERS)
    risk_profiling_opt_out = f.Boolean()
    sharing_objection = f.Boolean()
    access_notes = optional(f.Text, max_length=2000, blank=True)


class CarerLinkSchema(RecordSchema):
    patient_id = required(f.Identifier)
    carer_user_id = required(f.Identifier)
    relationship = required(f.Text, max_length=60)
    consent_basis = required(f.Choice, CONSENT_BASES)
    active = f.Boolean()


class VisitSchema(RecordSchema):
    patient_id = required(f.Identifier)
    assigned_to = optional(f.Identifier)
    scheduled_start = required(f.DateTime)
    scheduled_end = required(f.DateTime)
    visit_type = required(f.Choice, VISIT_TYPES)
    status = f.Choice(VISIT_STATUSES)
    started_at = optional(f.DateTime)
    ended_at = optional(f.DateTime)
    notes = optional(f.Text, max_length=20000, blank=True)
    interventions = f.TextList(max_items=50, max_length=200)
    # The device sets signed_at when the nurse signs; the server records signed_by.
    signed_at = optional(f.DateTime)


class VisitAddendumSchema(VoidableSchema):
    visit_id = required(f.Identifier)
    patient_id = required(f.Identifier)
    text = required(f.Text, max_length=5000)


class FallsAssessmentSchema(VoidableSchema):
    patient_id = required(f.Identifier)
    visit_id = optional(f.Identifier)
    assessed_at = required(f.DateTime)
    falls_last_12_months = required(f.Integer, **_answer_range("falls_last_12_months"))
    fall_injury = optional(f.Boolean)
    unable_to_get_up = optional(f.Boolean)
    lost_consciousness = optional(f.Boolean)
    feels_unsteady = required(f.Boolean)
    worried_about_falling = required(f.Boolean)
    frailty_cfs = optional(f.Integer, **_answer_range("frailty_cfs"))
    tug_seconds = optional(f.Number, **_answer_range("tug_seconds"))
    gait_speed_m_s = optional(f.Number, **_answer_range("gait_speed_m_s"))
    short_fes_i = optional(f.Integer,
                           minimum=instruments.load("short_fes_i")["score"]["min"],
                           maximum=instruments.load("short_fes_i")["score"]["max"])
    multifactorial = f.ChoiceMap(instruments.load("falls")["multifactorial"]["domains"],
                                 instruments.load("falls")["multifactorial"]["values"],
                                 fallback="not_assessed")


class ActivationScoreSchema(VoidableSchema):
    patient_id = required(f.Identifier)
    assessed_at = required(f.DateTime)
    score = required(f.Number, minimum=0, maximum=100)
    source_level = optional(f.Integer, minimum=1, maximum=4)
    source = optional(f.Text, max_length=100, blank=True)


class GoalSchema(RecordSchema):
    patient_id = required(f.Identifier)
    title = required(f.Text, max_length=100)
    description = optional(f.Text, max_length=1000, blank=True)
    times_per_week = required(f.Integer, minimum=1, maximum=21)
    start_date = required(f.Date)
    review_date = optional(f.Date)
    status = f.Choice(GOAL_STATUSES)


class GoalLogSchema(VoidableSchema):
    goal_id = required(f.Identifier)
    patient_id = required(f.Identifier)
    date = required(f.Date)
    done = required(f.Boolean)
    note = optional(f.Text, max_length=500, blank=True)


class SelfReportSchema(VoidableSchema):
    patient_id = required(f.Identifier)
    kind = required(f.Choice, SELF_REPORT_KINDS)
    happened_at = required(f.DateTime)
    injured = optional(f.Boolean)
    unable_to_get_up = optional(f.Boolean)
    details = optional(f.Text, max_length=2000, blank=True)


class ReminderSchema(RecordSchema):
    patient_id = required(f.Identifier)
    goal_id = optional(f.Identifier)
    recipient_ids = required(f.IdentifierList, max_items=10)
    title = required(f.Text, max_length=60)
    body = f.Text(max_length=120, blank=True)
    time_of_day = required(f.TimeOfDay)
    days_of_week = required(f.DaysOfWeek)
    timezone = f.Timezone()
    start_date = required(f.Date)
    end_date = optional(f.Date)
    active = f.Boolean()


class EscalationSchema(RecordSchema):
    """Made by the server; devices may change only ``status`` and ``resolution_note``."""

    patient_id = required(f.Identifier)
    team_id = required(f.Identifier)
    rule = required(f.Text, max_length=60)
    severity = required(f.Choice, SEVERITIES)
    reason = required(f.Text, max_length=500)
    source_entity = optional(f.Text, max_length=40)
    source_id = optional(f.Identifier)
    status = f.Choice(ESCALATION_STATUSES)
    occurrences = f.Integer(minimum=1, maximum=1_000_000)
    acknowledged_by = optional(f.Identifier)
    acknowledged_at = optional(f.DateTime)
    resolved_by = optional(f.Identifier)
    resolved_at = optional(f.DateTime)
    resolution_note = optional(f.Text, max_length=1000, blank=True)
    raised_at = optional(f.DateTime)  # first raised (occurrences add to it)
    notified_at = optional(f.DateTime)  # last notice delivered to someone


SCHEMAS: dict[str, type[RecordSchema]] = {
    "patient": PatientSchema,
    "carer_link": CarerLinkSchema,
    "visit": VisitSchema,
    "visit_addendum": VisitAddendumSchema,
    "falls_assessment": FallsAssessmentSchema,
    "activation_score": ActivationScoreSchema,
    "goal": GoalSchema,
    "goal_log": GoalLogSchema,
    "self_report": SelfReportSchema,
    "reminder": ReminderSchema,
    "escalation": EscalationSchema,
}
