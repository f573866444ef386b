"""The audit log: who read or changed which patient's data, and when."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import access, audit, auth
from server.db import get_db, write_transaction
from server.errors import fail, not_found
from server.schemas.accounts import AuditEntrySchema, AuditQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit log")


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Audit entries, newest first (admins: all; coordinators: one patient of theirs)"""
        actor = auth.require_role("admin", "coordinator")
        conn = get_db()
        if actor.role == "coordinator":
            patient_id = query.get("patient_id")
            if not patient_id:
                fail(422, "Give a patient_id.", {"patient_id": ["Required for coordinators."]})
            if not access.can_see_patient(conn, actor, patient_id):
                not_found("Patient")
        rows = audit.entries(conn, **query)
        if query.get("patient_id"):
            # Looking at who saw a patient's record is itself a read of that record.
            with write_transaction(conn):
                audit.record(conn, actor, "read_audit", patient_id=query["patient_id"])
        return rows
