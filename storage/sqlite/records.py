"""SQLite queries over the engine's ``records`` and ``changelog`` tables (read-only).

Record fields live in the JSON ``data`` column: ``json_extract`` reads them, and the
expression indexes of migrations 0004/0011 make the scope look-ups seeks. Id lists go in
as one JSON parameter (``json_each``), so a statement's text never depends on a count.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from storage.records import AssessmentValue, RaisedEscalationRow
from storage.records_sql import RecordQueriesSql
from storage.sqlite.statements import SqliteStatements

# The staff scope query (bench/scope_bench.py prints its plan): one index seek per team
# (records_live_patient_team, migration 0011). CROSS JOIN keeps the team list outside,
# as the planner does not use an expression index for ``IN (SELECT … json_each)``.
TEAM_PATIENTS = (
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
_LIVE = "deleted = 0 AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0"


class SqliteRecordQueries(RecordQueriesSql, SqliteStatements):
    """The changelog and names are storage/records_sql.py's, the same on both backends."""

    # -- scope ---------------------------------------------------------------------

    def patients_of_teams(self, team_ids: Collection[str]) -> set[str]:
        if not team_ids:
            return set()
        return {row[0] for row in self._tuples(TEAM_PATIENTS, (self._ids(team_ids),))}

    def patients_of_carer(self, carer_user_id: str) -> set[str]:
        return {row[0] for row in self._tuples(_CARER_PATIENTS, (carer_user_id,))}

    def own_patient(self, user_id: str) -> str | None:
        found: str | None = self._value(_OWN_PATIENT, (user_id,))
        return found

    def carer_linked_patients(self, carer_user_id: str) -> list[str]:
        return [row[0] for row in self._tuples(
            "SELECT patient_id FROM records WHERE entity = 'carer_link' AND deleted = 0"
            " AND json_extract(data, '$.carer_user_id') = ?", (carer_user_id,))]

    # -- patients ------------------------------------------------------------------

    def patient_data(self, patient_id: str) -> dict[str, Any] | None:
        raw = self._value(
            "SELECT data FROM records WHERE entity = 'patient' AND id = ? AND deleted = 0",
            (patient_id,))
        return json.loads(raw) if raw is not None else None

    def patients_data(self, patient_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        rows = self._tuples(
            "SELECT id, data FROM records WHERE entity = 'patient' AND deleted = 0"
            " AND id IN (SELECT value FROM json_each(?))", (self._ids(patient_ids),))
        return {row[0]: json.loads(row[1]) for row in rows}

    def nhs_number_taken(self, number: str, exclude_id: str) -> bool:
        return bool(self._tuples(
            "SELECT 1 FROM records WHERE entity = 'patient' AND deleted = 0 AND id != ?"
            " AND json_extract(data, '$.nhs_number') = ?", (exclude_id, number)))

    # -- reports -------------------------------------------------------------------

    def live_assessments(
        self, entity: str, field: str, patient_ids: Iterable[str]
    ) -> list[AssessmentValue]:
        rows = self._tuples(
            "SELECT patient_id, json_extract(data, '$.assessed_at'),"
            " json_extract(data, '$.' || ?)"
            f" FROM records WHERE entity = ? AND {_LIVE}"
            " AND patient_id IN (SELECT value FROM json_each(?))"
            " ORDER BY json_extract(data, '$.assessed_at'), seq",
            (field, entity, self._ids(patient_ids)))
        return [AssessmentValue(*row) for row in rows]

    def raised_escalations(self, patient_ids: Iterable[str]) -> list[RaisedEscalationRow]:
        rows = self._tuples(
            "SELECT json_extract(e.data, '$.severity'), c.at,"
            " json_extract(e.data, '$.acknowledged_at'), json_extract(e.data, '$.resolved_at')"
            " FROM records e JOIN changelog c ON c.entity = 'escalation' AND c.id = e.id"
            " AND c.version = 1"
            " LEFT JOIN records s ON s.entity = json_extract(e.data, '$.source_entity')"
            " AND s.id = json_extract(e.data, '$.source_id')"
            " WHERE e.entity = 'escalation' AND e.deleted = 0"
            " AND e.patient_id IN (SELECT value FROM json_each(?))"
            " AND coalesce(json_extract(s.data, '$.entered_in_error'), 0) = 0",
            (self._ids(patient_ids),))
        return [RaisedEscalationRow(*row) for row in rows]

    def live_records_with_status(
        self, entity: str, statuses: Iterable[str], patient_ids: Iterable[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        rows = self._tuples(
            "SELECT id, data FROM records WHERE entity = ? AND deleted = 0"
            " AND json_extract(data, '$.status') IN (SELECT value FROM json_each(?))"
            " AND patient_id IN (SELECT value FROM json_each(?))",
            (entity, json.dumps(list(statuses)), self._ids(patient_ids)))
        return [(row[0], json.loads(row[1])) for row in rows]

    def open_escalations_of_teams(self, team_ids: Collection[str]) -> list[tuple[str, str]]:
        rows = self._tuples(
            "SELECT id, json_extract(data, '$.rule') FROM records WHERE entity = 'escalation'"
            " AND deleted = 0 AND json_extract(data, '$.status') = 'open'"
            " AND json_extract(data, '$.team_id') IN (SELECT value FROM json_each(?))"
            " ORDER BY seq DESC", (self._ids(team_ids),))
        return [(row[0], row[1]) for row in rows]

    def signed_visits(self, patient_ids: Collection[str], limit: int) -> list[tuple[str, str]]:
        rows = self._tuples(
            "SELECT id, patient_id FROM records WHERE entity = 'visit'"
            " AND patient_id IN (SELECT value FROM json_each(?))"
            " AND json_extract(data, '$.signed_at') IS NOT NULL ORDER BY id LIMIT ?",
            (self._ids(patient_ids), limit))
        return [(row[0], row[1]) for row in rows]
