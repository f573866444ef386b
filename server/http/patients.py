"""Read-only patient resources for integrators and reports (SPEC §3.5).

Writes go through sync (or the few REST actions that exist); every read here is scoped,
redacted for the caller's role and audited once per patient returned.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from server import database
from server.http.errors import not_found
from server.http.reads import all_of_patient, audit_reads, list_entity, page_query
from server.records import engine as records
from server.records.schemas.wire import RecordPageSchema, RecordSchema, TimelineSchema
from server.services import auth
from sync import get_record

blp = Blueprint("patients", __name__, url_prefix="/api/v1", description="Patient records")

# URL segment -> (entity, equality filters allowed on it).
SUB_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "visits": ("visit", ("status", "visit_type", "assigned_to")),
    "visit-addenda": ("visit_addendum", ("visit_id",)),
    "falls-assessments": ("falls_assessment", ("risk_level",)),
    "activation-scores": ("activation_score", ("level",)),
    "goals": ("goal", ("status",)),
    "goal-logs": ("goal_log", ("goal_id",)),
    "self-reports": ("self_report", ("kind",)),
    "reminders": ("reminder", ("goal_id",)),
    "carer-links": ("carer_link", ("active",)),
    "escalations": ("escalation", ("status", "rule", "severity")),
}

# When each entity's event happened, for the timeline.
TIMELINE_TIME = {
    "visit": ("started_at", "scheduled_start"),
    "visit_addendum": ("updated_at",),
    "falls_assessment": ("assessed_at",),
    "activation_score": ("assessed_at",),
    "goal_log": ("date",),
    "self_report": ("happened_at",),
}


class PatientQuerySchema(page_query()):  # type: ignore[misc]
    team_id = fields.String()
    complexity_tier = fields.String(validate=validate.OneOf(["well", "moderate", "significant"]))
    care_coordinator_id = fields.String()


class SubQuerySchema(page_query()):  # type: ignore[misc]
    status = fields.String()
    visit_type = fields.String()
    assigned_to = fields.String()
    visit_id = fields.String()
    risk_level = fields.String()
    level = fields.Integer(validate=validate.Range(min=1, max=4))  # PAM levels
    goal_id = fields.String()
    kind = fields.String()
    active = fields.Boolean()
    rule = fields.String()
    severity = fields.String()


def _visible_patient(patient_id: str) -> dict[str, Any]:
    with database.read() as uow:
        found = get_record(uow.store, records.registry(), auth.current_actor(), "patient",
                           patient_id)
    if found is None:
        not_found("Patient")
    return found.to_wire()


@blp.route("/patients")
class Patients(MethodView):
    @blp.arguments(PatientQuerySchema, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Patients you may see, paged by id"""
        return list_entity("patient", query,
                           filters=("team_id", "complexity_tier", "care_coordinator_id"))


@blp.route("/patients/<patient_id>")
class PatientById(MethodView):
    @blp.response(200, RecordSchema)
    def get(self, patient_id: str) -> dict[str, Any]:
        """One patient's record"""
        patient = _visible_patient(patient_id)
        audit_reads([patient_id], via="rest:patient")
        return patient


@blp.route("/patients/<patient_id>/<any("
           + ",".join(repr(name) for name in SUB_RESOURCES) + "):resource>")
class PatientRecords(MethodView):
    @blp.arguments(SubQuerySchema, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, query: dict[str, Any], patient_id: str, resource: str) -> dict[str, Any]:
        """One patient's visits, assessments, scores, goals, logs, reports or escalations"""
        _visible_patient(patient_id)
        entity, filters = SUB_RESOURCES[resource]
        return list_entity(entity, query, filters=filters, patient_ids=[patient_id])


@blp.route("/patients/<patient_id>/timeline")
class PatientTimeline(MethodView):
    @blp.response(200, TimelineSchema)
    def get(self, patient_id: str) -> dict[str, Any]:
        """Visits, addenda, assessments, scores, goal logs and self reports in time order"""
        _visible_patient(patient_id)
        events = []
        for entity, time_fields in TIMELINE_TIME.items():
            for item in all_of_patient(entity, patient_id):
                data = item["data"]
                at = next((data.get(f) or item.get(f) for f in time_fields
                           if data.get(f) or item.get(f)), None)
                events.append({"at": at, **item})
        events.sort(key=lambda event: (event["at"] or "", event["id"]), reverse=True)
        audit_reads([patient_id], via="rest:timeline")
        return {"patient_id": patient_id, "events": events}
