"""PostgreSQL queries over the engine's ``records`` and ``changelog`` tables (read-only).

Record fields live in the JSONB ``data`` column: ``data->>'f'`` reads a field as text
(JSON null as SQL NULL), ``data->'f'`` as JSON (psycopg decodes it). The expression
indexes of migrations 0004/0011 are on ``data->>'…'`` with the same partial predicates
the queries below repeat, so the scope look-ups are index seeks. Id lists go in as one
``text[]`` parameter (``= ANY(%s)``), so a statement's text never depends on a count.

SQLite's ``json_extract`` gives 1/0 for JSON true/false; here a flag is "set" if it is
JSON true or 1, "unset" if missing, null, false or 0 — the same records either way.
Orderings by text use the "C" collation: SQLite's binary order, Python's ``sorted()``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

import psycopg

from storage.records import (
    AssessmentValue,
    RaisedEscalationRow,
    TeamName,
    VersionData,
    VersionMade,
)

Connection = psycopg.Connection[tuple[Any, ...]]


def _unset(flag: str) -> str:
    """SQL true when the JSON field ``flag`` (a ``data->'…'`` expression) is not set."""
    return (f"coalesce({flag}, 'false'::jsonb)"
            " IN ('false'::jsonb, '0'::jsonb, 'null'::jsonb)")


# The staff scope query (tests/test_scope_index.py reads its plan): an index scan of
# records_live_patient_team (migration 0011), whose predicate these clauses repeat.
TEAM_PATIENTS = (
    "SELECT id FROM records WHERE entity = 'patient' AND NOT deleted"
    " AND data->>'team_id' = ANY(%s::text[])"
)
CARER_PATIENTS = (
    "SELECT l.patient_id FROM records l JOIN records p"
    " ON p.entity = 'patient' AND p.id = l.patient_id AND NOT p.deleted"
    " WHERE l.entity = 'carer_link' AND NOT l.deleted"
    " AND l.data->>'carer_user_id' = %s"
    " AND l.data->'active' IN ('true'::jsonb, '1'::jsonb)"
    " AND " + _unset("p.data->'sharing_objection'")
)
OWN_PATIENT = (
    "SELECT id FROM records WHERE entity = 'patient' AND NOT deleted"
    " AND id = (SELECT patient_id FROM users WHERE id = %s)"
)
_LIVE = "NOT deleted AND " + _unset("data->'entered_in_error'")
_SOURCE_NOT_VOIDED = _unset("s.data->'entered_in_error'")


def _ids(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


class PostgresRecordQueries:
    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def _value(self, sql: str, params: Iterable[Any]) -> Any:
        rows = self._rows(sql, params)
        return rows[0][0] if rows else None

    # -- scope ---------------------------------------------------------------------

    def patients_of_teams(self, team_ids: Collection[str]) -> set[str]:
        if not team_ids:
            return set()
        return {row[0] for row in self._rows(TEAM_PATIENTS, (_ids(team_ids),))}

    def patients_of_carer(self, carer_user_id: str) -> set[str]:
        return {row[0] for row in self._rows(CARER_PATIENTS, (carer_user_id,))}

    def own_patient(self, user_id: str) -> str | None:
        found: str | None = self._value(OWN_PATIENT, (user_id,))
        return found

    def carer_linked_patients(self, carer_user_id: str) -> list[str]:
        return [row[0] for row in self._rows(
            "SELECT patient_id FROM records WHERE entity = 'carer_link' AND NOT deleted"
            " AND data->>'carer_user_id' = %s", (carer_user_id,))]

    # -- patients ------------------------------------------------------------------

    def patient_data(self, patient_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._value(
            "SELECT data FROM records WHERE entity = 'patient' AND id = %s AND NOT deleted",
            (patient_id,))
        return found

    def patients_data(self, patient_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        rows = self._rows(
            "SELECT id, data FROM records WHERE entity = 'patient' AND NOT deleted"
            " AND id = ANY(%s::text[])", (_ids(patient_ids),))
        return {row[0]: row[1] for row in rows}

    def nhs_number_taken(self, number: str, exclude_id: str) -> bool:
        return bool(self._rows(
            "SELECT 1 FROM records WHERE entity = 'patient' AND NOT deleted AND id <> %s"
            " AND data->>'nhs_number' = %s LIMIT 1", (exclude_id, number)))

    # -- reports -------------------------------------------------------------------

    def live_assessments(
        self, entity: str, field: str, patient_ids: Iterable[str]
    ) -> list[AssessmentValue]:
        rows = self._rows(
            "SELECT patient_id, data->'assessed_at', data->(%s::text)"
            f" FROM records WHERE entity = %s AND {_LIVE}"
            " AND patient_id = ANY(%s::text[])"
            " ORDER BY data->>'assessed_at' COLLATE \"C\" NULLS FIRST, seq",
            (field, entity, _ids(patient_ids)))
        return [AssessmentValue(*row) for row in rows]

    def raised_escalations(self, patient_ids: Iterable[str]) -> list[RaisedEscalationRow]:
        rows = self._rows(
            "SELECT e.data->'severity', c.at, e.data->'acknowledged_at', e.data->'resolved_at'"
            " FROM records e JOIN changelog c ON c.entity = 'escalation' AND c.id = e.id"
            " AND c.version = 1"
            " LEFT JOIN records s ON s.entity = e.data->>'source_entity'"
            " AND s.id = e.data->>'source_id'"
            " WHERE e.entity = 'escalation' AND NOT e.deleted"
            " AND e.patient_id = ANY(%s::text[])"
            f" AND {_SOURCE_NOT_VOIDED}",
            (_ids(patient_ids),))
        return [RaisedEscalationRow(*row) for row in rows]

    def live_records_with_status(
        self, entity: str, statuses: Iterable[str], patient_ids: Iterable[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        rows = self._rows(
            "SELECT id, data FROM records WHERE entity = %s AND NOT deleted"
            " AND data->>'status' = ANY(%s::text[]) AND patient_id = ANY(%s::text[])",
            (entity, list(statuses), _ids(patient_ids)))
        return [(row[0], row[1]) for row in rows]

    def versions_of(self, entity: str, record_ids: Iterable[str]) -> list[VersionData]:
        rows = self._rows(
            "SELECT id, data, at FROM changelog WHERE entity = %s AND id = ANY(%s::text[])"
            " ORDER BY id, version", (entity, list(record_ids)))
        return [VersionData(row[0], row[1], row[2]) for row in rows]

    def open_escalations_of_teams(self, team_ids: Collection[str]) -> list[tuple[str, str]]:
        rows = self._rows(
            "SELECT id, data->>'rule' FROM records WHERE entity = 'escalation'"
            " AND NOT deleted AND data->>'status' = 'open'"
            " AND data->>'team_id' = ANY(%s::text[]) ORDER BY seq DESC", (_ids(team_ids),))
        return [(row[0], row[1]) for row in rows]

    def signed_visits(self, patient_ids: Collection[str], limit: int) -> list[tuple[str, str]]:
        rows = self._rows(
            "SELECT id, patient_id FROM records WHERE entity = 'visit'"
            " AND patient_id = ANY(%s::text[])"
            " AND data->>'signed_at' IS NOT NULL ORDER BY id LIMIT %s",
            (_ids(patient_ids), limit))
        return [(row[0], row[1]) for row in rows]

    # -- changelog and names -------------------------------------------------------

    def version_made(self, entity: str, record_id: str, version: Any) -> VersionMade | None:
        rows = self._rows(
            "SELECT author_id, client_id, at FROM changelog WHERE entity = %s AND id = %s"
            " AND version = %s", (entity, record_id, version))
        return VersionMade(*rows[0]) if rows else None

    def first_version_at(self, entity: str, record_id: str) -> str | None:
        found: str | None = self._value(
            "SELECT at FROM changelog WHERE entity = %s AND id = %s AND version = 1",
            (entity, record_id))
        return found

    def user_display_name(self, user_id: str) -> str | None:
        found: str | None = self._value("SELECT display_name FROM users WHERE id = %s",
                                        (user_id,))
        return found

    def device_name(self, client_id: str) -> str | None:
        found: str | None = self._value("SELECT name FROM devices WHERE client_id = %s",
                                        (client_id,))
        return found

    def team_names(self, team_ids: Collection[str]) -> list[TeamName]:
        rows = self._rows(
            "SELECT id, name FROM teams WHERE id = ANY(%s::text[]) ORDER BY name COLLATE \"C\"",
            (_ids(team_ids),))
        return [TeamName(row[0], row[1]) for row in rows]

    def active_coordinators_of_team(self, team_id: str) -> list[str]:
        return [row[0] for row in self._rows(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
            " WHERE m.team_id = %s AND u.role = 'coordinator' AND u.active"
            " ORDER BY u.id COLLATE \"C\"", (team_id,))]
