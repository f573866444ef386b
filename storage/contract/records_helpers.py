"""Writing synced records for contract tests the way the server does: through the sync
engine (``uow.store``) with the server's registry, as the system actor. No SQL.

The registry leaves out the escalation rules (server/escalation/rules.py HOOKS): they run
their own queries (care records, the notification schedule), which the notifications'
contract tests cover per backend; tests here write the escalations those rules would.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from typing import Any

from server.escalation import rules as escalation
from server.records.entities import build_registry
from storage import Storage, UnitOfWork
from sync import SYSTEM, Mutation, apply_mutation
from sync.registry import Registry


def _without_escalation_rules(registry: Registry) -> Registry:
    for name, rules in escalation.HOOKS.items():
        entity = registry.entities[name]
        registry.entities[name] = replace(
            entity, after_apply=tuple(h for h in entity.after_apply if h not in rules))
    return registry


REGISTRY = _without_escalation_rules(build_registry())
# Modulus-11-valid NHS test numbers (999 range); a test uses far fewer than these.
_NUMBERS = itertools.cycle(
    f"99900{tail}" for tail in (
        "00018", "00026", "00034", "00042", "00050", "00069", "00077", "00085", "00093",
        "00107", "00115", "00123", "00131", "00158", "00166", "00174", "00182", "00190"))


def nhs_number() -> str:
    """The next NHS test number (unique among the next 18 calls)."""
    return next(_NUMBERS)


def write_in(uow: UnitOfWork, entity: str, fields: dict[str, Any],
             record_id: str | None = None, op: str = "create") -> str:
    record_id = record_id or str(uuid.uuid4())
    apply_mutation(uow.store, REGISTRY, SYSTEM,
                   Mutation(entity=entity, id=record_id, op=op, fields=fields,
                            base_version=None))
    return record_id


def write(storage: Storage, entity: str, fields: dict[str, Any],
          record_id: str | None = None, op: str = "create") -> str:
    with storage.write() as uow:
        return write_in(uow, entity, fields, record_id, op)


def patient(storage: Storage, team_id: str, **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "nhs_number": nhs_number(), "given_name": "Edith", "family_name": "Crawley",
        "date_of_birth": "1941-03-02", "sex": "female", "address": "4 Mill Lane, Testtown",
        "postcode": "TE1 4ST", "team_id": team_id, "complexity_tier": "moderate",
        "risk_profiling_opt_out": False, "sharing_objection": False,
    }
    fields.update(overrides)
    return write(storage, "patient", fields)


def carer_link(storage: Storage, patient_id: str, carer_id: str, *, active: bool = True) -> str:
    return write(storage, "carer_link", {
        "patient_id": patient_id, "carer_user_id": carer_id, "relationship": "son",
        "consent_basis": "patient_consent", "active": active})


def open_escalation(storage: Storage, patient_id: str, team_id: str, rule: str,
                    source_entity: str, source_id: str) -> str:
    """An open escalation as the rules raise it (server/escalation/rules.py raise_escalation)."""
    return write(storage, "escalation", {
        "patient_id": patient_id, "team_id": team_id, "rule": rule, "severity": "urgent",
        "reason": "Raised by a test.", "source_entity": source_entity,
        "source_id": source_id, "status": "open", "occurrences": 1,
        "raised_at": "2026-11-20T10:00:00.000000+00:00", "notified_at": None,
        "acknowledged_by": None, "acknowledged_at": None, "resolved_by": None,
        "resolved_at": None, "resolution_note": None})
