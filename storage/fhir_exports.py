"""FHIR Bulk Data export jobs' interface; each backend implements it
(storage/<backend>/fhir_exports.py).

A job's row is its lock: a worker owns a job only if :meth:`FhirExports.claim` moved it
to ``running`` under the worker's name, and every later write of the worker
(``heartbeat``, ``finish``, ``fail``) is conditional on still owning it, so two processes
never both run one job and a worker that lost its job finds out at its next step.
Times are ISO 8601 UTC text of fixed width, so they compare as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class NewExport:
    """What a kick-off asks for."""

    id: str
    user_id: str
    client_id: str
    team_id: str | None  # Group/{team_id}/$export; None: all the user's teams
    types: Sequence[str]
    since: str | None
    request_url: str
    base_url: str
    canonical_base: str
    created_at: str


@dataclass(frozen=True)
class FhirExport:
    """One export job as stored."""

    id: str
    user_id: str
    client_id: str
    team_id: str | None
    types: tuple[str, ...]
    since: str | None
    request_url: str
    base_url: str
    canonical_base: str
    status: str  # queued | running | done | failed | cancelled | expired
    transaction_time: str | None
    progress: str | None
    claimed_by: str | None
    heartbeat_at: str | None
    created_at: str
    finished_at: str | None


class FhirExports(Protocol):
    def create_export(self, export: NewExport) -> None:
        """Queue a new job (status ``queued``)."""
        ...

    def active_export_of(self, user_id: str) -> str | None:
        """The id of the user's queued or running job, if any."""
        ...

    def export_of(self, export_id: str, user_id: str) -> FhirExport | None:
        """The user's own job, unless cancelled or expired."""
        ...

    def export_by_id(self, export_id: str) -> FhirExport | None: ...

    def outputs(self, export_id: str) -> dict[str, int]:
        """Resource type -> count of a finished job's files, in the order written."""
        ...

    def claim(self, export_id: str, worker: str, now: str, stale_before: str) -> bool:
        """Take the job for ``worker`` if it is queued, or running with a heartbeat older
        than ``stale_before`` (its worker presumed dead); True if taken."""
        ...

    def heartbeat(self, export_id: str, worker: str, progress: str, now: str) -> bool:
        """Record progress if ``worker`` still owns the running job; False if not."""
        ...

    def finish(self, export_id: str, worker: str, transaction_time: str, now: str,
               counts: Mapping[str, int]) -> bool:
        """Mark the job done with its files' counts (types with none are left out) if
        ``worker`` still owns it; False (nothing written) if not."""
        ...

    def fail(self, export_id: str, worker: str, now: str) -> None:
        """Mark the job failed if ``worker`` claimed it."""
        ...

    def cancel(self, export_id: str, user_id: str, now: str) -> bool:
        """Cancel the user's job unless already cancelled or expired; True if cancelled."""
        ...

    def expire_finished_before(self, cutoff: str) -> list[str]:
        """Mark done and failed jobs finished before ``cutoff`` expired; their ids."""
        ...
