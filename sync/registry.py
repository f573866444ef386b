"""The entity registry: how the sync engine learns what it stores, without knowing Flask.

The server describes each synced entity once (an :class:`EntityType`) and registers it.
The engine calls back into these descriptions for validation, permissions, redaction
and derived fields; it never hard-codes an entity name except its own ``conflict``.

Invariants:
- every synced record belongs to exactly one patient (``patient_id_of``); scope and
  evictions are computed per patient;
- callbacks are pure with respect to the store except ``after_apply`` hooks, which run
  inside the push transaction and may write server-made records through the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Record = dict[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who is making a request: a user on one device (``client_id``)."""

    user_id: str
    role: str  # nurse | coordinator | patient | carer | admin | system
    client_id: str
    team_ids: frozenset[str] = frozenset()


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
# after_apply(ctx, change) runs in the push transaction after a record is written.
AfterApply = Callable[[Any, Any], None]


def _no_derive(_: Record) -> Record:
    return {}


def _show_all(_: Actor, data: Record) -> Record | None:
    return data


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
    after_apply: tuple[AfterApply, ...] = ()

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

    def register(self, entity: EntityType) -> None:
        if entity.name in self.entities:
            raise ValueError(f"entity {entity.name!r} registered twice")
        self.entities[entity.name] = entity

    def get(self, name: str) -> EntityType | None:
        return self.entities.get(name)

    def names(self) -> Iterable[str]:
        return self.entities.keys()
