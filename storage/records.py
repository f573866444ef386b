"""Typed queries over synced records that the server needs beside the engine's own reads.

The records themselves are written only by the sync engine (``uow.store``); these are
read-only look-ups the server's rules make: who may see which patients (scope), NHS
number uniqueness, what reports count and what FHIR mapping looks up. "Live" means not
deleted; "voided" means ``entered_in_error`` (append-only records, SPEC §2).

Each backend implements :class:`RecordQueries` (``storage/<backend>/records.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class VersionMade:
    """Who made one version of a record, from which device, when (server time)."""

    author_id: str
    client_id: str
    at: str


@dataclass(frozen=True)
class VersionData:
    """One version of a record as the changelog keeps it."""

    id: str
    data: dict[str, Any]
    at: str


@dataclass(frozen=True)
class AssessmentValue:
    """One live, not voided assessment's value (``assessed_at`` as stored, maybe None)."""

    patient_id: str
    assessed_at: Any
    value: Any


@dataclass(frozen=True)
class RaisedEscalationRow:
    """A live escalation whose source record is not voided; ``raised_at`` is its first
    version's server time."""

    severity: Any
    raised_at: str
    acknowledged_at: Any
    resolved_at: Any


@dataclass(frozen=True)
class TeamName:
    id: str
    name: str


class RecordQueries(Protocol):
    """Read-only queries over the engine's records (and the few names they refer to)."""

    # -- scope: which patients an actor may see --------------------------------------

    def patients_of_teams(self, team_ids: Collection[str]) -> set[str]:
        """Live patients whose ``team_id`` is one of these (an indexed seek per team)."""
        ...

    def patients_of_carer(self, carer_user_id: str) -> set[str]:
        """Live patients with an active, live carer_link to this carer, unless the
        patient objects to sharing."""
        ...

    def own_patient(self, user_id: str) -> str | None:
        """The live patient record a patient user is linked to, if any."""
        ...

    def carer_linked_patients(self, carer_user_id: str) -> list[str]:
        """Patients of every live carer_link of this carer, active or not (demo logins)."""
        ...

    # -- patients --------------------------------------------------------------------

    def patient_data(self, patient_id: str) -> dict[str, Any] | None:
        """A live patient's stored fields (no scope check: callers check first)."""
        ...

    def patients_data(self, patient_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Live patients among these ids: id -> stored fields."""
        ...

    def nhs_number_taken(self, number: str, exclude_id: str) -> bool:
        """Whether a live patient other than ``exclude_id`` has this NHS number."""
        ...

    # -- reports ---------------------------------------------------------------------

    def live_assessments(
        self, entity: str, field: str, patient_ids: Iterable[str]
    ) -> list[AssessmentValue]:
        """Live, not voided records of ``entity`` of these patients: ``field`` and
        ``assessed_at``, ordered by ``assessed_at`` then changelog order."""
        ...

    def raised_escalations(self, patient_ids: Iterable[str]) -> list[RaisedEscalationRow]:
        """Live escalations of these patients whose source record is not voided."""
        ...

    def live_records_with_status(
        self, entity: str, statuses: Iterable[str], patient_ids: Iterable[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(id, fields) of live records of ``entity`` of these patients in one of these
        statuses."""
        ...

    def versions_of(self, entity: str, record_ids: Iterable[str]) -> list[VersionData]:
        """Every version of these records, by id then version (oldest first)."""
        ...

    def open_escalations_of_teams(self, team_ids: Collection[str]) -> list[tuple[str, str]]:
        """(id, rule) of live open escalations of these teams, newest change first."""
        ...

    def signed_visits(self, patient_ids: Collection[str], limit: int) -> list[tuple[str, str]]:
        """(id, patient_id) of visits of these patients that were signed, by id."""
        ...

    # -- changelog and names ---------------------------------------------------------

    def version_made(self, entity: str, record_id: str, version: Any) -> VersionMade | None:
        """Who made one version of a record (None if no such version)."""
        ...

    def first_version_at(self, entity: str, record_id: str) -> str | None:
        """When the server stored a record's first version."""
        ...

    def user_display_name(self, user_id: str) -> str | None: ...

    def device_name(self, client_id: str) -> str | None: ...

    def team_names(self, team_ids: Collection[str]) -> list[TeamName]:
        """Names of these teams, by name."""
        ...

    def active_coordinators_of_team(self, team_id: str) -> list[str]:
        """Ids of the team's active coordinators, by id (who escalations are sent to)."""
        ...
