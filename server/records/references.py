"""References between records (SPEC §2): each must exist and belong to the same patient.

A child's own ``patient_id`` is checked by the engine (an unknown or unseen patient is
"Not found"); this module checks the references *between* records, which the engine
cannot know: an addendum's and a falls assessment's visit, a goal log's and a
reminder's goal. A reference to a record that does not exist, is deleted or belongs to
another patient gets the same field error, so nothing about other patients leaks.
The references are declared on the entities (``EntityType.references``, from
server/records/entities.py). It runs as an ``after_apply`` hook, so a refused reference rolls the
write back.
"""

from __future__ import annotations

from typing import Any

from sync.registry import ValidationFailed

MESSAGES = {
    "visit": "No such visit for this patient.",
    "goal": "No such goal for this patient.",
}


def check_references(ctx: Any, change: Any) -> None:
    """Refuse a new or changed reference to a record not of the same patient."""
    errors: dict[str, list[str]] = {}
    for name, target in ctx.registry.entities[change.entity].references.items():
        value = change.data.get(name)
        if value is None or name not in change.changed_fields:
            continue
        found = ctx.store.get_record(target, str(value))
        if found is None or found.deleted or found.patient_id != change.patient_id:
            errors[name] = [MESSAGES[target]]
    if errors:
        raise ValidationFailed(errors)

