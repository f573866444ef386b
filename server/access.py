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

import json
import sqlite3
from typing import Any

from sync.registry import Actor

STAFF = frozenset({"nurse", "coordinator"})

# Patients are synced records; their team lives in the JSON data. One index seek per
# team (index of migration 0011): CROSS JOIN keeps the team list outside, as the
# planner does not use an expression index for ``IN (SELECT … json_each)``.
_TEAM_PATIENTS = (
    "SELECT p.id FROM json_each(?) AS team CROSS JOIN records p"
    " WHERE p.entity = 'patient' AND p.deleted = 0"
    " AND json_extract(p.data, '$.team_id') = team.value"
)
_CARER_PATIENTS = (
    "SELECT l.patient_id FROM records l JOIN records p"
    " ON p.entity = 'patient' AND p.id = l.patient_id AND p.deleted = 0"
    " WHERE l.entity = 'carer_link' AND l.deleted = 0"
    " AND json_extract(l.data, '$.carer_user_id') = ?"
    " AND json_extract(l.data, '$.active') = 1"
    " AND coalesce(json_extract(p.data, '$.sharing_objection'), 0) = 0"
)
# A scalar subquery: with a join the planner may walk every user when it thinks them few.
_OWN_PATIENT = (
    "SELECT id FROM records WHERE entity = 'patient' AND deleted = 0"
    " AND id = (SELECT patient_id FROM users WHERE id = ?)"
)


def visible_patient_ids(conn: sqlite3.Connection, actor: Actor) -> set[str]:
    """Every patient id this actor may see."""
    if actor.role in STAFF:
        if not actor.team_ids:
            return set()
        rows = conn.execute(_TEAM_PATIENTS, (json.dumps(sorted(actor.team_ids)),))
    elif actor.role == "carer":
        rows = conn.execute(_CARER_PATIENTS, (actor.user_id,))
    elif actor.role == "patient":
        rows = conn.execute(_OWN_PATIENT, (actor.user_id,))
    else:
        return set()
    return {row[0] for row in rows}


def can_see_patient(conn: sqlite3.Connection, actor: Actor, patient_id: str) -> bool:
    return patient_id in visible_patient_ids(conn, actor)


def patient_data(conn: sqlite3.Connection, patient_id: str) -> dict[str, Any] | None:
    """A live patient's stored fields (no scope check: callers check first)."""
    row = conn.execute(
        "SELECT data FROM records WHERE entity = 'patient' AND id = ? AND deleted = 0",
        (patient_id,),
    ).fetchone()
    return json.loads(row[0]) if row else None


def nhs_number_taken(conn: sqlite3.Connection, number: str, exclude_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM records WHERE entity = 'patient' AND deleted = 0 AND id != ?"
        " AND json_extract(data, '$.nhs_number') = ?",
        (exclude_id, number),
    ).fetchone()
    return row is not None


def coordinator_ids_for_team(conn: sqlite3.Connection, team_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
        " WHERE m.team_id = ? AND u.role = 'coordinator' AND u.active = 1 ORDER BY u.id",
        (team_id,),
    )
    return [row[0] for row in rows]


class AccessScope:
    """Adapter giving the sync engine its ScopePolicy from this module."""

    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]:
        return visible_patient_ids(store.conn, actor)
