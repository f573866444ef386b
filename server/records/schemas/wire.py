"""Response shapes of sync and of the read resources, for the OpenAPI document.

The wire JSON itself is made by the engine's ``to_wire()`` (sync/protocol.py), its one
definition; these schemas describe it so clients and the API fuzz test
(tests/test_api_fuzz.py) can check every answer against the document. Every field the
engine always sends is ``required``; record ``data`` is the entity's fields as the caller
may see them (docs/data-dictionary.md).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from sync.protocol import OPS, STATUSES


class MutationSchema(Schema):
    mutation_id = fields.Integer(required=True, metadata={"description": "Counts up from 1"})
    entity = fields.String(required=True)
    id = fields.String(required=True, metadata={"description": "A UUID made by the client"})
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    base_version = fields.Integer(metadata={"description": "The version the edit was made on"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "The fields changed"})
    client_time = fields.String()


class PushRequestSchema(Schema):
    client_id = fields.String(required=True)
    schema_version = fields.Integer(required=True)
    mutations = fields.List(fields.Nested(MutationSchema), required=True)


class MutationResultSchema(Schema):
    mutation_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    version = fields.Integer()
    conflict_ids = fields.List(fields.String())
    errors = fields.Dict()


class PushResponseSchema(Schema):
    last_mutation_id = fields.Integer(required=True)
    results = fields.List(fields.Nested(MutationResultSchema), required=True)


class RecordSchema(Schema):
    """One record at its latest version, as the caller may see it."""

    entity = fields.String(required=True)
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
    updated_at = fields.String(required=True)
    data = fields.Dict(required=True)


class EvictionSchema(Schema):
    entity = fields.String(required=True)
    id = fields.String(required=True)


class PullResponseSchema(Schema):
    changes = fields.List(fields.Nested(RecordSchema), required=True)
    evictions = fields.List(fields.Nested(EvictionSchema), required=True)
    cursor = fields.String(required=True)
    has_more = fields.Boolean(required=True)
    last_mutation_id = fields.Integer(required=True)
    server_time = fields.String(required=True)


class RecordPageSchema(Schema):
    items = fields.List(fields.Nested(RecordSchema), required=True)
    next_after = fields.String(required=True, allow_none=True,
                               metadata={"description": "Give as `after` for the next page"})


class TimelineEventSchema(RecordSchema):
    at = fields.String(required=True, allow_none=True)


class TimelineSchema(Schema):
    patient_id = fields.String(required=True)
    events = fields.List(fields.Nested(TimelineEventSchema), required=True)


def json_content(schema: type[Schema]) -> dict[str, object]:
    """A ``content`` entry for ``blp.doc``: documents a body the view does not (de)serialise."""
    return {"application/json": {"schema": schema}}


def ok_response(schema: type[Schema]) -> dict[str, object]:
    """A documented 200 answer whose JSON the view makes itself (see ``json_content``)."""
    return {"200": {"description": "OK", "content": json_content(schema)}}
