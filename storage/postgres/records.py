"""PostgreSQL queries over the engine's ``records`` and ``changelog`` tables (read-only).

Record fields live in the JSONB ``data`` column: ``data->>'f'`` reads a field as text
(JSON null as SQL NULL), ``data->'f'`` as JSON (psycopg decodes it). The expression
indexes of migrations 0004/0011 are on ``data->>'…'`` with the same partial predicates
the queries below repeat, so the scope look-ups are index seeks. Id lists go in as one
``text[]`` parameter (``= ANY(?)``), so a statement's text never depends on a count.

SQLite's ``json_extract`` gives 1/0 for JSON true/false; here a flag is "set" if it is
JSON true or 1, "unset" if missing, null, false or 0 — the same records either way.
Orderings by text use the "C" collation: SQLite's binary order, Python's ``sorted()``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from storage.postgres.statements import PostgresStatements
from storage.records import AssessmentValue, RaisedEscalationRow
from storage.records_sql import RecordQueriesSql


def _unset(flag: str) -> str:
    """SQL true when the JSON field ``flag`` (a ``data->'…'`` expression) is not set."""
    return (f"coalesce({flag}, 'false'::jsonb)"
            " IN ('false'::jsonb, '0'::jsonb, 'null'::jsonb)")


# The staff scope query (tests/test_scope_index.py reads its plan): an index scan of
# records_live_patient_team (migration 0011), whose predicate these clauses repeat.
TEAM_PATIENTS = (
    "SELECT id FROM records WHERE entity = 'patient' AND NOT deleted"
    " AND data->>'team_id' = ANY(?::text[])"
)
CARER_PATIENTS = (
    "SELECT l.patient_id FROM records l JOIN records p"
    " ON p.entity = 'patient' AND p.id = l.patient_id AND NOT p.deleted"
    " WHERE l.entity = 'carer_link' AND NOT l.deleted"
    " AND l.data->>'carer_user_id' = ?"
    " AND l.data->'active' IN ('true'::jsonb, '1'::jsonb)"
    " AND " + _unset("p.data->'sharing_objection'")
)
OWN_PATIENT = (
    "SELECT id FROM records WHERE entity = 'patient' AND NOT deleted"
    " AND id = (SELECT patient_id FROM users WHERE id = ?)"
)
_LIVE = "NOT deleted AND " + _unset("data->'entered_in_error'")
_SOURCE_NOT_VOIDED = _unset("s.data->'entered_in_error'")


class PostgresRecordQueries(RecordQueriesSql, PostgresStatements):
    NAME_ORDER = 'name COLLATE "C"'
    ID_ORDER = 'u.id COLLATE "C"'
    """The changelog and names are storage/records_sql.py's, the same on both backends."""

    # -- scope ---------------------------------------------------------------------

    def patients_of_teams(self, team_ids: Collection[str]) -> set[str]:
        if not team_ids:
            return set()
        return {row[0] for row in self._tuples(TEAM_PATIENTS, (self._ids(team_ids),))}

    def patients_of_carer(self, carer_user_id: str) -> set[str]:
        return {row[0] for row in self._tuples(CARER_PATIENTS, (carer_user_id,))}

    def own_patient(self, user_id: str) -> str | None:
        found: str | None = self._value(OWN_PATIENT, (user_id,))
        return found

    def carer_linked_patients(self, carer_user_id: str) -> list[str]:
        return [row[0] for row in self._tuples(
            "SELECT patient_id FROM records WHERE entity = 'carer_link' AND NOT deleted"
            " AND data->>'carer_user_id' = ?", (carer_user_id,))]

    # -- patients ------------------------------------------------------------------

    def patient_data(self, patient_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._value(
            "SELECT data FROM records WHERE entity = 'patient' AND id = ? AND NOT deleted",
            (patient_id,))
        return found

    def patients_data(self, patient_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        rows = self._tuples(
            "SELECT id, data FROM records WHERE entity = 'patient' AND NOT deleted"
            " AND id = ANY(?::text[])", (self._ids(patient_ids),))
        return {row[0]: row[1] for row in rows}

    def nhs_number_taken(self, number: str, exclude_id: str) -> bool:
        return bool(self._tuples(
            "SELECT 1 FROM records WHERE entity = 'patient' AND NOT deleted AND id <> ?"
            " AND data->>'nhs_number' = ? LIMIT 1", (exclude_id, number)))

    # -- reports -------------------------------------------------------------------

    def live_assessments(
        self, entity: str, field: str, patient_ids: Iterable[str]
    ) -> list[AssessmentValue]:
        rows = self._tuples(
            "SELECT patient_id, data->'assessed_at', data->(?::text)"
            f" FROM records WHERE entity = ? AND {_LIVE}"
            " AND patient_id = ANY(?::text[])"
            " ORDER BY data->>'assessed_at' COLLATE \"C\" NULLS FIRST, seq",
            (field, entity, self._ids(patient_ids)))
        return [AssessmentValue(*row) for row in rows]

    def raised_escalations(self, patient_ids: Iterable[str]) -> list[RaisedEscalationRow]:
        rows = self._tuples(
            "SELECT e.data->'severity', c.at, e.data->'acknowledged_at', e.data->'resolved_at'"
            " FROM records e JOIN changelog c ON c.entity = 'escalation' AND c.id = e.id"
            " AND c.version = 1"
            " LEFT JOIN records s ON s.entity = e.data->>'source_entity'"
            " AND s.id = e.data->>'source_id'"
            " WHERE e.entity = 'escalation' AND NOT e.deleted"
            " AND e.patient_id = ANY(?::text[])"
            f" AND {_SOURCE_NOT_VOIDED}",
            (self._ids(patient_ids),))
        return [RaisedEscalationRow(*row) for row in rows]

    def live_records_with_status(
        self, entity: str, statuses: Iterable[str], patient_ids: Iterable[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        rows = self._tuples(
            "SELECT id, data FROM records WHERE entity = ? AND NOT deleted"
            " AND data->>'status' = ANY(?::text[]) AND patient_id = ANY(?::text[])",
            (entity, list(statuses), self._ids(patient_ids)))
        return [(row[0], row[1]) for row in rows]

    def open_escalations_of_teams(self, team_ids: Collection[str]) -> list[tuple[str, str]]:
        rows = self._tuples(
            "SELECT id, data->>'rule' FROM records WHERE entity = 'escalation'"
            " AND NOT deleted AND data->>'status' = 'open'"
            " AND data->>'team_id' = ANY(?::text[]) ORDER BY seq DESC", (self._ids(team_ids),))
        return [(row[0], row[1]) for row in rows]

    def signed_visits(self, patient_ids: Collection[str], limit: int) -> list[tuple[str, str]]:
        rows = self._tuples(
            "SELECT id, patient_id FROM records WHERE entity = 'visit'"
            " AND patient_id = ANY(?::text[])"
            " AND data->>'signed_at' IS NOT NULL ORDER BY id LIMIT ?",
            (self._ids(patient_ids), limit))
        return [(row[0], row[1]) for row in rows]
