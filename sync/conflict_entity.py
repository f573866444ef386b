"""The engine's own ``conflict`` entity (SPEC §3.4): its rules and the records it makes.

A conflict is a synced, server-only, patient-scoped record. Invariants:
- it belongs to the patient of the conflicted record, so it travels (and is evicted)
  with that patient;
- it is visible to its two authors (``client_author_id``, ``server_author_id``) and to
  coordinators who can see the patient; to anyone else it does not exist;
- only the engine writes it (as :data:`sync.registry.SYSTEM`): created by a conflicting
  push, closed by :func:`sync.conflicts.resolve_conflict`.

Field naming: a field conflict names the field (``"field": "notes"``) and holds that
field's values. A record-level conflict — a ``delete`` of a record another device
changed after ``base_version``, or an ``update`` of a deleted record — has
``"field": "_record"`` and holds whole-record values: the record's data object, or
``null`` for "deleted". ``took_client`` then deletes the record (delete-vs-update) or
restores it with the client's data (update-vs-delete).
"""

from __future__ import annotations

from typing import Any

from sync.registry import SYSTEM_ROLE, Actor, EntityType, NotPermitted, Record

CONFLICT = "conflict"
RECORD_FIELD = "_record"
RESOLUTIONS = ("kept_server", "took_client", "custom")


def _validate(actor: Actor, op: str, current: Record | None, fields: Record) -> Record:
    return dict(fields)


def _authorize(actor: Actor, op: str, current: Record | None, merged: Record) -> None:
    if actor.role != SYSTEM_ROLE:
        raise NotPermitted()


def may_see(actor: Actor, data: Record) -> bool:
    """Authors and coordinators (patient scope is checked separately)."""
    return (
        actor.role in (SYSTEM_ROLE, "coordinator")
        or actor.user_id == data.get("client_author_id")
        or actor.user_id == data.get("server_author_id")
    )


def _redact(actor: Actor, data: Record) -> Record | None:
    return data if may_see(actor, data) else None


CONFLICT_TYPE = EntityType(
    name=CONFLICT,
    validate=_validate,
    authorize=_authorize,
    patient_field="patient_id",
    server_only=True,
    redact=_redact,
    # Seen whole by whoever sees it; who does depends on the actor (its authors).
    view=lambda audience, data: data,
    personal=True,
)


def conflict_fields(
    *,
    entity: str,
    record_id: str,
    patient_id: str,
    field: str,
    base_value: Any,
    server_value: Any,
    client_value: Any,
    base_version: int | None,
    server_version: int,
    client: Actor,
    mutation_id: int | None,
    server_author_id: str | None,
    created_at: str,
) -> Record:
    """The data of a new, open conflict record."""
    return {
        "entity": entity,
        "record_id": record_id,
        "patient_id": patient_id,
        "field": field,
        "base_value": base_value,
        "server_value": server_value,
        "client_value": client_value,
        "base_version": base_version,
        "server_version": server_version,
        "client_id": client.client_id,
        "mutation_id": mutation_id,
        "client_author_id": client.user_id,
        "server_author_id": server_author_id,
        "status": "open",
        "resolution": None,
        "resolved_value": None,
        "resolved_by": None,
        "resolved_at": None,
        "created_at": created_at,
    }
