"""Conflicts (SPEC §3.4): list them, and resolve one by choosing or editing a value."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import audit, auth, records
from server.api.reads import list_entity, page_query
from server.db import write_transaction
from server.errors import fail, not_found
from server.schemas.wire import RecordPageSchema, RecordSchema
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
        store = records.store()
        value = body.get("value", MISSING) if body["resolution"] == "custom" else MISSING
        try:
            with write_transaction(store.conn):
                resolve_conflict(store, records.registry(), actor, conflict_id,
                                 body["resolution"], value)
        except NotPermitted:
            not_found("Conflict")
        except ValidationFailed as exc:
            fail(422, "The chosen value is not valid.", exc.errors)
        except SyncError as exc:
            fail(exc.http_status, exc.message, exc.errors)
        change = get_record(store, records.registry(), actor, "conflict", conflict_id)
        assert change is not None
        return change.to_wire()


def _who(conn: Any, user_id: str | None, client_id: str | None) -> dict[str, Any]:
    user = conn.execute("SELECT display_name FROM users WHERE id = ?", (user_id,)).fetchone()
    device = conn.execute("SELECT name FROM devices WHERE client_id = ?",
                          (client_id,)).fetchone()
    return {"user_id": user_id, "name": user[0] if user else None,
            "client_id": client_id, "device": device[0] if device else None}


@blp.route("/conflicts/<conflict_id>/changes")
class ConflictChanges(MethodView):
    @blp.response(200)
    def get(self, conflict_id: str) -> dict[str, Any]:
        """Who made each of the two changes, when and on which device (names resolved here:
        the synced conflict record carries only ids)"""
        actor = auth.current_actor()
        store = records.store()
        change = get_record(store, records.registry(), actor, "conflict", conflict_id)
        if change is None or change.deleted:
            not_found("Conflict")
        data = change.data
        conn = store.conn
        server_change = conn.execute(
            "SELECT author_id, client_id, at FROM changelog WHERE entity = ? AND id = ?"
            " AND version = ?", (data.get("entity"), data.get("record_id"),
                                 data.get("server_version"))).fetchone()
        offline = _who(conn, data.get("client_author_id"), data.get("client_id"))
        offline["at"] = data.get("created_at")  # when the offline change reached the server
        server = _who(conn, server_change[0] if server_change else data.get("server_author_id"),
                      server_change[1] if server_change else None)
        server["at"] = server_change[2] if server_change else None
        with write_transaction(conn):
            audit.record(conn, actor, "read_conflict_changes", entity="conflict",
                         record_id=conflict_id, patient_id=data.get("patient_id"))
        return {"offline": offline, "server": server}
