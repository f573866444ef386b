"""Conflicts (SPEC §3.4): list them, and resolve one by choosing or editing a value."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import database
from server.http.errors import fail, not_found
from server.http.reads import list_entity, page_query
from server.records import engine as records
from server.records.schemas.wire import RecordPageSchema, RecordSchema
from server.services import audit, auth
from storage import UnitOfWork
from sync import MISSING, NotPermitted, SyncError, ValidationFailed, get_record, resolve_conflict

blp = Blueprint("conflicts", __name__, url_prefix="/api/v1", description="Conflicts")


class ResolveSchema(Schema):
    resolution = fields.String(
        required=True, validate=validate.OneOf(["kept_server", "took_client", "custom"]))
    value = fields.Raw(allow_none=True)


class ConflictQuerySchema(page_query()):  # type: ignore[misc]
    status = fields.String(validate=validate.OneOf(["open", "resolved"]))
    patient_id = fields.String()
    # One record's conflicts: a device shows what its conflicting push did at once.
    record_id = fields.String()


@blp.route("/conflicts")
class Conflicts(MethodView):
    @blp.arguments(ConflictQuerySchema, location="query")
    @blp.response(200, RecordPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Conflicts you may see: your own, or your teams' if you coordinate"""
        return list_entity("conflict", query, filters=("status", "record_id"))


@blp.route("/conflicts/<conflict_id>/resolve")
class ConflictResolve(MethodView):
    @blp.arguments(ResolveSchema)
    @blp.response(200, RecordSchema)
    def post(self, body: dict[str, Any], conflict_id: str) -> dict[str, Any]:
        """Resolve a conflict: keep the server value, take the device's, or set another"""
        actor = auth.current_actor()
        value = body.get("value", MISSING) if body["resolution"] == "custom" else MISSING
        try:
            with database.write() as uow:
                resolve_conflict(uow.store, records.registry(), actor, conflict_id,
                                 body["resolution"], value)
        except NotPermitted:
            not_found("Conflict")
        except ValidationFailed as exc:
            fail(422, "The chosen value is not valid.", exc.errors)
        except SyncError as exc:
            fail(exc.http_status, exc.message, exc.errors)
        with database.read() as uow:
            change = get_record(uow.store, records.registry(), actor, "conflict", conflict_id)
        assert change is not None
        return change.to_wire()


def _who(uow: UnitOfWork, user_id: str | None, client_id: str | None) -> dict[str, Any]:
    names = uow.records
    return {"user_id": user_id, "name": names.user_display_name(user_id) if user_id else None,
            "client_id": client_id,
            "device": names.device_name(client_id) if client_id else None}


@blp.route("/conflicts/<conflict_id>/changes")
class ConflictChanges(MethodView):
    @blp.response(200)
    def get(self, conflict_id: str) -> dict[str, Any]:
        """Who made each of the two changes, when and on which device (names resolved here:
        the synced conflict record carries only ids)"""
        actor = auth.current_actor()
        with database.write() as uow:
            change = get_record(uow.store, records.registry(), actor, "conflict", conflict_id)
            if change is None or change.deleted:
                not_found("Conflict")
            data = change.data
            server_change = uow.records.version_made(
                str(data.get("entity")), str(data.get("record_id")), data.get("server_version"))
            offline = _who(uow, data.get("client_author_id"), data.get("client_id"))
            offline["at"] = data.get("created_at")  # when the offline change reached the server
            server = _who(uow, server_change.author_id if server_change
                          else data.get("server_author_id"),
                          server_change.client_id if server_change else None)
            server["at"] = server_change.at if server_change else None
            audit.record(uow, actor, "read_conflict_changes", entity="conflict",
                         record_id=conflict_id, patient_id=data.get("patient_id"))
        return {"offline": offline, "server": server}
