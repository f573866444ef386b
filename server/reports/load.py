"""What the reports read from the database: read-only SQL, no computation beyond
turning rows into the pure modules' inputs.

Scope: the patients on the caseloads of the chosen teams now (``access`` decides, as for
every read). Deleted records never count; voided (``entered_in_error``) assessments
never count, nor do escalations raised by a record since voided. When something
reached the server is the changelog's server time (``at``), never a device's clock.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from server import access, escalation
from server.reports.activity import VISIT_OUTCOMES, EndedVisit, RaisedEscalation
from server.reports.caseload import Assessment
from sync.registry import Actor

_LIVE = "deleted = 0 AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0"


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def team_names(conn: sqlite3.Connection, team_ids: Collection[str]) -> list[dict[str, str]]:
    rows = conn.execute("SELECT id, name FROM teams WHERE id IN (SELECT value FROM json_each(?))"
                        " ORDER BY name", (json.dumps(sorted(team_ids)),))
    return [{"id": row[0], "name": row[1]} for row in rows]


def caseload(conn: sqlite3.Connection, actor: Actor,
             team_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """The live patients (id → fields) on these teams' caseloads, as ``actor`` sees them."""
    ids = access.visible_patient_ids(conn, replace(actor, team_ids=frozenset(team_ids)))
    rows = conn.execute(
        "SELECT id, data FROM records WHERE entity = 'patient' AND deleted = 0"
        " AND id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(ids)),))
    return {row[0]: json.loads(row[1]) for row in rows}


def assessments(conn: sqlite3.Connection, entity: str, field: str,
                patient_ids: Iterable[str]) -> list[Assessment]:
    """Live, not voided falls assessments or activation scores: ``field`` at ``assessed_at``."""
    rows = conn.execute(
        f"SELECT patient_id, json_extract(data, '$.assessed_at'), json_extract(data, '$.{field}')"
        f" FROM records WHERE entity = ? AND {_LIVE}"
        " AND patient_id IN (SELECT value FROM json_each(?))"
        " ORDER BY json_extract(data, '$.assessed_at'), seq",
        (entity, json.dumps(sorted(set(patient_ids)))))
    found = []
    for patient_id, assessed_at, value in rows:
        moment = _when(assessed_at)
        if moment is not None and value is not None:
            found.append(Assessment(patient_id, moment, str(value)))
    return found


def escalations(conn: sqlite3.Connection, patient_ids: Iterable[str],
                since: datetime) -> list[RaisedEscalation]:
    """Escalations of these patients raised since ``since`` (raised = first version's time)."""
    rows = conn.execute(
        "SELECT json_extract(e.data, '$.severity'), c.at,"
        " json_extract(e.data, '$.acknowledged_at'), json_extract(e.data, '$.resolved_at')"
        " FROM records e JOIN changelog c ON c.entity = 'escalation' AND c.id = e.id"
        " AND c.version = 1"
        " LEFT JOIN records s ON s.entity = json_extract(e.data, '$.source_entity')"
        " AND s.id = json_extract(e.data, '$.source_id')"
        " WHERE e.entity = 'escalation' AND e.deleted = 0"
        " AND e.patient_id IN (SELECT value FROM json_each(?))"
        " AND coalesce(json_extract(s.data, '$.entered_in_error'), 0) = 0",
        (json.dumps(sorted(set(patient_ids))),))
    found = []
    for severity, raised, acknowledged, resolved in rows:
        raised_at = _when(raised)
        if raised_at is None or raised_at < since:
            continue
        answers = [t for t in (_when(acknowledged), _when(resolved)) if t is not None]
        found.append(RaisedEscalation(severity, raised_at, min(answers) if answers else None))
    return found


def ended_visits(conn: sqlite3.Connection, patient_ids: Iterable[str], since: datetime,
                 settings: escalation.Settings) -> list[EndedVisit]:
    """Visits of these patients completed or no access, ended since ``since``, each
    with whether its ending reached the server late (the late_sync rule)."""
    rows = conn.execute(
        "SELECT id, data FROM records WHERE entity = 'visit' AND deleted = 0"
        " AND json_extract(data, '$.status') IN (SELECT value FROM json_each(?))"
        " AND patient_id IN (SELECT value FROM json_each(?))",
        (json.dumps(VISIT_OUTCOMES), json.dumps(sorted(set(patient_ids)))))
    current = {}
    for visit_id, raw in rows:
        data = json.loads(raw)
        ended = _when(escalation.visit_ended_at(data))
        if ended is not None and ended >= since:
            current[visit_id] = (data["status"], ended)
    late = _late_synced(conn, list(current), settings)
    return [EndedVisit(status, ended, visit_id in late)
            for visit_id, (status, ended) in current.items()]


def _late_synced(conn: sqlite3.Connection, visit_ids: list[str],
                 settings: escalation.Settings) -> set[str]:
    """Visits whose latest ending version reached the server late, by the late_sync rule."""
    rows = conn.execute(
        "SELECT id, data, at FROM changelog WHERE entity = 'visit'"
        " AND id IN (SELECT value FROM json_each(?)) ORDER BY id, version",
        (json.dumps(visit_ids),))
    late: dict[str, bool] = {}
    before: dict[str, dict[str, Any]] = {}
    for visit_id, raw, at in rows:
        data = json.loads(raw)
        if escalation.became_ended(data, before.get(visit_id, {})):
            late[visit_id] = escalation.late_sync_delay(
                data, datetime.fromisoformat(at), settings) is not None
        before[visit_id] = data
    return {visit_id for visit_id, was_late in late.items() if was_late}
