"""Who may change and see what, per entity and role (SPEC §1).

``server/records/access.py`` decides which *patients* a user may see; this module decides, within
a visible patient, which records and fields each role sees (redaction) and which changes
it may make. The sync engine calls these through the registry for pushes, pulls and REST
alike, so there is one rule set for every path.

| entity | nurse / coordinator | patient (own) | carer (linked) |
| --- | --- | --- | --- |
| patient | create, update, move to own teams | read (no staff-only fields) | read demographics |
| carer_link | create, update | read | read own link |
| visit | create, update | read | read times and status only |
| visit_addendum, falls_assessment, activation_score | create, void | read | — |
| goal | create, update | create, update | read |
| goal_log, self_report | create, void | create, void | create, void |
| reminder | create, update | create, update | create, update |
| escalation | read; coordinator: status only | — | — |
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any

from sync.registry import Actor, NotPermitted, Record

STAFF = frozenset({"nurse", "coordinator"})
PUBLIC = frozenset({"patient", "carer"})

# Which roles may write each entity (scope of the patient is checked by the engine).
WRITERS: dict[str, frozenset[str]] = {
    "patient": STAFF,
    "carer_link": STAFF,
    "visit": STAFF,
    "visit_addendum": STAFF,
    "falls_assessment": STAFF,
    "activation_score": STAFF,
    "goal": STAFF | {"patient"},
    "goal_log": STAFF | PUBLIC,
    "self_report": STAFF | PUBLIC,
    "reminder": STAFF | PUBLIC,
    "escalation": frozenset({"coordinator"}),
}

# The audiences pulls keep a stored view for (sync.store.AUDIENCES): every role of an
# audience sees the same of a record, except the ``PERSONAL`` rules below.
AUDIENCES: dict[str, str] = {
    "nurse": "staff", "coordinator": "staff", "patient": "patient", "carer": "carer",
}
_ALL = frozenset({"staff", "patient", "carer"})

# Which audiences see each entity at all.
READERS: dict[str, frozenset[str]] = {
    "patient": _ALL,
    "carer_link": _ALL,
    "visit": _ALL,
    "visit_addendum": frozenset({"staff", "patient"}),
    "falls_assessment": frozenset({"staff", "patient"}),
    "activation_score": frozenset({"staff", "patient"}),
    "goal": _ALL,
    "goal_log": _ALL,
    "self_report": _ALL,
    "reminder": _ALL,
    "escalation": frozenset({"staff"}),
}

# Fields only staff see (SPEC §2: access_notes — key safe, pets, parking).
STAFF_ONLY_FIELDS: dict[str, frozenset[str]] = {
    "patient": frozenset({"access_notes"}),
}

# What a carer sees of records they may read: demographics and visit times, never
# clinical notes or assessments (SPEC §1).
CARER_FIELDS: dict[str, frozenset[str]] = {
    "patient": frozenset({
        "given_name", "family_name", "date_of_birth", "sex", "address", "postcode", "phone",
        "team_id", "gp_practice", "named_gp", "care_coordinator_id", "nhs_number",
        "sharing_objection", "risk_profiling_opt_out",
    }),
    "visit": frozenset({
        "patient_id", "assigned_to", "scheduled_start", "scheduled_end", "visit_type", "status",
    }),
}


def authorize(entity: str) -> Any:
    """The registry's ``authorize`` callback for one entity."""

    def check(actor: Actor, op: str, current: Record | None, merged: Record) -> None:
        if actor.role == "system":
            return
        if actor.role not in WRITERS.get(entity, frozenset()):
            raise NotPermitted()
        if entity == "patient":
            _check_team_move(actor, current, merged)
        if entity == "reminder" and actor.role in PUBLIC:
            _check_public_reminder(actor, merged)

    return check


def _check_team_move(actor: Actor, current: Record | None, merged: Record) -> None:
    """A patient joins (create) or moves to (update) only a team the writer is in.

    Staff belong only to teams that exist, so the team exists; the writer already sees
    the patient in its old team (else the record is not found), so a move needs
    membership of both teams and the writer keeps seeing the patient afterwards.
    """
    team_id = merged.get("team_id")
    if current is not None and team_id == current.get("team_id"):
        return
    if team_id not in actor.team_ids:
        message = "You can only add patients to, or move them into, your own teams."
        raise NotPermitted({"team_id": [message]})


def _check_public_reminder(actor: Actor, merged: Record) -> None:
    recipients = merged.get("recipient_ids") or []
    if actor.user_id not in recipients:
        raise NotPermitted({"recipient_ids": ["Include yourself as a recipient."]})


def view(entity: str) -> Callable[[str, Record], Record | None]:
    """The registry's ``view`` callback: what an audience sees of a record, or None."""
    readers = READERS.get(entity, frozenset())
    hidden = STAFF_ONLY_FIELDS.get(entity, frozenset())
    carer_fields = CARER_FIELDS.get(entity)

    def seen(audience: str, data: Record) -> Record | None:
        if audience not in readers:
            return None
        if audience == "staff":
            return data
        visible = {k: v for k, v in data.items() if k not in hidden}
        if audience == "carer" and carer_fields is not None:
            visible = {k: v for k, v in visible.items() if k in carer_fields}
        return visible

    return seen


# Entities where who the actor is matters beyond the audience: a carer sees only their
# own carer link.
PERSONAL = frozenset({"carer_link"})


def redact(entity: str) -> Any:
    """The registry's ``redact`` callback: the fields this actor may see, or None."""
    seen = view(entity)

    def redacted(actor: Actor, data: Record) -> Record | None:
        if actor.role == "system":
            return data
        audience = AUDIENCES.get(actor.role)
        if audience is None:
            return None
        if entity == "carer_link" and actor.role == "carer" and (
            data.get("carer_user_id") != actor.user_id
        ):
            return None
        return seen(audience, data)

    return redacted


def _views_key() -> str:
    """Names the rules above, so stored views made under other rules are not served."""
    rules = repr((sorted(AUDIENCES.items()),
                  sorted((k, sorted(v)) for k, v in READERS.items()),
                  sorted((k, sorted(v)) for k, v in STAFF_ONLY_FIELDS.items()),
                  sorted((k, sorted(v)) for k, v in CARER_FIELDS.items())))
    source = inspect.getsource(view) + inspect.getsource(redact)
    return hashlib.sha256((rules + source).encode()).hexdigest()[:16]


VIEWS_KEY = _views_key()
