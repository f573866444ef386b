"""The audit log: who read or changed which patient's data, and when."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import database
from server.http.errors import fail, not_found
from server.records import access
from server.records.schemas.accounts import AuditEntrySchema, AuditQuerySchema
from server.services import audit, auth

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit log")


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Audit entries, newest first (admins: all; coordinators: one patient of theirs)"""
        actor = auth.require_role("admin", "coordinator")
        with database.read() as uow:
            if actor.role == "coordinator":
                patient_id = query.get("patient_id")
                if not patient_id:
                    fail(422, "Give a patient_id.",
                         {"patient_id": ["Required for coordinators."]})
                if not access.can_see_patient(uow, actor, patient_id):
                    not_found("Patient")
            rows = audit.entries(uow, **query)
        if query.get("patient_id"):
            # Looking at who saw a patient's record is itself a read of that record.
            with database.write() as uow:
                audit.record(uow, actor, "read_audit", patient_id=query["patient_id"])
        return rows
