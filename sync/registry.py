"""The entity registry: how the sync engine learns what it stores, without knowing Flask.

The server describes each synced entity once (an :class:`EntityType`) and registers it.
The engine calls back into these descriptions for validation, permissions, redaction
and derived fields; it never hard-codes an entity name except its own ``conflict``.

Invariants:
- every synced record belongs to exactly one patient (``patient_id_of``); scope and
  evictions are computed per patient;
- callbacks are pure with respect to the store except ``after_apply`` hooks and the
  registry-wide ``on_change`` hooks, which run inside the write transaction after a
  record is written; they may write server-made records through ``ctx.apply(...)``
  (as :data:`SYSTEM`) or their own rows (the server's audit log) through ``ctx.store``;
- the name ``conflict`` is reserved for the engine's own entity (sync/conflicts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.store import RecordIndex

Record = dict[str, Any]
# The only fields an append-only record's one later version may set (voiding it).
VOID_FIELDS = frozenset({"entered_in_error", "void_reason"})


@dataclass(frozen=True)
class Actor:
    """Who is making a request: a user on one device (``client_id``)."""

    user_id: str
    role: str  # nurse | coordinator | patient | carer | admin | system
    client_id: str
    team_ids: frozenset[str] = frozenset()


SYSTEM_ROLE = "system"
# The actor for records the server makes itself (escalations, conflicts, resolutions'
# bookkeeping). It bypasses patient scope and may write server-only entities.
SYSTEM = Actor(user_id="system", role=SYSTEM_ROLE, client_id="server")
# The engine's own entity; a registry may not register it.
CONFLICT_ENTITY = "conflict"


class ValidationFailed(Exception):
    """A mutation's fields are invalid; ``errors`` maps field name to messages."""

    def __init__(self, errors: Mapping[str, Any]):
        super().__init__("validation failed")
        self.errors = dict(errors)


class NotPermitted(Exception):
    """The actor may not make this change (answered as 'rejected', never leaking existence)."""

    def __init__(self, errors: Mapping[str, Any] | None = None):
        super().__init__("not permitted")
        self.errors = dict(errors or {"id": ["Not found."]})


class ScopePolicy(Protocol):
    """Server-provided answer to "which patients may this actor see"."""

    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]: ...


# validate(actor, op, current, fields) -> cleaned fields; raises ValidationFailed.
# ``current`` is the stored record (None on create); ``fields`` only the changed fields.
Validator = Callable[[Actor, str, Record | None, Record], Record]
# authorize(actor, op, current, merged) raises NotPermitted.  ``merged`` = current + fields.
Authorizer = Callable[[Actor, str, Record | None, Record], None]
# derive(merged) -> server-computed fields (e.g. falls risk_level) merged over the record.
Deriver = Callable[[Record], Record]
# redact(actor, data) -> the fields this actor may see, or None if the record is hidden.
Redactor = Callable[[Actor, Record], Record | None]
# view(audience, data) -> what every actor of that audience sees, or None if hidden.
AudienceView = Callable[[str, Record], Record | None]
# after_apply(ctx, change) runs in the push transaction after a record is written.
# ctx is a sync.apply.ApplyContext, change a sync.apply.Change.
AfterApply = Callable[[Any, Any], None]
# on_change(ctx, change): the same call, for every applied change of every entity
# (including the engine's conflicts and server-made records); the server audits here.
OnChange = Callable[[Any, Any], None]


def _no_derive(_: Record) -> Record:
    return {}


def _show_all(_: Actor, data: Record) -> Record | None:
    return data


def _any_id(_: str) -> list[str]:
    return []


@dataclass(frozen=True)
class IndexedField:
    """A data field the server looks an entity's records up by: the store indexes it."""

    field: str
    # Index live records only (lookups that never want tombstones).
    live_only: bool = False
    # The short name in the index's name (default: the field's).
    label: str | None = None


@dataclass(frozen=True)
class EntityType:
    """One synced entity: its name and the server's rules for it."""

    name: str
    validate: Validator
    authorize: Authorizer
    # Field holding the patient id; None means the record's own id is the patient id.
    patient_field: str | None = "patient_id"
    # Append-only records are created once, then only voided once
    # (entered_in_error + void_reason); never deleted or otherwise edited.
    append_only: bool = False
    # Server-only records are created by the server; clients may only update
    # the fields listed in ``client_fields`` (e.g. an escalation's status).
    server_only: bool = False
    client_fields: frozenset[str] = frozenset()
    derive: Deriver = _no_derive
    redact: Redactor = _show_all
    # What each audience (``Registry.audiences``) sees, stored with each version so pulls
    # splice it instead of decoding and redacting: for an actor whose role maps to
    # audience A, ``redact(actor, data)`` must equal ``view(A, data)``, unless
    # ``personal``. None: not declared (pulls decode and redact this entity's records).
    view: AudienceView | None = None
    # ``redact`` also depends on who the actor is within its audience (a carer's own
    # link, a conflict's authors): pulls decode and redact these records.
    personal: bool = False
    after_apply: tuple[AfterApply, ...] = ()
    # Fields holding the id of another record (field -> that record's entity): it must
    # exist, be live and belong to the same patient (the server's reference check).
    references: Mapping[str, str] = field(default_factory=dict)
    indexed: tuple[IndexedField, ...] = ()

    def patient_id_of(self, record_id: str, data: Record) -> str | None:
        if self.patient_field is None:
            return record_id
        value = data.get(self.patient_field)
        return str(value) if value is not None else None


@dataclass
class Registry:
    """The set of entities the engine syncs, plus the server's scope policy."""

    scope: ScopePolicy
    entities: dict[str, EntityType] = field(default_factory=dict)
    # Called for every applied change, inside the write transaction, before after_apply.
    on_change: list[OnChange] = field(default_factory=list)
    # Called for an accepted edit whose values all equal the stored ones (nothing is
    # written; ``change.changed_fields`` is empty): asking is itself worth auditing.
    on_unchanged: list[OnChange] = field(default_factory=list)
    # Entities whose changes can change who sees which patient (a patient's team_id, a
    # carer_link). A push re-asks ``scope.visible_patient_ids`` after a change to one of
    # them; None means "any entity may", which is always correct but slower.
    scope_entities: frozenset[str] | None = None
    # What is wrong with the id of a record being created (the server wants UUIDs).
    record_id_errors: Callable[[str], list[str]] = _any_id
    # Role -> the audience (one of sync.store.AUDIENCES) whose stored views its pulls use;
    # a role not listed (admin) is redacted record by record.
    audiences: Mapping[str, str] = field(default_factory=dict)
    # Names the rules the stored views are made under (change it when ``view`` or
    # ``audiences`` change): rows made under another key are redacted record by record
    # until ``sync.refresh_views`` remakes them. None: no stored views at all.
    views_key: str | None = None

    def register(self, entity: EntityType) -> None:
        if entity.name == CONFLICT_ENTITY:
            raise ValueError(f"entity name {CONFLICT_ENTITY!r} is reserved for the engine")
        if entity.name in self.entities:
            raise ValueError(f"entity {entity.name!r} registered twice")
        self.entities[entity.name] = entity

    def get(self, name: str) -> EntityType | None:
        return self.entities.get(name)

    def indexes(self) -> list[RecordIndex]:
        """The record-field indexes every entity declares, named
        ``records_[live_]<entity>_<label or field>`` (for ``Store.ensure_indexes``)."""
        found = []
        for entity in self.entities.values():
            for indexed in entity.indexed:
                live = "live_" if indexed.live_only else ""
                name = f"records_{live}{entity.name}_{indexed.label or indexed.field}"
                found.append(RecordIndex(name, entity.name, indexed.field, indexed.live_only))
        return found

    def affects_scope(self, entity: str) -> bool:
        """Whether a change to ``entity`` may change ``scope.visible_patient_ids``."""
        if entity == CONFLICT_ENTITY:
            return False
        return self.scope_entities is None or entity in self.scope_entities
