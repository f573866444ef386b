"""Validation of every synced clinical record, and the fields the server computes.

The sync registry calls, per mutation (see docs/data-dictionary.md for the wiring):

- :func:`validate_fields` — cleaned, JSON-ready field values, or
  :class:`sync.registry.ValidationFailed` with per-field messages a nurse understands;
- :func:`derive` — server-computed fields over the merged record (falls risk, PAM level).

Invariants:
- unknown fields, wrong types and out-of-range values are refused; a create carries
  every required field; an update carries only changed fields, and the record they
  make when merged over the stored one (``current``) must still be valid;
- ``id``, ``version``, ``deleted``, ``updated_at`` and every server-computed field are
  never accepted from a device; computed fields come from :func:`derive` and server
  stamps (``signed_by``, escalation ``acknowledged_by/at``, ``resolved_by/at``) from
  :func:`server_stamps`, both from the actor and clock the server trusts;
- a value equal to the stored one is not a change: re-sending a record unchanged
  never trips the immutability rules below;
- a signed visit (stored ``signed_at``) never changes again and is never deleted:
  corrections are addenda;
- a patient is never deleted by a device (only the server's own writes may): their
  clinical records stay, and so does their NHS number's registration;
- append-only records (addendum, falls assessment, activation score, goal log, self
  report) may after creation only be voided, once: ``entered_in_error: true`` with a
  non-empty ``void_reason``; they are never deleted;
- escalations are made by the server; devices change only ``status`` (forward: open →
  acknowledged → resolved, resolving needs a ``resolution_note``) and the note;
- NHS number uniqueness among live patients needs the database: the caller passes
  ``nhs_number_exists(nhs_number, exclude_id) -> bool``; it is asked only when a
  patient's number is new or changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from marshmallow import ValidationError

from server.clinical import activation, falls, instruments
from server.records.schemas.derived import derive, deriver_for
from server.records.schemas.derived import fail as _fail
from server.records.schemas.record_fields import to_utc_text
from server.records.schemas.record_schemas import SCHEMAS
from sync.registry import VOID_FIELDS

__all__ = ["derive", "deriver_for", "server_stamps", "validate_fields", "validator_for"]

Record = dict[str, Any]
NhsNumberExists = Callable[[str, str | None], bool]

OPS = ("create", "update", "delete")
RESERVED = frozenset({"id", "version", "deleted", "updated_at"})
APPEND_ONLY = frozenset({"visit_addendum", "falls_assessment", "activation_score",
                         "goal_log", "self_report"})
# Filled by derive() or server_stamps(); a device can never set them.
COMPUTED: dict[str, frozenset[str]] = {
    "falls_assessment": frozenset({"risk_level", "reasons", "recommended_actions",
                                   "fes_i_band", "rules_version"}),
    "activation_score": frozenset({"level", "level_mismatch"}),
    "visit": frozenset({"signed_by"}),
}
ESCALATION_CLIENT_FIELDS = frozenset({"status", "resolution_note"})
ESCALATION_FORWARD = {"open": {"open", "acknowledged", "resolved"},
                      "acknowledged": {"acknowledged", "resolved"},
                      "resolved": {"resolved"}}
SIGNABLE_STATUSES = ("completed", "no_access", "cancelled")
# Which record a child belongs to never changes: moving it would move it between scopes.
FIXED_AFTER_CREATE: dict[str, frozenset[str]] = {
    "carer_link": frozenset({"patient_id", "carer_user_id"}),
    "visit": frozenset({"patient_id"}),
    "goal": frozenset({"patient_id"}),
    "reminder": frozenset({"patient_id"}),
    "escalation": frozenset({"patient_id", "team_id", "rule", "source_entity", "source_id"}),
}
DEFAULTS: dict[str, Record] = {
    "patient": {"sex": "unknown", "risk_profiling_opt_out": False,
                "sharing_objection": False},
    "carer_link": {"active": True},
    "visit": {"status": "scheduled", "interventions": []},
    "goal": {"status": "active"},
    "reminder": {"timezone": "Europe/London", "active": True, "body": ""},
    "escalation": {"status": "open", "occurrences": 1},
    **{entity: {"entered_in_error": False} for entity in APPEND_ONLY},
}

MSG = {
    "entity": "Doorstep does not keep records of this kind.",
    "op": "The operation must be create, update or delete.",
    "fields": "Send the record's fields as a JSON object.",
    "reserved": "Set by the server; a device cannot send it.",
    "computed": "Calculated by Doorstep; it cannot be set from a device.",
    "fixed": "Cannot be changed once the record is saved; record a new one instead.",
    "signed": "This visit was signed ({signed_at}) and can no longer be changed. "
              "Add an addendum to correct it or add to it.",
    "append_only": "This record cannot be edited once saved. If it is wrong, mark it "
                   "entered in error with a reason, then record it again.",
    "append_only_delete": "This record cannot be deleted. If it is wrong, mark it entered "
                          "in error with a reason.",
    "already_void": "This record was already marked entered in error.",
    "void_true": "Can only be set to true: a record marked entered in error stays so.",
    "void_reason": "Give the reason this record was entered in error.",
    "void_with_reason": "Set entered in error to true together with the reason.",
    "escalation_create": "Escalations are raised by Doorstep, not created on a device.",
    "escalation_field": "Only the status and resolution note of an escalation can be "
                        "changed.",
    "escalation_delete": "Escalations cannot be deleted; resolve them with a note.",
    "escalation_back": "An escalation moves forward only (open, acknowledged, resolved); "
                       "it is {current}. A new event raises a new escalation.",
    "resolution_note": "Say what was done before resolving the escalation.",
    "signed_delete": "A signed visit cannot be deleted. Add an addendum instead.",
    "patient_delete": "Patients are never deleted: their clinical records must stay. To "
                      "take a patient off this caseload, move them to another team.",
    "sign_status": "A visit can be signed once it is completed, no access or cancelled "
                   "(it is {status}).",
    "end_before_start": "The end must be at or after the start ({start}).",
    "date_before_start": "Must be on or after the start date ({start}).",
    "future_birth": "The date of birth cannot be in the future.",
    "old_birth": "Check the date of birth: it is before 1880.",
    # Says nothing of whose caseload the patient is on: the caller may not see it.
    "nhs_taken": "This NHS number is already registered. Ask your team's co-ordinator or "
                 "the Doorstep administrator to find the patient's record.",
}


def validate_fields(entity: str, op: str, current: Record | None, fields: Any, *,
                    actor_id: str | None = None, now: datetime | None = None,
                    trusted: bool | None = None,
                    nhs_number_exists: NhsNumberExists | None = None) -> Record:
    """Cleaned, JSON-ready ``fields`` for one mutation; raises ``ValidationFailed``.

    ``current`` is the stored record (None when there is none: creation rules apply).
    ``actor_id`` (and ``now``, default the wall clock) add :func:`server_stamps`.
    ``trusted``: True for the server's own writes, False for a device's (then only an
    escalation's status fields may be sent, and never a new escalation), None when the
    caller enforces that itself (the engine does, from ``EntityType.server_only`` and
    ``client_fields``).
    """
    schema_type = SCHEMAS.get(entity)
    if schema_type is None:
        raise _fail({"entity": MSG["entity"]})
    if op not in OPS:
        raise _fail({"op": MSG["op"]})
    if not isinstance(fields, Mapping):
        raise _fail({"fields": MSG["fields"]})
    moment = now or datetime.now(UTC)
    _refuse_protected(entity, current, fields, trusted)
    if op == "delete":
        _check_delete(entity, current, trusted)
        return {}
    creating = current is None
    raw = dict(fields)
    if creating:
        # null for a field that has a default means "not given": devices may send
        # every field of a new record, empty ones as null.
        defaults = {**DEFAULTS.get(entity, {}), **_creation_defaults(entity)}
        raw = {k: v for k, v in raw.items() if not (v is None and k in defaults)}
    try:
        cleaned: Record = _schema(entity).load(raw, partial=not creating)
    except ValidationError as exc:
        _refuse_if_locked(entity, current, raw)
        raise _fail(_as_field_errors(exc.messages)) from exc
    if creating:
        cleaned = {**DEFAULTS.get(entity, {}), **_creation_defaults(entity), **cleaned}
        before: Record = {}
    else:
        before = dict(current or {})
    changed = {k: v for k, v in cleaned.items() if k not in before or before[k] != v}
    if not creating:
        _refuse_if_locked(entity, before, changed)
        _check_lifecycle(entity, before, changed, trusted)
    merged = {**before, **cleaned}
    errors = _merged_problems(entity, merged, changed, moment)
    if errors:
        raise _fail(errors)
    if entity == "patient" and "nhs_number" in changed and nhs_number_exists is not None:
        if nhs_number_exists(changed["nhs_number"], before.get("id")):
            raise _fail({"nhs_number": MSG["nhs_taken"]})
    if actor_id is not None:
        cleaned.update(server_stamps(entity, current, cleaned, actor_id, moment))
    return cleaned


@cache
def _schema(entity: str) -> Any:
    # One instance per entity: building a marshmallow schema costs more than loading
    # with it, and ``load`` keeps no state between calls (``partial`` is per call).
    return SCHEMAS[entity]()


def _as_field_errors(messages: Any) -> dict[str, list[str]]:
    if isinstance(messages, Mapping):
        return {k: v if isinstance(v, list) else [str(v)] for k, v in messages.items()}
    return {"fields": [str(m) for m in messages]}


def _creation_defaults(entity: str) -> Record:
    if entity == "falls_assessment":
        spec = instruments.load("falls")["multifactorial"]
        return {"multifactorial": {domain: "not_assessed" for domain in spec["domains"]}}
    return {}


def _refuse_protected(entity: str, current: Record | None, fields: Mapping[str, Any],
                      trusted: bool | None) -> None:
    device = trusted is False
    errors: dict[str, str] = {}
    for name in fields:
        if name in RESERVED:
            errors[name] = MSG["reserved"]
        elif name in COMPUTED.get(entity, ()):
            errors[name] = MSG["computed"]
        elif entity == "escalation" and device and name not in ESCALATION_CLIENT_FIELDS:
            errors[name] = MSG["escalation_field"]
    if entity == "escalation" and device and current is None:
        errors = {"entity": MSG["escalation_create"]}
    if errors:
        raise _fail(errors)


def _check_delete(entity: str, current: Record | None, trusted: bool | None) -> None:
    # Only the server itself may delete a patient (none of its tooling does today): a
    # device's delete would hide every clinical record of the patient and free the NHS
    # number. Patients leave a caseload by a team change (SPEC §2).
    if entity == "patient" and trusted is not True:
        raise _fail({"deleted": MSG["patient_delete"]})
    if entity in APPEND_ONLY:
        raise _fail({"deleted": MSG["append_only_delete"]})
    if entity == "escalation":
        raise _fail({"deleted": MSG["escalation_delete"]})
    if entity == "visit" and current and current.get("signed_at"):
        raise _fail({"deleted": MSG["signed_delete"]})


def _refuse_if_locked(entity: str, current: Record | None, changed: Mapping[str, Any]) -> None:
    """A signed visit refuses every change; a live append-only record all but a void."""
    if not current or not changed:
        return
    if entity == "visit" and current.get("signed_at"):
        message = MSG["signed"].format(signed_at=current["signed_at"])
        raise _fail({name: message for name in changed})
    if entity in APPEND_ONLY:
        if current.get("entered_in_error"):
            raise _fail({name: MSG["already_void"] for name in changed})
        edits = {name for name in changed if name not in VOID_FIELDS}
        if edits:
            raise _fail({name: MSG["append_only"] for name in sorted(edits)})


def _check_lifecycle(entity: str, before: Record, changed: Record,
                     trusted: bool | None) -> None:
    errors: dict[str, str] = {}
    for name in FIXED_AFTER_CREATE.get(entity, ()):
        if name in changed:
            errors[name] = MSG["fixed"]
    if entity in APPEND_ONLY:
        if "entered_in_error" in changed and changed["entered_in_error"] is not True:
            errors["entered_in_error"] = MSG["void_true"]
        elif "void_reason" in changed and "entered_in_error" not in changed:
            errors["entered_in_error"] = MSG["void_with_reason"]
    if entity == "escalation" and trusted is not True and "status" in changed:
        status = before.get("status", "open")
        if changed["status"] not in ESCALATION_FORWARD.get(status, {status}):
            errors["status"] = MSG["escalation_back"].format(current=status)
    if errors:
        raise _fail(errors)


def _later(start: Any, end: Any) -> bool:
    """True when both are set and ``end`` is before ``start`` (dates or times)."""
    if not start or not end:
        return False
    if len(str(start)) == 10:
        return bool(date.fromisoformat(str(end)) < date.fromisoformat(str(start)))
    return datetime.fromisoformat(str(end)) < datetime.fromisoformat(str(start))


def _merged_problems(entity: str, merged: Record, changed: Record,
                     now: datetime) -> dict[str, str]:
    """Rules across fields, checked on the record as it will be stored."""
    errors: dict[str, str] = {}
    if entity == "visit":
        if _later(merged.get("scheduled_start"), merged.get("scheduled_end")):
            errors["scheduled_end"] = MSG["end_before_start"].format(
                start=merged["scheduled_start"])
        if _later(merged.get("started_at"), merged.get("ended_at")):
            errors["ended_at"] = MSG["end_before_start"].format(start=merged["started_at"])
        if changed.get("signed_at") and merged.get("status") not in SIGNABLE_STATUSES:
            errors["signed_at"] = MSG["sign_status"].format(status=merged.get("status"))
    elif entity == "goal":
        if _later(merged.get("start_date"), merged.get("review_date")):
            errors["review_date"] = MSG["date_before_start"].format(start=merged["start_date"])
    elif entity == "reminder":
        if _later(merged.get("start_date"), merged.get("end_date")):
            errors["end_date"] = MSG["date_before_start"].format(start=merged["start_date"])
    elif entity == "patient" and "date_of_birth" in changed:
        born = date.fromisoformat(changed["date_of_birth"])
        # A day of slack: the device may be ahead of the server's UTC date.
        if born > now.astimezone(UTC).date() + timedelta(days=1):
            errors["date_of_birth"] = MSG["future_birth"]
        elif born < date(1880, 1, 1):
            errors["date_of_birth"] = MSG["old_birth"]
    elif entity == "falls_assessment":
        errors.update(falls.answer_problems(merged))
    elif entity == "activation_score":
        problem = activation.score_problem(merged.get("score"))
        if problem:
            errors["score"] = problem
    elif entity == "escalation" and changed.get("status") == "resolved":
        if not (merged.get("resolution_note") or "").strip():
            errors["resolution_note"] = MSG["resolution_note"]
    if entity in APPEND_ONLY and merged.get("entered_in_error") and not (
            merged.get("void_reason") or "").strip():
        errors["void_reason"] = MSG["void_reason"]
    return errors


def server_stamps(entity: str, current: Record | None, cleaned: Record, actor_id: str,
                  now: datetime) -> Record:
    """Who/when fields the server records from the trusted actor and clock.

    visit: ``signed_by`` when ``signed_at`` is first set; escalation:
    ``acknowledged_by/at`` when it is acknowledged, ``resolved_by/at`` when resolved.
    """
    before = current or {}
    stamps: Record = {}
    if entity == "visit" and cleaned.get("signed_at") and not before.get("signed_at"):
        stamps["signed_by"] = actor_id
    if entity == "escalation":
        status, previous = cleaned.get("status"), before.get("status")
        if status == "acknowledged" and previous != "acknowledged":
            stamps.update(acknowledged_by=actor_id, acknowledged_at=to_utc_text(now))
        if status == "resolved" and previous != "resolved":
            stamps.update(resolved_by=actor_id, resolved_at=to_utc_text(now))
    return stamps


def validator_for(entity: str, *, clock: Callable[[], datetime] | None = None,
                  nhs_number_exists: NhsNumberExists | None = None,
                  ) -> Callable[[Any, str, Record | None, Record], Record]:
    """A ``sync.registry.Validator`` for one entity: actor id, clock and trust wired in."""

    def validate(actor: Any, op: str, current: Record | None, fields: Record) -> Record:
        return validate_fields(
            entity, op, current, fields, actor_id=actor.user_id,
            now=clock() if clock else None, trusted=actor.role == "system",
            nhs_number_exists=nhs_number_exists)

    return validate
