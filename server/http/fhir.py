"""FHIR R4 read API under /api/v1/fhir/ (SPEC §10): read, search by patient, $everything.

Thin views over ``server/fhir``: each reads as the caller (the same scope, redaction and
404-for-out-of-scope as every REST read), answers ``application/fhir+json`` and writes
one audit row per patient returned. Errors are OperationOutcome resources, converted
from the one error shape (see ``server/fhir/bundle.py``). Patients who object to sharing
are readable here by those who may see them (direct care); every export leaves them out
(``server/fhir/bulk.py``). The bulk export lives in ``server/http/fhir_bulk.py``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from server import database
from server.clock import iso, utcnow
from server.fhir import definitions
from server.fhir.bundle import operation_outcome, searchset
from server.fhir.common import FHIR_JSON, MappingContext, Resource, Source
from server.fhir.patient import NHS_NUMBER_SYSTEM
from server.fhir.resources import (
    PER_RECORD,
    RESOURCE_TYPES,
    RecordReader,
    read_resource,
    resources_of,
)
from server.http import errors
from server.http.errors import fail, not_found
from server.http.reads import audit_reads
from server.records import engine as records
from server.services import auth
from storage import UnitOfWork
from sync import list_records

PREFIX = "/api/v1/fhir"
blp = Blueprint("fhir", __name__, url_prefix=PREFIX,
                description="FHIR R4 read API (UK Core Patient); see docs/fhir.md")
TYPE_PATTERN = "<any(" + ",".join(repr(t) for t in RESOURCE_TYPES) + "):resource_type>"


class SearchQuery(Schema):
    class Meta:
        unknown = EXCLUDE  # FHIR servers ignore search parameters they do not support

    patient = fields.String(metadata={"description": "Patient/{id} or {id}"})
    identifier = fields.String(metadata={"description": "system|value (NHS number)"})
    _id = fields.String(data_key="_id")
    count = fields.Integer(data_key="_count", load_default=100,
                           validate=validate.Range(min=1, max=500))
    page_after = fields.String(data_key="_page_after",
                               metadata={"description": "From the Bundle's next link"})


def base_url() -> str:
    return request.url_root.rstrip("/") + PREFIX


def canonical_base() -> str:
    return str(current_app.config["FHIR_CANONICAL_BASE"] or base_url())


def mapping_context(uow: UnitOfWork) -> MappingContext:
    return MappingContext(canonical_base(), current_app.config["FHIR_NHS_NUMBER_VERIFICATION"],
                          uow.records)


def reader(uow: UnitOfWork) -> RecordReader:
    return RecordReader(uow.store, records.registry(), auth.current_actor())


def fhir_response(resource: Resource, status: int = 200) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False), status=status,
                    mimetype=FHIR_JSON)


def outcome_for(exc: Exception) -> Response:
    """Any error as an OperationOutcome, with the one shape's status, text and headers."""
    one_shape = errors.handle_unexpected(exc)
    assert isinstance(one_shape, Response)
    response = fhir_response(operation_outcome(one_shape.get_json()), one_shape.status_code)
    for header in ("WWW-Authenticate", "Allow"):
        if header in one_shape.headers:
            response.headers[header] = one_shape.headers[header]
    return response




def _patient_id(value: str) -> str:
    return value.removeprefix("Patient/")


@blp.route("/metadata")
class Metadata(MethodView):
    def get(self) -> Response:
        """The CapabilityStatement: what this FHIR server supports"""
        return fhir_response(definitions.capability_statement(base_url(), iso(utcnow())))


@blp.route(f"/Questionnaire/{definitions.FALLS_QUESTIONNAIRE_ID}")
class FallsQuestionnaire(MethodView):
    def get(self) -> Response:
        """The falls-assessment Questionnaire that QuestionnaireResponses answer"""
        return fhir_response(definitions.falls_questionnaire(canonical_base()))


@blp.route(f"/{TYPE_PATTERN}")
class Search(MethodView):
    @blp.arguments(SearchQuery, location="query")
    def get(self, query: dict[str, Any], resource_type: str) -> Response:
        """Search one resource type: Patient by identifier, the others by patient"""
        if resource_type == "Patient":
            return self._patients(query)
        if "patient" not in query:
            fail(400, f"Search {resource_type} by patient (e.g. ?patient=Patient/{{id}}).",
                 {"patient": ["Required for this resource type."]})
        patient_id = _patient_id(query["patient"])
        with database.read() as uow:
            source = reader(uow)
            found = [r for _, r in
                     resources_of(source, mapping_context(uow), resource_type, [patient_id])
                     if "_id" not in query or r["id"] == query["_id"]]
            # As REST reads: an empty result about a patient one may see still tells
            # about them.
            about_patient = bool(found) or source.one("patient", patient_id) is not None
        if about_patient:
            audit_reads([patient_id], via=f"fhir:{resource_type}")
        return fhir_response(searchset(base_url(), found, request.url))

    def _patients(self, query: dict[str, Any]) -> Response:
        where: dict[str, Any] = {}
        if "identifier" in query:
            system, _, value = query["identifier"].rpartition("|")
            if system and system != NHS_NUMBER_SYSTEM:
                return fhir_response(searchset(base_url(), [], request.url))
            where["nhs_number"] = value
        with database.read() as uow:
            page = list_records(uow.store, records.registry(), auth.current_actor(),
                                "patient", where=where, after=query.get("page_after"),
                                limit=query["count"],
                                patient_ids=[query["_id"]] if "_id" in query else None)
            to_patient, ctx = PER_RECORD["Patient"][1], mapping_context(uow)
            resources = [r for r in (to_patient(Source.of(item), ctx) for item in page.items)
                         if r]
        audit_reads(page.patient_ids, via="fhir:Patient")
        next_url = None
        if page.next_after:
            args = request.args.to_dict()
            args["_page_after"] = page.next_after
            next_url = f"{base_url()}/Patient?{urlencode(args)}"
        return fhir_response(searchset(base_url(), resources, request.url, next_url))


@blp.route(f"/{TYPE_PATTERN}/<resource_id>")
class ReadById(MethodView):
    def get(self, resource_type: str, resource_id: str) -> Response:
        """Read one resource by id (404 if it does not exist or you may not see it)"""
        with database.read() as uow:
            found = read_resource(reader(uow), mapping_context(uow), resource_type, resource_id)
        if found is None:
            not_found(resource_type)
        patient_id, resource = found
        audit_reads([patient_id], via=f"fhir:{resource_type}")
        return fhir_response(resource)


@blp.route("/Patient/<patient_id>/$everything")
class Everything(MethodView):
    def get(self, patient_id: str) -> Response:
        """Everything Doorstep holds on one patient that you may see, as one Bundle"""
        with database.read() as uow:
            source, ctx = reader(uow), mapping_context(uow)
            if read_resource(source, ctx, "Patient", patient_id) is None:
                not_found("Patient")
            found = [r for resource_type in RESOURCE_TYPES
                     for _, r in resources_of(source, ctx, resource_type, [patient_id])]
        audit_reads([patient_id], via="fhir:$everything")
        return fhir_response(searchset(base_url(), found, request.url))


@blp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unsupported(unknown: str) -> Response:
    """Anything else under the FHIR base: an OperationOutcome rather than the one shape."""
    not_found("FHIR resource type or operation")
