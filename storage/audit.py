"""The audit log's interface: append-only rows of who read or changed which patient's
data (SPEC §1, §7); each backend implements it (storage/<backend>/audit.py).

Rows are never updated or deleted (the SQLite backend's triggers refuse it), and this
interface has no way to: appending and listing are all there is. ``detail`` is small
JSON of machine values (fields changed, counts), never clinical free text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class AuditEntry:
    """One row to append; ``at`` is the server's time (ISO 8601 UTC)."""

    at: str
    action: str
    user_id: str | None = None
    role: str | None = None
    client_id: str | None = None
    entity: str | None = None
    record_id: str | None = None
    patient_id: str | None = None
    detail: Mapping[str, Any] | None = None


class Audit(Protocol):
    def append(self, entries: Iterable[AuditEntry]) -> None:
        """Append these rows, in order (ids increase in append order)."""
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
