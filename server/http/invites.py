"""Invite codes for patients and carers, made by staff who can see the patient."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import database
from server.http.errors import fail, not_found
from server.records import access
from server.records.schemas.accounts import InviteRequestSchema, InviteSchema
from server.services import auth, enrolment

blp = Blueprint("invites", __name__, url_prefix="/api/v1", description="Enrolment invites")


@blp.route("/patients/<patient_id>/invites")
class PatientInvites(MethodView):
    @blp.arguments(InviteRequestSchema)
    @blp.response(201, InviteSchema)
    def post(self, body: dict[str, Any], patient_id: str) -> dict[str, str]:
        """Make a one-time enrolment code for the patient or one of their carers"""
        actor = auth.current_actor()
        if actor.role not in access.STAFF:
            not_found("Patient")
        with database.write() as uow:
            if not access.can_see_patient(uow, actor, patient_id):
                not_found("Patient")
            try:
                return enrolment.create_invite(uow, actor, patient_id, **body)
            except enrolment.EnrolmentError as exc:
                fail(exc.code, str(exc), exc.errors)
