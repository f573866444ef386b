"""Resolving conflicts (SPEC §3.4): the chosen value becomes a normal change.

The ``conflict`` entity itself (fields, visibility, the ``_record`` naming for
delete/update-vs-delete) is defined in conflict_entity.py; this module closes them.
Invariants:
- only coordinators who see the patient and the conflict's two authors (who must also
  still see the patient) may resolve; to anyone else the conflict does not exist;
- ``took_client`` / ``custom`` write the value through :func:`sync.apply.apply_mutation`
  as the resolver (validated, authorized, a new version, hooks run) with no base
  version, so a resolution never conflicts; ``kept_server`` writes nothing to the
  record — it keeps whatever the server holds now;
- a conflict is closed once: status ``resolved`` with resolution, resolved_value,
  resolved_by and resolved_at, as a new version of the conflict record (so both
  authors' devices receive the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.apply import RESTORE, apply_mutation
from sync.conflict_entity import CONFLICT, RECORD_FIELD, RESOLUTIONS, may_see
from sync.errors import ConflictAlreadyResolved
from sync.merge import same_value
from sync.protocol import Mutation
from sync.registry import SYSTEM, SYSTEM_ROLE, Actor, NotPermitted, Registry, ValidationFailed
from sync.scope import ScopeCache
from sync.store import Store, StoredRecord


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Resolution:
    """A closed conflict: its new data and the conflicted record's version afterwards."""

    conflict_id: str
    conflict: dict[str, Any]
    conflict_version: int
    record_version: int
    patient_id: str


def resolve_conflict(
    store: Store,
    registry: Registry,
    actor: Actor,
    conflict_id: str,
    resolution: str,
    value: Any = MISSING,
) -> Resolution:
    """Close a conflict inside the caller's write transaction.

    Raises ``NotPermitted`` (404), ``ValidationFailed`` (422: bad resolution or value,
    or the value fails the entity's validation) and ``ConflictAlreadyResolved`` (409).
    """
    conflict = store.get_record(CONFLICT, conflict_id)
    scope = ScopeCache(store, registry, actor)
    if conflict is None or conflict.deleted:
        raise NotPermitted()
    if actor.role != SYSTEM_ROLE and not (
        scope.can_see(conflict.patient_id) and may_see(actor, conflict.data)
    ):
        raise NotPermitted()
    data = conflict.data
    if data.get("status") == "resolved":
        raise ConflictAlreadyResolved()
    if resolution not in RESOLUTIONS:
        raise ValidationFailed({"resolution": [f"Must be one of: {', '.join(RESOLUTIONS)}."]})
    if (resolution == "custom") != (value is not MISSING):
        raise ValidationFailed({"value": ["Required for custom, and only for custom."]})
    target = store.get_record(data["entity"], data["record_id"])
    if target is None:
        raise NotPermitted()
    field = data["field"]
    if resolution == "kept_server":
        resolved_value = _current_value(target, field)
    else:
        chosen = data["client_value"] if resolution == "took_client" else value
        if field == RECORD_FIELD:
            _apply_record_choice(store, registry, actor, scope, target, chosen)
        else:
            if target.deleted:
                raise ValidationFailed(
                    {"resolution": ["The record was deleted since; only kept_server applies."]}
                )
            mutation = Mutation(target.entity, target.id, "update", {field: chosen}, None)
            apply_mutation(store, registry, actor, mutation, scope=scope)
        after = store.get_record(target.entity, target.id)
        assert after is not None
        target, resolved_value = after, _current_value(after, field)
    closing = {
        "status": "resolved",
        "resolution": resolution,
        "resolved_value": resolved_value,
        "resolved_by": actor.user_id,
        "resolved_at": store.now(),
    }
    result = apply_mutation(
        store,
        registry,
        SYSTEM,
        Mutation(CONFLICT, conflict_id, "update", closing, None),
        origin=actor,
        scope=scope,
    )
    assert result.version is not None
    return Resolution(
        conflict_id, {**data, **closing}, result.version, target.version, conflict.patient_id
    )


def _current_value(record: StoredRecord, field: str) -> Any:
    if field == RECORD_FIELD:
        return None if record.deleted else record.data
    return record.data.get(field)


def _apply_record_choice(
    store: Store,
    registry: Registry,
    actor: Actor,
    scope: ScopeCache,
    target: StoredRecord,
    chosen: Any,
) -> None:
    """Make the record deleted (``None``) or live with these fields (an object)."""
    if chosen is None:
        if not target.deleted:
            mutation = Mutation(target.entity, target.id, "delete", {}, None)
            apply_mutation(store, registry, actor, mutation, scope=scope)
        return
    if not isinstance(chosen, dict):
        raise ValidationFailed(
            {"value": ["Must be the record's fields (an object) or null (deleted)."]}
        )
    # Only fields that differ: the rest (derived fields included) stay as stored.
    fields = {k: v for k, v in chosen.items() if not same_value(target.data.get(k), v)}
    if target.deleted:
        mutation = Mutation(target.entity, target.id, RESTORE, fields, None)
    elif fields:
        mutation = Mutation(target.entity, target.id, "update", fields, None)
    else:
        return
    apply_mutation(store, registry, actor, mutation, scope=scope)
