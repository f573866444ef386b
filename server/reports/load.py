"""What the reports read from storage (``uow.records``), no computation beyond turning
rows into the pure modules' inputs.

Scope: the patients on the caseloads of the chosen teams now (``access`` decides, as for
every read). Deleted records never count; voided (``entered_in_error``) assessments
never count, nor do escalations raised by a record since voided. When something
reached the server is the changelog's server time (``at``), never a device's clock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from server.escalation import rules as escalation
from server.records import access
from server.reports.activity import VISIT_OUTCOMES, EndedVisit, RaisedEscalation
from server.reports.caseload import Assessment
from storage import UnitOfWork
from sync.registry import Actor


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def team_names(uow: UnitOfWork, team_ids: Collection[str]) -> list[dict[str, str]]:
    return [{"id": team.id, "name": team.name} for team in uow.records.team_names(team_ids)]


def caseload(uow: UnitOfWork, actor: Actor,
             team_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The live patients (id → fields) on these teams' caseloads, as ``actor`` sees them."""
    ids = access.visible_patient_ids(uow, replace(actor, team_ids=frozenset(team_ids)))
    return uow.records.patients_data(ids)


def assessments(uow: UnitOfWork, entity: str, field: str,
                patient_ids: Iterable[str]) -> list[Assessment]:
    """Live, not voided falls assessments or activation scores: ``field`` at ``assessed_at``."""
    found = []
    for row in uow.records.live_assessments(entity, field, patient_ids):
        moment = _when(row.assessed_at)
        if moment is not None and row.value is not None:
            found.append(Assessment(row.patient_id, moment, str(row.value)))
    return found


def escalations(uow: UnitOfWork, patient_ids: Iterable[str],
                since: datetime) -> list[RaisedEscalation]:
    """Escalations of these patients raised since ``since`` (raised = first version's time)."""
    found = []
    for row in uow.records.raised_escalations(patient_ids):
        raised_at = _when(row.raised_at)
        if raised_at is None or raised_at < since:
            continue
        answers = [t for t in (_when(row.acknowledged_at), _when(row.resolved_at))
                   if t is not None]
        found.append(RaisedEscalation(row.severity, raised_at,
                                      min(answers) if answers else None))
    return found


def ended_visits(uow: UnitOfWork, patient_ids: Iterable[str], since: datetime,
                 settings: escalation.Settings) -> list[EndedVisit]:
    """Visits of these patients completed or no access, ended since ``since``, each
    with whether its ending reached the server late (the late_sync rule)."""
    current = {}
    for visit_id, data in uow.records.live_records_with_status("visit", VISIT_OUTCOMES,
                                                               patient_ids):
        ended = _when(escalation.visit_ended_at(data))
        if ended is not None and ended >= since:
            current[visit_id] = (data["status"], ended)
    late = _late_synced(uow, list(current), settings)
    return [EndedVisit(status, ended, visit_id in late)
            for visit_id, (status, ended) in current.items()]


def _late_synced(uow: UnitOfWork, visit_ids: list[str],
                 settings: escalation.Settings) -> set[str]:
    """Visits whose latest ending version reached the server late, by the late_sync rule."""
    late: dict[str, bool] = {}
    before: dict[str, dict[str, Any]] = {}
    for version in uow.records.versions_of("visit", visit_ids):
        data = version.data
        if escalation.became_ended(data, before.get(version.id, {})):
            late[version.id] = escalation.late_sync_delay(
                data, datetime.fromisoformat(version.at), settings) is not None
        before[version.id] = data
    return {visit_id for visit_id, was_late in late.items() if was_late}
