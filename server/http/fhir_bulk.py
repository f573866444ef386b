"""FHIR Bulk Data export (SPEC §10): kick-off, status, NDJSON files, cancel.

``GET /api/v1/fhir/$export`` (all the coordinator's teams) or
``GET /api/v1/fhir/Group/{team_id}/$export`` (one team) with ``Prefer: respond-async``
answers 202 with ``Content-Location``: the status URL. That answers 202 with
``X-Progress`` while the export runs, 200 with the manifest when done; the files are
downloaded with a bearer token of the same user; DELETE cancels. Jobs run in the
background (``server/fhir/bulk.py``). Errors are OperationOutcome resources.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, request, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from server import database
from server.clock import iso, utcnow
from server.fhir import bulk
from server.fhir.common import FHIR_NDJSON
from server.fhir.resources import RESOURCE_TYPES
from server.http.errors import fail, not_found
from server.http.fhir import PREFIX, base_url, fhir_response
from server.services import audit, auth
from storage.fhir_exports import FhirExport

blp = Blueprint("fhir_bulk", __name__, url_prefix=PREFIX,
                description="FHIR Bulk Data export for an ICS warehouse; see docs/fhir.md")
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")


def _types(value: str) -> list[str]:
    types = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in types if t not in RESOURCE_TYPES]
    if unknown or not types:
        raise ValidationError(f"Unsupported type(s): {', '.join(unknown) or '(none)'}; "
                              f"supported: {', '.join(RESOURCE_TYPES)}.")
    return types


def _instant(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        text = iso(moment) if moment.tzinfo is not None else None
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 moved to UTC
        raise ValidationError("Give an instant such as 2026-11-24T09:00:00+00:00.") from exc
    if text is None:
        raise ValidationError("Add the time zone offset (e.g. +00:00 or Z).")
    return text


class ExportQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    type = fields.Function(deserialize=_types, data_key="_type")
    since = fields.Function(deserialize=_instant, data_key="_since")
    output_format = fields.String(data_key="_outputFormat")


def _kick_off(query: dict[str, Any], team_id: str | None) -> Response:
    actor = auth.require_role("coordinator")
    if team_id is not None and team_id not in actor.team_ids:
        not_found("Group")
    if "respond-async" not in request.headers.get("Prefer", ""):
        fail(400, "Bulk export is asynchronous: send the header Prefer: respond-async.",
             {"Prefer": ["Must include respond-async."]})
    if query.get("output_format", OUTPUT_FORMATS[0]) not in OUTPUT_FORMATS:
        fail(400, "Only NDJSON output is offered.", {"_outputFormat": list(OUTPUT_FORMATS)})
    config = current_app.config
    with database.write() as uow:
        bulk.expire_old(uow, config["INSTANCE"],
                        timedelta(hours=config["FHIR_EXPORT_RETENTION_HOURS"]))
    with database.write() as uow:
        if bulk.active_job_of(uow, actor.user_id):
            fail(429, "An export of yours is still running: wait for it or cancel it.")
        job_id = bulk.kick_off(
            uow, actor, team_id=team_id, types=query.get("type", RESOURCE_TYPES),
            since=query.get("since"), request_url=request.url, base_url=base_url(),
            canonical_base=config["FHIR_CANONICAL_BASE"] or base_url())
    bulk.start(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
    response = Response(status=202)
    response.headers["Content-Location"] = f"{base_url()}/bulk-status/{job_id}"
    return response


@blp.route("/$export")
class SystemExport(MethodView):
    @blp.arguments(ExportQuery, location="query")
    def get(self, query: dict[str, Any]) -> Response:
        """Start an export of your teams' patients (Prefer: respond-async)"""
        return _kick_off(query, None)


@blp.route("/Group/<team_id>/$export")
class GroupExport(MethodView):
    @blp.arguments(ExportQuery, location="query")
    def get(self, query: dict[str, Any], team_id: str) -> Response:
        """Start an export of one of your teams (the Group's id is the team's id)"""
        return _kick_off(query, team_id)


def _own_job(job_id: str) -> FhirExport:
    with database.read() as uow:
        found = bulk.job(uow, job_id, auth.current_actor().user_id)
    if found is None:
        not_found("Export")
    return found


@blp.route("/bulk-status/<job_id>")
class ExportStatus(MethodView):
    def get(self, job_id: str) -> Response:
        """Progress (202 with X-Progress) or, when done, the manifest (200)"""
        job = _own_job(job_id)
        if job.status == "done":
            with database.read() as uow:
                counts = bulk.outputs(uow, job_id)
            return fhir_response(bulk.manifest(job, counts))
        if job.status == "failed":
            fail(500, "The export failed; start a new one.")
        lease = timedelta(minutes=current_app.config["FHIR_EXPORT_LEASE_MINUTES"])
        stale = job.heartbeat_at is None or job.heartbeat_at < iso(utcnow() - lease)
        if job.status == "queued" or stale:
            # Its worker may have died with its process: any process may take it over.
            bulk.start(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
        response = Response(status=202)
        response.headers["X-Progress"] = job.progress or job.status
        response.headers["Retry-After"] = "2"
        return response

    def delete(self, job_id: str) -> Response:
        """Cancel the export, or delete its files once done"""
        with database.write() as uow:
            cancelled = bulk.cancel(uow, auth.current_actor(), job_id,
                                    current_app.config["INSTANCE"])
        if not cancelled:
            not_found("Export")
        return Response(status=202)


@blp.route("/bulk-files/<job_id>/<any(" + ",".join(repr(t) for t in RESOURCE_TYPES)
           + "):resource_type>.ndjson")
class ExportFile(MethodView):
    def get(self, job_id: str, resource_type: str) -> Response:
        """One NDJSON output file of a finished export"""
        job = _own_job(job_id)
        path = bulk.export_folder(current_app.config["INSTANCE"], job_id) / (
            f"{resource_type}.ndjson")
        if job.status != "done" or not path.exists():
            not_found("Export file")
        with database.write() as uow:
            audit.record(uow, auth.current_actor(), "fhir_export_downloaded",
                         detail={"export": job_id, "type": resource_type})
        return send_file(path, mimetype=FHIR_NDJSON)
