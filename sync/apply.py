"""The one write path: validate → authorize → derive → merge → write → hooks.

Sync pushes, REST writes and server-made records (escalations, conflicts) all change
records through :func:`apply_mutation`, inside the caller's write transaction.
Invariants:

- a record outside the actor's scope, or unknown, is "Not found" (``NotPermitted``),
  never a hint that it exists; an unknown entity is a validation error;
- a record's patient is fixed at creation (a changed patient field is refused), so
  scope and evictions can follow patients;
- ``create`` of an existing id is an ``update`` from version 0; ``update`` of a deleted
  record and ``delete`` of a record another device changed after ``base_version`` are
  record-level conflicts (never a silent resurrection or a silent drop);
- append-only entities are created once and then only voided once
  (``entered_in_error: true`` + ``void_reason``); they are never deleted;
- server-only entities are created by the system actor; others may update only the
  entity's ``client_fields``;
- an edit whose every field already holds the sent value writes nothing, but only after
  validation and permission checks passed (else it would confirm hidden values), and
  the registry's ``on_unchanged`` hooks see it (the server audits it);
- a delete is validated like any change (the registry refuses deleting a signed visit);
- each written version appends one changelog row, then runs the entity's
  registry's ``on_change`` hooks, then the entity's ``after_apply`` hooks, in the
  transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.apply_conflicts import ConflictRecorder
from sync.conflict_entity import CONFLICT, CONFLICT_TYPE
from sync.merge import FieldStamp, latest_change_by_other, plan_update, same_value, stamp_fields
from sync.protocol import Mutation, MutationResult
from sync.registry import (
    SYSTEM,
    SYSTEM_ROLE,
    VOID_FIELDS,
    Actor,
    EntityType,
    NotPermitted,
    Record,
    Registry,
    ValidationFailed,
)
from sync.scope import ScopeCache
from sync.store import NewVersion, Store, StoredRecord
from sync.versions import next_version, trusted_base
from sync.views import views_of

RESTORE = "restore"  # engine-internal op: undelete (conflict resolution only)


@dataclass(frozen=True)
class Change:
    """One written version, as hooks see it."""

    entity: str
    id: str
    version: int
    deleted: bool
    patient_id: str
    data: Record
    previous: Record | None  # data before this version; None on create
    changed_fields: tuple[str, ...]
    op: str  # create | update | delete | restore
    actor: Actor  # who wrote it (SYSTEM for server-made records)
    origin: Actor  # whose request led to it (the pushing device, the REST caller)
    mutation_id: int | None
    seq: int
    updated_at: str


@dataclass
class ApplyContext:
    """What hooks get: the store, the registry, and a way to write server-made records."""

    store: Store
    registry: Registry
    actor: Actor
    origin: Actor
    scope: ScopeCache

    def apply(self, mutation: Mutation) -> MutationResult:
        """Write a server-made change as the system actor, in the same transaction."""
        return apply_mutation(
            self.store, self.registry, SYSTEM, mutation, origin=self.origin, scope=self.scope
        )


def entity_type(registry: Registry, name: str) -> EntityType | None:
    """The registry's entity, or the engine's own ``conflict``."""
    return CONFLICT_TYPE if name == CONFLICT else registry.get(name)


def apply_mutation(
    store: Store,
    registry: Registry,
    actor: Actor,
    mutation: Mutation,
    *,
    origin: Actor | None = None,
    scope: ScopeCache | None = None,
) -> MutationResult:
    """Apply one change inside the caller's write transaction.

    Returns an ``applied`` or ``conflict`` result; raises ``ValidationFailed`` (422) or
    ``NotPermitted`` (404: unknown or out of scope) and then has written nothing unless
    a hook failed after writing — callers roll back (push uses a savepoint).
    """
    et = entity_type(registry, mutation.entity)
    if et is None:
        raise ValidationFailed({"entity": ["Unknown entity."]})
    run = _Run(store, registry, actor, origin or actor, scope or ScopeCache(store, registry, actor))
    current = store.get_record(mutation.entity, mutation.id)
    if current is not None and not run.can_see(current.patient_id):
        raise NotPermitted()
    op, base = mutation.op, mutation.base_version
    if op == "create":
        if current is None:
            return run.create(et, mutation)
        op, base = "update", 0
    if current is None:
        raise NotPermitted()
    base = trusted_base(store, current, base)
    if op == "delete":
        return run.delete(et, mutation, current, base)
    if op == RESTORE:
        return run.restore(et, mutation, current)
    if op != "update":
        raise ValidationFailed({"op": ["Must be one of: create, update, delete."]})
    return run.update(et, mutation, current, base)


class _Run(ConflictRecorder):
    """One apply_mutation call: the actor, its scope and the write helpers."""

    def __init__(
        self, store: Store, registry: Registry, actor: Actor, origin: Actor, scope: ScopeCache
    ) -> None:
        self.store, self.registry, self.actor, self.origin, self.scope = (
            store,
            registry,
            actor,
            origin,
            scope,
        )
        self.system = actor.role == SYSTEM_ROLE

    def can_see(self, patient_id: str) -> bool:
        # The scope cache may be the pushing device's (hooks share it so it is refreshed
        # after server-made changes); the system actor itself sees every patient.
        return self.system or self.scope.can_see(patient_id)

    def result(self, mutation: Mutation, version: int, conflict_ids: list[str]) -> MutationResult:
        status = "conflict" if conflict_ids else "applied"
        return MutationResult(status, mutation.mutation_id, version, tuple(conflict_ids))

    # -- operations -----------------------------------------------------------------

    def create(self, et: EntityType, mutation: Mutation) -> MutationResult:
        id_errors = self.registry.record_id_errors(mutation.id)
        if id_errors:
            raise ValidationFailed({"id": id_errors})
        if et.server_only and not self.system:
            raise ValidationFailed({"entity": ["Records of this kind are made by the server."]})
        fields = et.validate(self.actor, "create", None, dict(mutation.fields))
        patient_id = et.patient_id_of(mutation.id, fields)
        key = et.patient_field or "id"
        if patient_id is None:
            raise ValidationFailed({key: ["Required."]})
        if et.patient_field is not None and not self.can_see(patient_id):
            raise NotPermitted({key: ["Not found."]})
        et.authorize(self.actor, "create", None, fields)
        data = {**fields, **et.derive(fields)}
        version = next_version(self.store, None)
        stamps = stamp_fields({}, data, version, self.actor.client_id)
        self.write(
            et, mutation, None, version, False, patient_id, data, stamps, sorted(data), "create"
        )
        return self.result(mutation, version, [])

    def update(
        self, et: EntityType, mutation: Mutation, current: StoredRecord, base: int | None
    ) -> MutationResult:
        fields = dict(mutation.fields)
        self.check_shape(et, current, fields)
        # Checks first, shortcut after: an unchanged edit must answer exactly as a
        # changed one would, or it confirms values the actor may not see or write.
        fields = et.validate(self.actor, "update", current.data, fields)
        self.check_patient_unchanged(et, current, fields)
        et.authorize(self.actor, "update", current.data, {**current.data, **fields})
        if not current.deleted and all(
            same_value(current.data.get(k), v) for k, v in fields.items()
        ):
            self.report_unchanged(mutation, current)
            return self.result(mutation, current.version, [])
        if current.deleted:
            client_value = {**current.data, **fields}
            cid = self.record_conflict(current, mutation, base, None, client_value, current.version)
            return self.result(mutation, current.version, [cid])
        plan = plan_update(current.data, current.meta, fields, base, self.actor.client_id)
        conflict_ids = [
            self.field_conflict(
                current, mutation, base, c.field, c.server_value, c.client_value, c.stamp
            )
            for c in plan.conflicts
        ]
        version = current.version
        if plan.apply:
            version = self.write_update(
                et, mutation, current, plan.apply, deleted=False, op="update"
            )
        return self.result(mutation, version, conflict_ids)

    def delete(
        self, et: EntityType, mutation: Mutation, current: StoredRecord, base: int | None
    ) -> MutationResult:
        if et.append_only:
            raise ValidationFailed({"op": ["Append-only records are never deleted; void them."]})
        if et.server_only and not self.system:
            raise ValidationFailed({"op": ["Records of this kind are deleted by the server."]})
        et.validate(self.actor, "delete", current.data, {})
        if current.deleted:
            return self.result(mutation, current.version, [])
        et.authorize(self.actor, "delete", current.data, current.data)
        stamp = latest_change_by_other(current.meta, base, self.actor.client_id)
        if stamp is not None:
            cid = self.record_conflict(current, mutation, base, current.data, None, stamp[0])
            return self.result(mutation, current.version, [cid])
        version = next_version(self.store, current)
        self.write(
            et,
            mutation,
            current,
            version,
            True,
            current.patient_id,
            current.data,
            current.meta,
            [],
            "delete",
        )
        return self.result(mutation, version, [])

    def restore(self, et: EntityType, mutation: Mutation, current: StoredRecord) -> MutationResult:
        if not current.deleted:
            raise ValidationFailed({"op": ["The record is not deleted."]})
        fields = et.validate(self.actor, "update", current.data, dict(mutation.fields))
        self.check_patient_unchanged(et, current, fields)
        et.authorize(self.actor, "update", current.data, {**current.data, **fields})
        version = self.write_update(et, mutation, current, fields, deleted=False, op=RESTORE)
        return self.result(mutation, version, [])

    # -- rules ----------------------------------------------------------------------

    def check_shape(self, et: EntityType, current: StoredRecord, fields: Record) -> None:
        """Append-only and server-only limits, before the entity's own validation."""
        if et.server_only and not self.system:
            errors = {k: ["Set by the server only."] for k in fields if k not in et.client_fields}
            if errors:
                raise ValidationFailed(errors)
        if not et.append_only:
            return
        changed = {k: v for k, v in fields.items() if not same_value(current.data.get(k), v)}
        if not changed:
            return
        edited = sorted(set(changed) - VOID_FIELDS)
        if edited:
            message = ["Append-only records are never edited; void them instead."]
            raise ValidationFailed({k: message for k in edited})
        if current.data.get("entered_in_error") is True:
            raise ValidationFailed({"entered_in_error": ["Already voided."]})
        if fields.get("entered_in_error") is not True:
            raise ValidationFailed({"entered_in_error": ["Must be true to void a record."]})
        reason = fields.get("void_reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationFailed({"void_reason": ["Required when voiding."]})

    def check_patient_unchanged(
        self, et: EntityType, current: StoredRecord, fields: Record
    ) -> None:
        name = et.patient_field
        if name is not None and name in fields and fields[name] != current.patient_id:
            raise ValidationFailed({name: ["Cannot be changed."]})

    # -- writing --------------------------------------------------------------------

    def report_unchanged(self, mutation: Mutation, current: StoredRecord) -> None:
        """An accepted edit that wrote nothing still reaches ``on_unchanged`` (audit)."""
        change = Change(
            entity=current.entity,
            id=current.id,
            version=current.version,
            deleted=False,
            patient_id=current.patient_id,
            data=dict(current.data),
            previous=dict(current.data),
            changed_fields=(),
            op="update",
            actor=self.actor,
            origin=self.origin,
            mutation_id=mutation.mutation_id,
            seq=current.seq,
            updated_at=current.updated_at,
        )
        ctx = ApplyContext(self.store, self.registry, self.actor, self.origin, self.scope)
        for hook in self.registry.on_unchanged:
            hook(ctx, change)

    def write_update(
        self,
        et: EntityType,
        mutation: Mutation,
        current: StoredRecord,
        fields: Record,
        *,
        deleted: bool,
        op: str,
    ) -> int:
        merged = {**current.data, **fields}
        data = {**merged, **et.derive(merged)}
        changed = [k for k, v in data.items() if not same_value(current.data.get(k), v)]
        version = next_version(self.store, current)
        stamps = stamp_fields(current.meta, changed, version, self.actor.client_id)
        self.write(
            et,
            mutation,
            current,
            version,
            deleted,
            current.patient_id,
            data,
            stamps,
            changed,
            op,
        )
        return version

    def write(
        self,
        et: EntityType,
        mutation: Mutation,
        current: StoredRecord | None,
        version: int,
        deleted: bool,
        patient_id: str,
        data: Mapping[str, Any],
        stamps: Mapping[str, FieldStamp],
        changed: list[str],
        op: str,
    ) -> None:
        at = self.store.now()
        seq = self.store.write_version(
            NewVersion(
                entity=mutation.entity,
                id=mutation.id,
                version=version,
                deleted=deleted,
                patient_id=patient_id,
                data=data,
                meta=stamps,
                changed=changed,
                client_id=self.actor.client_id,
                author_id=self.actor.user_id,
                mutation_id=mutation.mutation_id,
                at=at,
                views=views_of(self.registry, et, mutation.entity, mutation.id, version,
                               deleted, at, data),
            )
        )
        self.scope.changed(mutation.entity)
        change = Change(
            entity=mutation.entity,
            id=mutation.id,
            version=version,
            deleted=deleted,
            patient_id=patient_id,
            data=dict(data),
            previous=dict(current.data) if current is not None else None,
            changed_fields=tuple(changed),
            op=op,
            actor=self.actor,
            origin=self.origin,
            mutation_id=mutation.mutation_id,
            seq=seq,
            updated_at=at,
        )
        ctx = ApplyContext(self.store, self.registry, self.actor, self.origin, self.scope)
        # on_change first, so an audit trail lists a change before what its hooks caused.
        for on_change in self.registry.on_change:
            on_change(ctx, change)
        for hook in et.after_apply:
            hook(ctx, change)
