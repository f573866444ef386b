"""Synced records for contract tests, written through the sync engine (never SQL).

A permissive registry of the entities the care-record queries read; every write is the
engine's ``apply_mutation`` as SYSTEM, in the caller's unit of work (``uow.store``).
Accounts the queries join (users, team members, devices) are not synced records: tests
that need them use the accounts repositories.
"""

from __future__ import annotations

import uuid
from typing import Any

from storage import UnitOfWork
from sync import SYSTEM, Mutation, apply_mutation
from sync.registry import Actor, EntityType, Registry

ENTITIES = ("patient", "visit", "goal", "goal_log", "reminder", "activation_score",
            "escalation", "carer_link")


class _EveryPatient:
    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]:
        return set()


def _keep(_actor: Actor, _op: str, _current: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return fields


def _allow(_actor: Actor, _op: str, _current: Any, _merged: Any) -> None:
    return None


def registry() -> Registry:
    made = Registry(scope=_EveryPatient())
    for name in ENTITIES:
        made.register(EntityType(name, _keep, _allow,
                                 patient_field=None if name == "patient" else "patient_id"))
    return made


REGISTRY = registry()


def write(uow: UnitOfWork, entity: str, fields: dict[str, Any], record_id: str | None = None,
          op: str = "create") -> str:
    """Create (or update, delete) one synced record as SYSTEM; returns its id."""
    record_id = record_id or str(uuid.uuid4())
    apply_mutation(uow.store, REGISTRY, SYSTEM,
                   Mutation(entity, record_id, op, fields, base_version=None))
    return record_id


def delete(uow: UnitOfWork, entity: str, record_id: str) -> None:
    write(uow, entity, {}, record_id, op="delete")


def patient(uow: UnitOfWork, **fields: Any) -> str:
    return write(uow, "patient", {"team_id": "team-1", "sharing_objection": False, **fields})
