"""The registry of synced entities: the server's rules, handed to the sync engine.

Each clinical entity of SPEC §2 is registered once with its validation
(``server/records/schemas/records.py``), permissions and redaction
(``server/records/permissions.py``), server-computed fields (``derive``), hooks, the
fields the store indexes (``INDEXED``) and the references between records
(``REFERENCES``). Every applied change, from any path, is audited in the same
transaction (``audit_change``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from server.clock import utcnow
from server.escalation import rules as escalation
from server.records import access, permissions, references
from server.records.schemas import records as record_schemas
from server.services import audit
from sync.registry import EntityType, IndexedField, Registry, ValidationFailed

SERVER_ONLY = frozenset({"escalation"})
# Fields staff may change on server-made records (SPEC §2: "only the status fields").
CLIENT_FIELDS = {"escalation": record_schemas.ESCALATION_CLIENT_FIELDS}
ENTITIES = (
    "patient", "carer_link", "visit", "visit_addendum", "falls_assessment",
    "activation_score", "goal", "goal_log", "self_report", "reminder", "escalation",
)
# Changes to these can change which patients someone sees.
SCOPE_ENTITIES = frozenset({"patient", "carer_link"})
# Fields the server looks records up by (the store indexes them): the staff scope query
# (live patients of a team), NHS number uniqueness, a carer's links.
INDEXED: dict[str, tuple[IndexedField, ...]] = {
    "patient": (IndexedField("team_id", live_only=True, label="team"),
                IndexedField("nhs_number")),
    "carer_link": (IndexedField("carer_user_id", label="carer"),),
}
# References between records (field -> entity it points at), checked by
# server/records/references.py: each must exist and belong to the same patient (SPEC §2).
REFERENCES: dict[str, dict[str, str]] = {
    "visit_addendum": {"visit_id": "visit"},
    "falls_assessment": {"visit_id": "visit"},
    "goal_log": {"goal_id": "goal"},
    "reminder": {"goal_id": "goal"},
}


def check_nhs_number_unique(ctx: Any, change: Any) -> None:
    """NHS numbers are unique among live patients (SPEC §2)."""
    number = change.data.get("nhs_number")
    if change.deleted or not number or "nhs_number" not in change.changed_fields:
        return
    if access.nhs_number_taken(ctx.store.unit, number, exclude_id=change.id):
        raise ValidationFailed({"nhs_number": [record_schemas.MSG["nhs_taken"]]})


def check_carer_link_allowed(ctx: Any, change: Any) -> None:
    """No carer link may be active while the patient objects to sharing (SPEC §1)."""
    if change.deleted or not change.data.get("active"):
        return
    patient = access.patient_data(ctx.store.unit, change.patient_id)
    if patient and patient.get("sharing_objection"):
        raise ValidationFailed({"active": ["The patient objects to sharing with carers."]})


def audit_change(ctx: Any, change: Any) -> None:
    """One audit row per written version, attributed to whoever caused it."""
    audit.record(
        ctx.store.unit,
        change.origin,
        change.op,
        entity=change.entity,
        record_id=change.id,
        patient_id=change.patient_id,
        detail={"version": change.version, "fields": sorted(change.changed_fields),
                "by": change.actor.role if change.actor.role == "system" else None},
    )


def audit_unchanged(ctx: Any, change: Any) -> None:
    """An edit that matched the stored values: written nothing, but asked — audited."""
    audit.record(
        ctx.store.unit,
        change.origin,
        "update_unchanged",
        entity=change.entity,
        record_id=change.id,
        patient_id=change.patient_id,
        detail={"version": change.version},
    )


BUILTIN_AFTER_APPLY: dict[str, tuple[Callable[[Any, Any], None], ...]] = {
    "patient": (check_nhs_number_unique,),
    "carer_link": (check_carer_link_allowed,),
    **escalation.HOOKS,  # SPEC §5 rules fired on apply
}


def uuid_errors(record_id: str) -> list[str]:
    """Record ids are UUID strings made by the client (SPEC §2)."""
    try:
        canonical = len(record_id) == 36 and bool(uuid.UUID(record_id))
    except ValueError:
        canonical = False
    return [] if canonical else ["Must be a UUID."]


def build_registry(falls_thresholds: dict[str, Any] | None = None) -> Registry:
    """Every entity with its rules; ``falls_thresholds`` overrides the instrument's."""
    registry = Registry(scope=access.AccessScope(), scope_entities=SCOPE_ENTITIES,
                        record_id_errors=uuid_errors, audiences=permissions.AUDIENCES,
                        views_key=permissions.VIEWS_KEY)
    for name in ENTITIES:
        # References first: no other hook (escalation rules) acts on a refused change.
        hooks = (
            ((references.check_references,) if name in REFERENCES else ())
            + BUILTIN_AFTER_APPLY.get(name, ())
        )
        registry.register(
            EntityType(
                name=name,
                validate=record_schemas.validator_for(name, clock=utcnow),
                authorize=permissions.authorize(name),
                patient_field=None if name == "patient" else "patient_id",
                append_only=name in record_schemas.APPEND_ONLY,
                server_only=name in SERVER_ONLY,
                client_fields=CLIENT_FIELDS.get(name, frozenset()),
                derive=record_schemas.deriver_for(name, falls_thresholds=falls_thresholds),
                redact=permissions.redact(name),
                view=permissions.view(name),
                personal=name in permissions.PERSONAL,
                after_apply=hooks,
                references=REFERENCES.get(name, {}),
                indexed=INDEXED.get(name, ()),
            )
        )
    registry.on_change.append(audit_change)
    registry.on_unchanged.append(audit_unchanged)
    return registry
