"""Recording conflicts (SPEC §3.4) for the write path in apply.py.

A field or record-level conflict keeps the server's value and writes a ``conflict``
record (the engine's own entity, as the system actor, in the same transaction) naming
the base, server and client values and both authors.
"""

from __future__ import annotations

import uuid
from typing import Any

from sync.conflict_entity import CONFLICT, RECORD_FIELD, conflict_fields
from sync.merge import FieldStamp
from sync.protocol import Mutation
from sync.registry import SYSTEM, Actor, Record, Registry
from sync.scope import ScopeCache
from sync.store import Store, StoredRecord


class ConflictRecorder:
    """Mixin for apply.py's ``_Run``: the conflict records of one mutation."""

    store: Store
    registry: Registry
    actor: Actor
    origin: Actor
    scope: ScopeCache

    def author_of(self, current: StoredRecord, version: int) -> str | None:
        entry = self.store.history_entry(current.entity, current.id, version)
        return entry.author_id if entry else None

    def base_data(self, current: StoredRecord, base: int | None) -> Record | None:
        if not base:
            return None
        entry = self.store.history_entry(current.entity, current.id, base)
        return None if entry is None or entry.deleted else entry.data

    def field_conflict(
        self,
        current: StoredRecord,
        mutation: Mutation,
        base: int | None,
        field: str,
        server_value: Any,
        client_value: Any,
        stamp: FieldStamp,
    ) -> str:
        base_data = self.base_data(current, base)
        return self.new_conflict(
            current,
            mutation,
            base,
            field,
            base_data.get(field) if base_data is not None else None,
            server_value,
            client_value,
            self.author_of(current, stamp[0]),
        )

    def record_conflict(
        self,
        current: StoredRecord,
        mutation: Mutation,
        base: int | None,
        server_value: Record | None,
        client_value: Record | None,
        server_change_version: int,
    ) -> str:
        return self.new_conflict(
            current,
            mutation,
            base,
            RECORD_FIELD,
            self.base_data(current, base),
            server_value,
            client_value,
            self.author_of(current, server_change_version),
        )

    def new_conflict(
        self,
        current: StoredRecord,
        mutation: Mutation,
        base: int | None,
        field: str,
        base_value: Any,
        server_value: Any,
        client_value: Any,
        server_author_id: str | None,
    ) -> str:
        conflict_id = str(uuid.uuid4())
        fields = conflict_fields(
            entity=current.entity,
            record_id=current.id,
            patient_id=current.patient_id,
            field=field,
            base_value=base_value,
            server_value=server_value,
            client_value=client_value,
            base_version=base,
            server_version=current.version,
            client=self.actor,
            mutation_id=mutation.mutation_id,
            server_author_id=server_author_id,
            created_at=self.store.now(),
        )
        from sync.apply import apply_mutation  # apply.py builds on this module

        apply_mutation(
            self.store,
            self.registry,
            SYSTEM,
            Mutation(CONFLICT, conflict_id, "create", fields),
            origin=self.origin,
            scope=self.scope,
        )
        return conflict_id
