"""Each report, from the database to the JSON body the API answers.

A report covers the patients on the chosen teams' caseloads now, over the last
``REPORT_WEEKS`` ISO weeks (UK time) up to ``now`` (the app's clock).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from server.escalation import rules as escalation
from server.reports import activity, caseload, load
from server.reports.weeks import SERVICE_ZONE, last_weeks
from storage import UnitOfWork
from sync.registry import Actor

Builder = Callable[[UnitOfWork, Actor, Collection[str], datetime], dict[str, Any]]


def _frame(uow: UnitOfWork, report: str, team_ids: Collection[str],
           now: datetime) -> dict[str, Any]:
    return {"report": report, "generated_at": now.isoformat(), "timezone": SERVICE_ZONE.key,
            "teams": load.team_names(uow, team_ids)}


def caseload_report(uow: UnitOfWork, actor: Actor, team_ids: Collection[str],
                    now: datetime) -> dict[str, Any]:
    """Caseload by falls risk and by activation level at the end of each week."""
    weeks = last_weeks(now)
    patients = load.caseload(uow, actor, team_ids)
    counted = [pid for pid, data in patients.items() if caseload.in_risk_reports(data)]
    falls = load.assessments(uow, "falls_assessment", "risk_level", counted)
    scores = load.assessments(uow, "activation_score", "level", counted)
    return {
        **_frame(uow, "caseload", team_ids, now),
        "patients": len(counted),
        "left_out": {"risk_profiling_opt_out": len(patients) - len(counted)},
        "falls_risk": {
            "categories": [*caseload.FALLS_RISK_CATEGORIES, caseload.NOT_ASSESSED],
            "weeks": caseload.mix_by_week(counted, falls, caseload.FALLS_RISK_CATEGORIES,
                                          weeks, now)},
        "activation": {
            "categories": [*caseload.ACTIVATION_CATEGORIES, caseload.NOT_ASSESSED],
            "weeks": caseload.mix_by_week(counted, scores, caseload.ACTIVATION_CATEGORIES,
                                          weeks, now)},
    }


def escalations_report(uow: UnitOfWork, actor: Actor, team_ids: Collection[str],
                       now: datetime) -> dict[str, Any]:
    """Escalations raised per week by severity, and the median time to acknowledge."""
    weeks = last_weeks(now)
    patients = load.caseload(uow, actor, team_ids)
    raised = load.escalations(uow, patients, weeks[0].start)
    return {**_frame(uow, "escalations", team_ids, now),
            "severities": list(activity.SEVERITIES),
            **activity.escalations_by_week(raised, weeks)}


def visits_report(uow: UnitOfWork, actor: Actor, team_ids: Collection[str],
                  now: datetime) -> dict[str, Any]:
    """Visits completed, no access and late-synced per week they ended in."""
    weeks = last_weeks(now)
    settings = escalation.current_settings()
    patients = load.caseload(uow, actor, team_ids)
    visits = load.ended_visits(uow, patients, weeks[0].start, settings)
    return {**_frame(uow, "visits", team_ids, now),
            "late_sync_hours": settings.late_sync_after.total_seconds() / 3600,
            "weeks": activity.visits_by_week(visits, weeks)}


REPORTS: dict[str, Builder] = {
    "caseload": caseload_report,
    "escalations": escalations_report,
    "visits": visits_report,
}
