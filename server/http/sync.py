"""The sync wire protocol (SPEC §3.2–§3.3): push a batch of mutations, pull changes."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import database
from server.http.errors import fail
from server.records import engine as records
from server.records.schemas.wire import (
    PullResponseSchema,
    PushRequestSchema,
    PushResponseSchema,
    json_content,
    ok_response,
)
from server.services import audit, auth
from sync import QuarantineCap, SyncError, apply_push, pull

blp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Sync")


class PullQuerySchema(Schema):
    client_id = fields.String(required=True)
    cursor = fields.String()
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=1000))


def quarantine_cap() -> QuarantineCap:
    config = current_app.config
    return QuarantineCap(max_entries=config["QUARANTINE_MAX_ENTRIES_PER_USER_DAY"],
                         max_bytes=config["QUARANTINE_MAX_BYTES_PER_USER_DAY"])


@blp.route("/push")
class Push(MethodView):
    # The engine reads the raw body and makes the answer (to_wire): documented, not
    # (de)serialised here.
    @blp.doc(requestBody={"required": True, "content": json_content(PushRequestSchema)},
             responses=ok_response(PushResponseSchema))
    @blp.response(200)
    def post(self) -> dict[str, Any]:
        """Send a batch of mutations (see docs/sync-protocol.md)"""
        actor = auth.current_actor()
        try:
            # Raw bytes: the engine checks size and keeps malformed batches in quarantine.
            response = apply_push(database.sync_store(), records.registry(), actor,
                                  request.get_data(), cap=quarantine_cap())
        except SyncError as exc:
            fail(exc.http_status, exc.message, exc.errors)
        return response.to_wire()


@blp.route("/pull")
class Pull(MethodView):
    # An instance: webargs would build a schema from the class on every request.
    @blp.arguments(PullQuerySchema(), location="query")
    # Documented, not dumped again: a pull carries up to 1000 records.
    @blp.doc(responses=ok_response(PullResponseSchema))
    @blp.response(200)
    def get(self, query: dict[str, Any]) -> Response:
        """Changes since a cursor, or a snapshot of your scope without one"""
        actor = auth.current_actor()
        store = database.sync_store()
        try:
            # The engine runs the pull in its own transaction; the audit rows are a write
            # of their own afterwards (an empty pull writes nothing).
            response = pull(store, records.registry(), actor, cursor=query.get("cursor"),
                            limit=query["limit"], client_id=query["client_id"])
        except SyncError as exc:
            fail(exc.http_status, exc.message, exc.errors)
        if response.patient_ids:
            audit.record_pull_reads(actor, response.patient_ids, records=len(response.changes))
        # The body is spliced from each record's stored view (the JSON to_wire() would
        # give, without decoding and re-encoding every record).
        return current_app.response_class(response.wire_text(), mimetype="application/json")
