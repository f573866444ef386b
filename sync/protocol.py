"""The wire contract of push and pull (SPEC §3.2–§3.3) as frozen dataclasses.

Parsing turns raw JSON into these objects with per-field errors, in the shape of the
one error body (``{"field": ["message"]}``). Invariants:

- a push envelope that cannot be sequenced (no client_id, no mutations list, a
  mutation without a usable ``mutation_id``) is refused whole (:class:`MalformedRequest`);
- a mutation that can be sequenced but is otherwise malformed is kept with its errors
  and becomes a ``rejected`` result (and is quarantined), so one bad mutation never
  blocks the client's outbox;
- ``to_wire()`` gives exactly the JSON of the SPEC; fields the SPEC marks optional are
  left out when empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _quote  # a JSON string, as wire_json
from typing import Any, NamedTuple

from sync.errors import BatchTooLarge, MalformedRequest, UnsupportedSchemaVersion

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})
MAX_MUTATIONS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024
OPS = ("create", "update", "delete")
STATUSES = ("applied", "conflict", "rejected", "out_of_order")
MAX_ID_LENGTH = 128
# The largest integer SQLite (and PostgreSQL's bigint) stores: ids, versions and cursor
# positions beyond it are malformed, not a crash at the database.
MAX_INTEGER = 2**63 - 1
_MUTATION_KEYS = frozenset(
    {"mutation_id", "entity", "id", "op", "base_version", "fields", "client_time"}
)

Json = Any


def wire_json(value: Json) -> str:
    """JSON as the wire carries it: sorted keys, compact, ASCII (what Flask's JSON
    provider makes of a dict, so a spliced body has the same bytes as an encoded one)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Mutation:
    """One change to one record. ``base_version`` None (server-side writes only) = no
    conflict check; ``mutation_id`` None for REST and server-made writes."""

    entity: str
    id: str
    op: str
    fields: Mapping[str, Json] = field(default_factory=dict)
    base_version: int | None = 0
    mutation_id: int | None = None
    client_time: str | None = None


@dataclass(frozen=True)
class ReceivedMutation:
    """A pushed mutation as received: parsed (``mutation``) or refused (``errors``)."""

    mutation_id: int
    raw: Json
    mutation: Mutation | None
    errors: Mapping[str, Json] | None = None


@dataclass(frozen=True)
class PushRequest:
    client_id: str
    schema_version: int
    mutations: tuple[ReceivedMutation, ...]


@dataclass(frozen=True)
class MutationResult:
    """The outcome of one mutation, as stored for idempotent replay and sent back."""

    status: str
    mutation_id: int | None = None
    version: int | None = None
    conflict_ids: tuple[str, ...] = ()
    errors: Mapping[str, Json] | None = None

    def to_wire(self) -> dict[str, Json]:
        wire: dict[str, Json] = {"mutation_id": self.mutation_id, "status": self.status}
        if self.version is not None:
            wire["version"] = self.version
        if self.conflict_ids:
            wire["conflict_ids"] = list(self.conflict_ids)
        if self.errors:
            wire["errors"] = dict(self.errors)
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Json]) -> MutationResult:
        return cls(
            status=wire["status"],
            mutation_id=wire.get("mutation_id"),
            version=wire.get("version"),
            conflict_ids=tuple(wire.get("conflict_ids", ())),
            errors=wire.get("errors"),
        )


@dataclass(frozen=True)
class PushResponse:
    last_mutation_id: int
    results: tuple[MutationResult, ...]

    def to_wire(self) -> dict[str, Json]:
        return {
            "last_mutation_id": self.last_mutation_id,
            "results": [result.to_wire() for result in self.results],
        }


def change_text(entity: str, record_id: str, version: int, deleted: bool, updated_at: str,
                data_text: str) -> str:
    """One change's wire JSON (``wire_json(RecordChange.to_wire())``) around its data's
    JSON text: the same bytes, without decoding the data."""
    return (
        f'{{"data":{data_text},"deleted":{"true" if deleted else "false"},'
        f'"entity":{_quote(entity)},"id":{_quote(record_id)},'
        f'"updated_at":{_quote(updated_at)},"version":{int(version)}}}'
    )


class ChangeText(Mapping[str, Json]):
    """A whole change's wire text, made at write time (a stored view, sync/views.py):
    spliced into a pull as it is; as a Mapping, the change's data, decoded only if
    someone reads it."""

    __slots__ = ("text", "_value")

    def __init__(self, text: str) -> None:
        self.text = text
        self._value: dict[str, Json] | None = None

    def decoded(self) -> dict[str, Json]:
        if self._value is None:
            self._value = json.loads(self.text)["data"]
        return self._value

    def __getitem__(self, key: str) -> Json:
        return self.decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.decoded())

    def __len__(self) -> int:
        return len(self.decoded())

    def __repr__(self) -> str:
        return f"ChangeText({self.text!r})"


class RecordChange(NamedTuple):
    """A record at its latest version, as this actor may see it. (A named tuple: a
    snapshot pull makes 10,000 of them; a frozen dataclass costs three times as much.)"""

    entity: str
    id: str
    version: int
    deleted: bool
    updated_at: str
    data: Mapping[str, Json]

    def to_wire(self) -> dict[str, Json]:
        return {
            "entity": self.entity,
            "id": self.id,
            "version": self.version,
            "deleted": self.deleted,
            "updated_at": self.updated_at,
            "data": self.data.decoded() if isinstance(self.data, ChangeText) else self.data,
        }

    def wire_text(self) -> str:
        """``wire_json(self.to_wire())``, a stored change as it is."""
        if isinstance(self.data, ChangeText):
            return self.data.text
        return wire_json(self.to_wire())


@dataclass(frozen=True)
class Eviction:
    """Drop a record; ``entity == "patient"`` drops the patient and all its records."""

    entity: str
    id: str

    def to_wire(self) -> dict[str, Json]:
        return {"entity": self.entity, "id": self.id}


@dataclass(frozen=True)
class PullResponse:
    changes: tuple[RecordChange, ...]
    evictions: tuple[Eviction, ...]
    cursor: str
    has_more: bool
    last_mutation_id: int
    server_time: str
    # Not on the wire: patients whose records this response returned (for the audit
    # log: one row per patient; empty for an empty pull).
    patient_ids: frozenset[str] = frozenset()

    def to_wire(self) -> dict[str, Json]:
        return {
            "changes": [change.to_wire() for change in self.changes],
            "evictions": [eviction.to_wire() for eviction in self.evictions],
            "cursor": self.cursor,
            "has_more": self.has_more,
            "last_mutation_id": self.last_mutation_id,
            "server_time": self.server_time,
        }

    def wire_text(self) -> str:
        """``wire_json(self.to_wire())`` without decoding records kept as text."""
        rest = wire_json({
            "cursor": self.cursor,
            "evictions": [eviction.to_wire() for eviction in self.evictions],
            "has_more": self.has_more,
            "last_mutation_id": self.last_mutation_id,
            "server_time": self.server_time,
        })
        changes = ",".join(change.wire_text() for change in self.changes)
        return '{"changes":[' + changes + "]," + rest[1:]


def body_text(body: bytes | str | Mapping[str, Json]) -> str:
    """The push body as text (kept for quarantine), size-checked before any parsing."""
    if isinstance(body, Mapping):
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode())
    else:
        size = len(body.encode()) if isinstance(body, str) else len(body)
        if size <= MAX_BATCH_BYTES:
            text = body if isinstance(body, str) else body.decode("utf-8", errors="replace")
    if size > MAX_BATCH_BYTES:
        raise BatchTooLarge({"body": [f"At most {MAX_BATCH_BYTES} bytes."]})
    return text


def parse_json(text: str) -> Json:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to parse
        raise MalformedRequest({"body": ["Not valid JSON."]}) from None


def parse_push(obj: Json) -> PushRequest:
    """The push envelope; raises MalformedRequest, BatchTooLarge, UnsupportedSchemaVersion."""
    if not isinstance(obj, Mapping):
        raise MalformedRequest({"body": ["Must be a JSON object."]})
    errors: dict[str, Json] = {}
    unknown = set(obj) - {"client_id", "schema_version", "mutations"}
    for key in sorted(unknown):
        errors[key] = ["Unknown field."]
    client_id = obj.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        errors["client_id"] = ["Required: the device's client_id."]
    version = obj.get("schema_version")
    if type(version) is not int:
        errors["schema_version"] = ["Required: an integer."]
    mutations = obj.get("mutations")
    if not isinstance(mutations, list):
        errors["mutations"] = ["Required: a list."]
    if errors:
        raise MalformedRequest(errors)
    assert isinstance(version, int) and isinstance(mutations, list)
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise UnsupportedSchemaVersion(
            {"schema_version": [f"Supported: {sorted(SUPPORTED_SCHEMA_VERSIONS)}."]}
        )
    if len(mutations) > MAX_MUTATIONS:
        raise BatchTooLarge({"mutations": [f"At most {MAX_MUTATIONS} per batch."]})
    received, bad = [], {}
    for index, raw in enumerate(mutations):
        mutation_id = raw.get("mutation_id") if isinstance(raw, Mapping) else None
        if type(mutation_id) is not int or not 1 <= mutation_id <= MAX_INTEGER:
            bad[str(index)] = {"mutation_id": ["Required: an integer counting up from 1."]}
            continue
        mutation, mutation_errors = parse_mutation(raw)
        received.append(ReceivedMutation(mutation_id, raw, mutation, mutation_errors))
    if bad:
        raise MalformedRequest({"mutations": bad})
    assert isinstance(client_id, str)
    return PushRequest(client_id, version, tuple(received))


def parse_mutation(raw: Mapping[str, Json]) -> tuple[Mutation | None, dict[str, Json] | None]:
    """One mutation, or the errors that make it unusable."""
    errors: dict[str, list[str]] = {}
    for key in sorted(set(raw) - _MUTATION_KEYS):
        errors[key] = ["Unknown field."]
    entity, record_id, op = raw.get("entity"), raw.get("id"), raw.get("op")
    if not isinstance(entity, str) or not entity:
        errors["entity"] = ["Required: an entity name."]
    if not isinstance(record_id, str) or not record_id or len(record_id) > MAX_ID_LENGTH:
        errors["id"] = [f"Required: a string of at most {MAX_ID_LENGTH} characters."]
    if op not in OPS:
        errors["op"] = [f"Must be one of: {', '.join(OPS)}."]
    fields = raw.get("fields", {})
    if not isinstance(fields, Mapping):
        errors["fields"] = ["Must be an object."]
    elif op == "delete" and fields:
        errors["fields"] = ["Must be empty for delete."]
    elif op in ("create", "update") and not fields:
        errors["fields"] = ["Required: the fields changed."]
    base = raw.get("base_version", 0 if op == "create" else None)
    if op not in OPS:
        pass  # the op error says it all
    elif type(base) is not int or not 0 <= base <= MAX_INTEGER:
        errors["base_version"] = ["Required: the record version the edit was made on."]
    elif op == "create" and base != 0:
        errors["base_version"] = ["Must be 0 for create."]
    client_time = raw.get("client_time")
    if client_time is not None and not isinstance(client_time, str):
        errors["client_time"] = ["Must be a string."]
    if errors:
        return None, dict(errors)
    return (
        Mutation(
            entity=str(entity),
            id=str(record_id),
            op=str(op),
            fields=dict(fields),
            base_version=base,
            mutation_id=raw["mutation_id"],
            client_time=client_time,
        ),
        None,
    )
