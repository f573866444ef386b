"""Per-field conflict detection: pure functions over a record, its field stamps and an edit.

The rule (SPEC §3.2): a field the client sends conflicts when it was changed after the
client's ``base_version`` by a *different* ``client_id`` and the stored value differs
from the client's. Everything else is applied (or is already equal). Consequences:

- a device's own earlier mutations never conflict with its later ones (same client_id),
  even when several queued edits share one base_version;
- two devices setting the same value never conflict;
- ``base_version=None`` (server-side writes with no base) never conflicts;
- the server's sequence is the only clock: versions decide, client times never do.

Values are compared as JSON (``True`` is not ``1``, ``1`` equals ``1.0`` only as numbers
of the same JSON type), and a missing field equals ``null``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FieldStamp = tuple[int, str]


def same_value(a: Any, b: Any) -> bool:
    """JSON equality, strict about bool versus number."""
    if a is b:
        return True
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return _canonical(a) == _canonical(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class FieldConflict:
    """A field whose stored value wins for now; the client's value goes to a conflict."""

    field: str
    server_value: Any
    client_value: Any
    stamp: FieldStamp  # when and by which client the server value was set


@dataclass(frozen=True)
class MergePlan:
    apply: dict[str, Any]
    conflicts: tuple[FieldConflict, ...]
    unchanged: tuple[str, ...]


def changed_by_other(stamp: FieldStamp | None, base_version: int | None, client_id: str) -> bool:
    """Whether a field stamped ``stamp`` changed after ``base_version`` on another device."""
    return (
        base_version is not None
        and stamp is not None
        and stamp[0] > base_version
        and stamp[1] != client_id
    )


def plan_update(
    current: Mapping[str, Any],
    stamps: Mapping[str, FieldStamp],
    fields: Mapping[str, Any],
    base_version: int | None,
    client_id: str,
) -> MergePlan:
    """Split an edit into fields to apply, conflicting fields and already-equal fields."""
    apply: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    unchanged: list[str] = []
    for name, value in fields.items():
        stored = current.get(name)
        if same_value(stored, value):
            unchanged.append(name)
            continue
        stamp = stamps.get(name)
        if changed_by_other(stamp, base_version, client_id):
            assert stamp is not None
            conflicts.append(FieldConflict(name, stored, value, stamp))
        else:
            apply[name] = value
    return MergePlan(apply, tuple(conflicts), tuple(unchanged))


def latest_change_by_other(
    stamps: Mapping[str, FieldStamp], base_version: int | None, client_id: str
) -> FieldStamp | None:
    """The newest field change after ``base_version`` by another device, if any.

    A ``delete`` made on ``base_version`` conflicts when this is not None: someone else
    edited the record the client meant to delete.
    """
    found: FieldStamp | None = None
    for stamp in stamps.values():
        if changed_by_other(stamp, base_version, client_id):
            if found is None or stamp[0] > found[0]:
                found = stamp
    return found


def stamp_fields(
    stamps: Mapping[str, FieldStamp], names: Any, version: int, client_id: str
) -> dict[str, FieldStamp]:
    """Stamps after ``names`` changed in ``version`` by ``client_id``."""
    updated = dict(stamps)
    for name in names:
        updated[name] = (version, client_id)
    return updated
