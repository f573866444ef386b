"""A toy registry and small factories for the sync engine's own tests and benchmark.

Entities (just enough to exercise every engine rule, none of the clinical ones):
- ``patient`` (its own id is the patient id): team_id, name, code, notes, access_notes
  (hidden from patients), account (the user id of the patient's own login);
- ``visit``: patient_id, notes, status, a, b, c — the ordinary editable record;
- ``obs`` (append-only): patient_id, value, derived ``level``;
- ``alert`` (server-only): patient_id, reason, status — clients may change ``status``;
- ``memo``: patient_id, text, private — a private memo is visible to its author only.

Scope: staff see the patients of their teams; a ``patient`` actor sees the patient
whose ``account`` is their user id.

Stores: ``make_store`` takes a SQLite path or a PostgreSQL URL (the ``sync_db`` fixture
gives one per backend); the few raw queries here speak both dialects.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sync import Mutation, SqliteStore, apply_mutation, apply_push, pull
from sync.apply import ApplyContext, Change
from sync.protocol import PullResponse, PushResponse
from sync.registry import SYSTEM, Actor, EntityType, NotPermitted, Registry, ValidationFailed
from sync.store import Store
from sync.store.postgres import PostgresStore

STAFF = ("nurse", "coordinator")
FIELDS = {
    "patient": {"team_id", "name", "code", "notes", "access_notes", "account"},
    "visit": {"patient_id", "notes", "status", "a", "b", "c"},
    "obs": {"patient_id", "value", "entered_in_error", "void_reason"},
    "alert": {"patient_id", "reason", "status"},
    "memo": {"patient_id", "text", "private"},
}
STATUSES = {"scheduled", "done", "cancelled", "open", "closed"}


def is_postgres(store: Any) -> bool:
    return isinstance(store, PostgresStore)


class TeamScope:
    """Staff see their teams' patients; a patient sees their own record."""

    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]:
        if is_postgres(store):
            return self._postgres(store, actor)
        conn: sqlite3.Connection = store.conn
        if actor.role in STAFF:
            rows = conn.execute(
                "SELECT id FROM records WHERE entity = 'patient' AND deleted = 0"
                " AND json_extract(data, '$.team_id') IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(actor.team_ids)),),
            )
        elif actor.role == "patient":
            rows = conn.execute(
                "SELECT id FROM records WHERE entity = 'patient' AND deleted = 0"
                " AND json_extract(data, '$.account') = ?",
                (actor.user_id,),
            )
        else:
            return set()
        return {row[0] for row in rows}

    def _postgres(self, store: Any, actor: Actor) -> set[str]:
        if actor.role in STAFF:
            sql, value = "data->>'team_id' = ANY(%s)", sorted(actor.team_ids)
        elif actor.role == "patient":
            sql, value = "data->>'account' = %s", actor.user_id
        else:
            return set()
        rows = store.conn.execute(
            f"SELECT id FROM records WHERE entity = 'patient' AND NOT deleted AND {sql}",
            (value,),
        )
        return {row[0] for row in rows}


def validator(entity: str) -> Any:
    def validate(
        actor: Actor, op: str, current: dict[str, Any] | None, fields: dict[str, Any]
    ) -> dict[str, Any]:
        errors = {k: ["Unknown field."] for k in fields if k not in FIELDS[entity]}
        if "status" in fields and fields["status"] not in STATUSES:
            errors["status"] = ["Not a status."]
        if "value" in fields and type(fields["value"]) is not int:
            errors["value"] = ["Must be an integer."]
        if op == "create" and entity != "patient" and "patient_id" not in fields:
            errors["patient_id"] = ["Required."]
        if op == "create" and entity == "patient" and "team_id" not in fields:
            errors["team_id"] = ["Required."]
        if errors:
            raise ValidationFailed(errors)
        cleaned = dict(fields)
        if isinstance(cleaned.get("code"), str):
            cleaned["code"] = cleaned["code"].replace(" ", "").replace("-", "")
        return cleaned

    return validate


def authorize(
    actor: Actor, op: str, current: dict[str, Any] | None, merged: dict[str, Any]
) -> None:
    if actor.role == "system":
        return
    if actor.role == "patient":
        if merged.get("private") or op != "create" or "patient_id" not in merged:
            raise NotPermitted({"id": ["Not permitted."]})
        return
    if actor.role not in STAFF:
        raise NotPermitted()


def authorize_patient(
    actor: Actor, op: str, current: dict[str, Any] | None, merged: dict[str, Any]
) -> None:
    if actor.role == "system":
        return
    if actor.role not in STAFF:
        raise NotPermitted()
    if op == "create" and merged.get("team_id") not in actor.team_ids:
        raise NotPermitted({"team_id": ["Not one of your teams."]})


def redact_patient(actor: Actor, data: dict[str, Any]) -> dict[str, Any] | None:
    if actor.role in STAFF:
        return data
    return {k: v for k, v in data.items() if k != "access_notes"}


def redact_memo(actor: Actor, data: dict[str, Any]) -> dict[str, Any] | None:
    if data.get("private") and data.get("author") != actor.user_id:
        return None
    return data


def derive_obs(merged: dict[str, Any]) -> dict[str, Any]:
    value = merged.get("value", 0)
    return {"level": "high" if value > 10 else "low"}


def derive_memo_author(merged: dict[str, Any]) -> dict[str, Any]:
    return {}


def make_registry(*, scope_entities: Iterable[str] | None = ("patient",)) -> Registry:
    registry = Registry(
        scope=TeamScope(),
        scope_entities=frozenset(scope_entities) if scope_entities is not None else None,
    )
    registry.register(
        EntityType(
            "patient",
            validator("patient"),
            authorize_patient,
            patient_field=None,
            redact=redact_patient,
        )
    )
    registry.register(EntityType("visit", validator("visit"), authorize))
    registry.register(
        EntityType("obs", validator("obs"), authorize, append_only=True, derive=derive_obs)
    )
    registry.register(
        EntityType(
            "alert",
            validator("alert"),
            authorize,
            server_only=True,
            client_fields=frozenset({"status"}),
        )
    )
    registry.register(EntityType("memo", memo_validator, authorize, redact=redact_memo))
    return registry


def memo_validator(
    actor: Actor, op: str, current: dict[str, Any] | None, fields: dict[str, Any]
) -> dict[str, Any]:
    cleaned = validator("memo")(actor, op, current, fields)
    if op == "create":
        cleaned["author"] = actor.user_id
    return cleaned


class InspectableStore(SqliteStore):
    """A bare store whose connection tests (and the toy scope) read with SQL; the engine
    itself never touches a store's connection."""

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn


_opened: list[PostgresStore] = []


def make_store(path: Path | str) -> Any:
    """A fresh store on a real SQLite file, with the team index the scope query uses;
    or on the (migrated) PostgreSQL database at a ``postgresql://`` URL."""
    if str(path).startswith("postgresql://"):
        _opened.append(PostgresStore.open(str(path)))
        return _opened[-1]
    store = InspectableStore.open(path)
    store.conn.execute(
        "CREATE INDEX IF NOT EXISTS records_patient_team"
        " ON records (json_extract(data, '$.team_id')) WHERE entity = 'patient'"
    )
    return store


def close_stores() -> None:
    """Close the PostgreSQL stores ``make_store`` opened (the ``sync_db`` fixture's end)."""
    while _opened:
        _opened.pop().conn.close()


# The engine's tables as SqliteStore's schema orders their columns, read from PostgreSQL.
_COPIED = {
    "records": "entity, id, version, deleted::int, updated_at, patient_id, data::text, seq,"
    " meta::text, views_key, view_staff, view_patient, view_carer",
    "changelog": "seq, entity, id, version, deleted::int, patient_id, data::text, client_id,"
    " author_id, mutation_id, changed::text, at",
    "sync_clients": "client_id, user_id, last_mutation_id, updated_at",
    "sync_results": "client_id, mutation_id, result",
    "sync_quarantine": "id, at, reason, client_id, user_id, mutation_id, entity, record_id,"
    " errors, convert_from(raw, 'UTF8')",
}


def sqlite_copy(store: Any) -> Any:
    """A SQLite store holding the same engine rows (the store itself if it is SQLite):
    lets checks written as SQLite SQL inspect what a PostgreSQL run stored."""
    if not is_postgres(store):
        return store
    copy = SqliteStore.open(":memory:")
    for table, columns in _COPIED.items():
        rows = store.conn.execute(f"SELECT {columns} FROM {table}").fetchall()
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            copy.conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    return copy


def nurse(user: str = "n1", team: str = "A", client: str | None = None) -> Actor:
    return Actor(user, "nurse", client or f"{user}-dev", frozenset({team}))


def coordinator(
    user: str = "c1", teams: Iterable[str] = ("A",), client: str | None = None
) -> Actor:
    return Actor(user, "coordinator", client or f"{user}-dev", frozenset(teams))


def patient_actor(user: str = "pt1", client: str | None = None) -> Actor:
    return Actor(user, "patient", client or f"{user}-dev")


def server_write(
    store: Store, registry: Registry, entity: str, record_id: str, op: str, fields: dict[str, Any]
) -> Any:
    """A server-made change (as SYSTEM) in its own transaction."""
    with store.write_transaction():
        return apply_mutation(
            store, registry, SYSTEM, Mutation(entity, record_id, op, fields, None)
        )


def seed_patient(
    store: Store, registry: Registry, patient_id: str, team: str = "A", **fields: Any
) -> None:
    server_write(store, registry, "patient", patient_id, "create", {"team_id": team, **fields})


class Device:
    """One client: numbers its mutations, pushes them, pulls into a local copy."""

    def __init__(self, store: Store, registry: Registry, actor: Actor) -> None:
        self.store, self.registry, self.actor = store, registry, actor
        self.next_id = 1
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], dict[str, Any]] = {}

    def mutation(
        self,
        entity: str,
        record_id: str,
        op: str,
        fields: dict[str, Any] | None = None,
        base: int | None = None,
    ) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "mutation_id": self.next_id,
            "entity": entity,
            "id": record_id,
            "op": op,
            "base_version": base if base is not None else (0 if op == "create" else 1),
        }
        if fields is not None:
            raw["fields"] = fields
        self.next_id += 1
        return raw

    def push(self, *mutations: dict[str, Any], schema_version: int = 1) -> PushResponse:
        body = {
            "client_id": self.actor.client_id,
            "schema_version": schema_version,
            "mutations": list(mutations),
        }
        return apply_push(self.store, self.registry, self.actor, json.dumps(body).encode())

    def edit(
        self,
        entity: str,
        record_id: str,
        op: str,
        fields: dict[str, Any] | None = None,
        base: int | None = None,
    ) -> dict[str, Any]:
        """Push one mutation; returns its wire result."""
        response = self.push(self.mutation(entity, record_id, op, fields, base))
        return response.results[0].to_wire()

    def pull_page(self, limit: int = 500) -> PullResponse:
        response = pull(self.store, self.registry, self.actor, cursor=self.cursor, limit=limit)
        self.absorb(response)
        return response

    def absorb(self, response: PullResponse) -> None:
        for eviction in response.evictions:
            if eviction.entity == "patient":
                self.records = {
                    key: rec for key, rec in self.records.items() if rec["patient"] != eviction.id
                }
            else:
                self.records.pop((eviction.entity, eviction.id), None)
        for change in response.changes:
            key = (change.entity, change.id)
            if change.deleted:
                self.records.pop(key, None)
            else:
                patient = change.id if change.entity == "patient" else change.data["patient_id"]
                self.records[key] = {
                    "version": change.version,
                    "data": dict(change.data),
                    "patient": patient,
                }
        self.cursor = response.cursor

    def sync(self, limit: int = 500) -> list[PullResponse]:
        pages = [self.pull_page(limit)]
        while pages[-1].has_more:
            pages.append(self.pull_page(limit))
            assert len(pages) < 10_000
        return pages


def server_view(store: Store, registry: Registry, actor: Actor) -> dict[tuple[str, str], Any]:
    """What ``actor`` should hold: every live, visible record at its latest version."""
    from sync.apply import entity_type

    visible = registry.scope.visible_patient_ids(store, actor)
    rows = store.conn.execute(
        "SELECT entity, id, version, patient_id, CAST(data AS TEXT) FROM records"
        " WHERE CAST(deleted AS INTEGER) = 0"
    ).fetchall()
    view = {}
    for entity, record_id, version, patient_id, data in rows:
        et = entity_type(registry, entity)
        if patient_id not in visible or et is None:
            continue
        shown = et.redact(actor, json.loads(data))
        if shown is not None:
            view[(entity, record_id)] = {"version": version, "data": shown, "patient": patient_id}
    return view


def count_rows(store: Store, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def no_hook(ctx: ApplyContext, change: Change) -> None:
    return None
