"""Reads for REST resources (SPEC §3.5): the same scope and redaction as pulls.

Invariants:
- a record outside the actor's scope, hidden by ``redact``, deleted (unless asked) or
  of an unknown entity is simply absent — never an error that reveals it exists;
- every result says which patients it returned (``patient_ids``) so the server writes
  one audit row per patient, and none for an empty result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.apply import entity_type
from sync.protocol import Json, RecordChange
from sync.registry import SYSTEM_ROLE, Actor, Registry
from sync.scope import visible_patient_ids
from sync.store import ChangedRow, Store

MAX_PAGE = 1000


@dataclass(frozen=True)
class RecordPage:
    items: tuple[RecordChange, ...]
    # Pass as ``after`` for the next page; None when this is the last page.
    next_after: str | None
    patient_ids: frozenset[str]


def get_record(
    store: Store,
    registry: Registry,
    actor: Actor,
    entity: str,
    record_id: str,
    *,
    include_deleted: bool = False,
) -> RecordChange | None:
    """One record as ``actor`` may see it, or None (answer 404)."""
    et = entity_type(registry, entity)
    with store.read_transaction():
        record = store.get_record(entity, record_id) if et is not None else None
        if et is None or record is None or (record.deleted and not include_deleted):
            return None
        if actor.role != SYSTEM_ROLE and record.patient_id not in visible_patient_ids(
            store, registry, actor
        ):
            return None
    shown = et.redact(actor, record.data)
    if shown is None:
        return None
    return RecordChange(entity, record_id, record.version, record.deleted, record.updated_at, shown)


def list_records(
    store: Store,
    registry: Registry,
    actor: Actor,
    entity: str,
    *,
    patient_ids: Iterable[str] | None = None,
    where: Mapping[str, Json] | None = None,
    after: str | None = None,
    limit: int = 100,
    include_deleted: bool = False,
) -> RecordPage:
    """Records of one entity, ordered by id, within the actor's scope.

    ``patient_ids`` narrows the scope (e.g. one patient's visits); ``where`` holds
    equality filters on data fields (``{"status": "open"}``; None matches null).
    The system actor must pass ``patient_ids``.
    """
    et = entity_type(registry, entity)
    limit = max(1, min(limit, MAX_PAGE))
    with store.read_transaction():
        if actor.role == SYSTEM_ROLE:
            scope = frozenset(patient_ids or ())
        else:
            scope = visible_patient_ids(store, registry, actor)
            if patient_ids is not None:
                scope = scope & frozenset(patient_ids)
        if et is None or not scope:
            return RecordPage((), None, frozenset())
        rows = store.list_records(
            entity,
            scope,
            where=dict(where or {}),
            after_id=after,
            limit=limit + 1,
            include_deleted=include_deleted,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    items, seen = [], set()
    for row in rows:
        shown = et.redact(actor, json.loads(row.data))
        if shown is not None:
            items.append(_change(row, shown))
            seen.add(row.patient_id)
    return RecordPage(tuple(items), rows[-1].id if more else None, frozenset(seen))


def _change(row: ChangedRow, data: Mapping[str, Json]) -> RecordChange:
    return RecordChange(row.entity, row.id, row.version, bool(row.deleted), row.updated_at, data)
