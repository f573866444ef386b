"""The audit log's interface: append-only rows of who read or changed which patient's
data (SPEC §1, §7); each backend implements it (storage/<backend>/audit.py).

Rows are never updated or deleted (the SQLite backend's triggers refuse it), and this
interface has no way to: appending and listing are all there is. ``detail`` is small
JSON of machine values (fields changed, counts), never clinical free text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

# An audit row's fields besides its id, in the order backends store and list them.
COLUMNS = ("at", "user_id", "role", "client_id", "action", "entity", "record_id",
           "patient_id", "detail")


class AuditEntry(NamedTuple):
    """One row to append; ``at`` is the server's time (ISO 8601 UTC).

    A named tuple, not a frozen dataclass: a pull makes one per patient it returns, and a
    frozen dataclass's ``__init__`` costs several times as much.
    """

    at: str
    action: str
    user_id: str | None = None
    role: str | None = None
    client_id: str | None = None
    entity: str | None = None
    record_id: str | None = None
    patient_id: str | None = None
    detail: Mapping[str, Any] | None = None

    def values(self) -> tuple[Any, ...]:
        """The values of :data:`COLUMNS`, ``detail`` as JSON text (None when empty)."""
        detail = json.dumps(dict(self.detail), sort_keys=True) if self.detail else None
        return (self.at, self.user_id, self.role, self.client_id, self.action, self.entity,
                self.record_id, self.patient_id, detail)


def entry_filters(patient_id: str | None, user_id: str | None,
                  before_id: int | None) -> list[tuple[str, Any]]:
    """The conditions of :meth:`Audit.entries` as (``column op``, value) pairs; a backend
    adds its placeholder to each and joins them with AND."""
    given = (("patient_id =", patient_id), ("user_id =", user_id), ("id <", before_id))
    return [(condition, value) for condition, value in given if value is not None]


class Audit(Protocol):
    def append(self, entries: Iterable[AuditEntry]) -> None:
        """Append these rows, in order (ids increase in append order)."""
        ...

    def append_each_patient(self, entry: AuditEntry, patient_ids: Sequence[str]) -> None:
        """Append one row per patient id, in the order given: ``entry`` with that
        ``patient_id`` (a pull's reads: one statement, however many patients)."""
        ...

    def entries(
        self,
        *,
        patient_id: str | None = None,
        user_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Rows matching every filter given, newest first (highest id first), at most
        ``limit``; page with ``before_id`` (the last id seen). Each row is a dict of
        ``id, at, user_id, role, client_id, action, entity, record_id, patient_id,
        detail`` with ``detail`` decoded (None when empty)."""
        ...
