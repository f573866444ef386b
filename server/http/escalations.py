"""Escalations (SPEC §5, §3.5): the coordinator's inbox, acknowledge and resolve.

Acknowledge and resolve are ordinary changes to the escalation record through the one
apply path (``apply_mutation`` as the caller), so the registry's rules hold here as in
a sync push: only the team's coordinators may change an escalation; anyone else, or a
record outside their scope, gets 404. Reads are scoped, redacted and audited.

The notices a request's changes queue are sent after its unit of work commits and its
response is out (``server/notifications/prompt.py``), whichever view made them.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import database
from server.escalation import rules as escalation
from server.http.errors import fail, not_found
from server.http.reads import audit_reads, list_entity, page_query
from server.records import engine as records
from server.records.schemas.wire import RecordPageSchema, RecordSchema
from server.services import auth
from sync import Mutation, NotPermitted, ValidationFailed, apply_mutation, get_record

blp = Blueprint("escalations", __name__, url_prefix="/api/v1", description="Escalations")


class EscalationQuerySchema(page_query()):  # type: ignore[misc]
    status = fields.String(validate=validate.OneOf(["open", "acknowledged", "resolved"]))
    severity = fields.String(validate=validate.OneOf(list(escalation.SEVERITIES)))
    rule = fields.String(validate=validate.OneOf(escalation.RULES))
    patient_id = fields.String()
    team_id = fields.String()
    team = fields.String(metadata={"description": "Same as team_id."})


class EscalationResolveSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000))


def _escalation(escalation_id: str) -> dict[str, Any]:
    actor = auth.current_actor()
    with database.read() as uow:
        found = get_record(uow.store, records.registry(), actor, "escalation", escalation_id)
    if found is None:
        not_found("Escalation")
    return found.to_wire()


def _change_status(escalation_id: str, fields_: dict[str, Any]) -> dict[str, Any]:
    """Apply a status change as the caller, then answer the record as they see it."""
    actor = auth.current_actor()
    try:
        with database.write() as uow:
            apply_mutation(uow.store, records.registry(), actor,
                           Mutation("escalation", escalation_id, "update", fields_,
                                    base_version=None))
    except NotPermitted:
        not_found("Escalation")
    except ValidationFailed as exc:
        fail(422, "The escalation cannot change like that.", exc.errors)
    return _escalation(escalation_id)


@blp.route("/escalations")
class Escalations(MethodView):
    @blp.arguments(EscalationQuerySchema, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Escalations of your teams' patients, filtered and paged by id"""
        if "team" in query:
            query.setdefault("team_id", query.pop("team"))
        patient_ids = [query["patient_id"]] if "patient_id" in query else None
        return list_entity("escalation", query, filters=("status", "severity", "rule",
                                                         "team_id"), patient_ids=patient_ids)


@blp.route("/escalations/<escalation_id>")
class EscalationById(MethodView):
    @blp.response(200, RecordSchema)
    def get(self, escalation_id: str) -> dict[str, Any]:
        """One escalation (what a notification opens)"""
        found = _escalation(escalation_id)
        audit_reads([found["data"]["patient_id"]], via="rest:escalation")
        return found


@blp.route("/escalations/<escalation_id>/acknowledge")
class EscalationAcknowledge(MethodView):
    @blp.response(200, RecordSchema)
    def post(self, escalation_id: str) -> dict[str, Any]:
        """Acknowledge an escalation: you are dealing with it (stops re-notification)"""
        return _change_status(escalation_id, {"status": "acknowledged"})


@blp.route("/escalations/<escalation_id>/resolve")
class EscalationResolve(MethodView):
    @blp.arguments(EscalationResolveSchema)
    @blp.response(200, RecordSchema)
    def post(self, body: dict[str, Any], escalation_id: str) -> dict[str, Any]:
        """Resolve an escalation, saying what was done"""
        return _change_status(escalation_id, {"status": "resolved",
                                              "resolution_note": body["note"]})
