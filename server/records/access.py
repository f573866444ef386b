"""Who may see which patients: the one place every endpoint and the sync scope ask.

- nurse, coordinator: patients on the caseloads of the teams they belong to;
- patient: their own record (linked at enrolment);
- carer: patients with an active carer_link to them, unless the patient objects to sharing;
- admin: no clinical records at all.

What each role may see *within* a patient (redaction) and change (per entity) is decided
by the entity rules in ``server/entities``; this module only answers "which patients".
A patient outside scope is answered with 404 by the callers, never 403.
"""

from __future__ import annotations

from typing import Any

from storage import UnitOfWork
from sync.registry import Actor

STAFF = frozenset({"nurse", "coordinator"})


def visible_patient_ids(uow: UnitOfWork, actor: Actor) -> set[str]:
    """Every patient id this actor may see."""
    queries = uow.records
    if actor.role in STAFF:
        return queries.patients_of_teams(actor.team_ids) if actor.team_ids else set()
    if actor.role == "carer":
        return queries.patients_of_carer(actor.user_id)
    if actor.role == "patient":
        own = queries.own_patient(actor.user_id)
        return {own} if own is not None else set()
    return set()


def can_see_patient(uow: UnitOfWork, actor: Actor, patient_id: str) -> bool:
    return patient_id in visible_patient_ids(uow, actor)


def patient_data(uow: UnitOfWork, patient_id: str) -> dict[str, Any] | None:
    """A live patient's stored fields (no scope check: callers check first)."""
    return uow.records.patient_data(patient_id)


def nhs_number_taken(uow: UnitOfWork, number: str, exclude_id: str) -> bool:
    return uow.records.nhs_number_taken(number, exclude_id)


def coordinator_ids_for_team(uow: UnitOfWork, team_id: str) -> list[str]:
    return uow.records.active_coordinators_of_team(team_id)


class AccessScope:
    """Adapter giving the sync engine its ScopePolicy from this module: it asks through
    the unit of work the engine's transaction belongs to."""

    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]:
        return visible_patient_ids(store.unit, actor)
