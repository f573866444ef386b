"""Care-record queries on PostgreSQL: JSONB operators over the engine's ``records`` table,
written to match the expression and partial indexes of migration 0005 (``data->>'…'``
text, the same predicates). See storage/care_records.py.

In a write unit of work every query here first takes the changelog lock
(storage/postgres/serial.py): what it finds is what the caller then writes through the
engine, so a second scheduler or app process looks only after the first committed. One
open escalation per (patient, rule, source) follows: :meth:`open_escalation` under the
lock sees any escalation opened before, and the rule adds an occurrence to it instead of
opening another (the unique index ``records_open_escalation`` stays the backstop).

Record ids are ``"C"``-collated (0002); comparisons with JSON text use the database's
default collation (``COLLATE "default"``) so the expression indexes stay usable.
"""

from __future__ import annotations

from datetime import date, datetime

from storage.care_records import LapsedGoal, MissedVisit, OpenEscalation, ReminderRecord
from storage.notifications import iso
from storage.postgres.serial import NOT_VOIDED, TRUTHY, SerialRepository

_LIVE_PATIENT = ("EXISTS (SELECT 1 FROM records p WHERE p.entity = 'patient'"
                 " AND p.id = {0}.patient_id AND NOT p.deleted)")
_NOT_FOUND = ("NOT EXISTS (SELECT 1 FROM escalation_findings f WHERE f.rule = '{0}'"
              ' AND f.source_id = {1}.id COLLATE "default" AND f.marker = {2})')
_MISSED_VISITS = (
    "SELECT v.id, v.patient_id, v.data->>'scheduled_start', v.data->>'scheduled_end'"
    " FROM records v WHERE v.entity = 'visit' AND NOT v.deleted"
    " AND v.data->>'status' = 'scheduled'"
    " AND v.data->>'scheduled_end' <= %s AND v.data->>'scheduled_end' > %s"
    " AND " + _NOT_FOUND.format("missed_visit", "v", "v.data->>'scheduled_end'")
    + " AND " + _LIVE_PATIENT.format("v") + " ORDER BY v.id"
)
# The latest log is one seek in records_goal_log_live (0005): same predicate, goal id as
# default-collated text. ``since`` is NULL without a start date, as SQLite's max() is.
_LAPSED_GOALS = (
    "WITH goals AS MATERIALIZED ("
    "  SELECT g.id, g.patient_id, g.data->>'start_date' AS start,"
    "   (SELECT l.data->>'date' FROM records l"
    "    WHERE l.entity = 'goal_log' AND NOT l.deleted AND " + NOT_VOIDED.format("l")
    + '    AND l.data->>\'goal_id\' = g.id COLLATE "default"'
    "    ORDER BY l.data->>'date' DESC LIMIT 1) AS last_log"
    "  FROM records g WHERE g.entity = 'goal' AND NOT g.deleted"
    "  AND g.data->>'status' = 'active'),"
    " counted AS (SELECT id, patient_id,"
    "  CASE WHEN start IS NOT NULL THEN greatest(start, coalesce(last_log, start)) END"
    "  AS since, last_log IS NOT NULL AS logged FROM goals)"
    " SELECT id, patient_id, since, logged FROM counted WHERE since <= %s"
    " AND " + _NOT_FOUND.format("goal_not_logged", "counted", "counted.since")
    + " AND " + _LIVE_PATIENT.format("counted") + " ORDER BY id"
)


class PostgresCareRecordQueries(SerialRepository):
    def open_escalation(self, patient_id: str, rule: str,
                        source_id: str | None = None) -> OpenEscalation | None:
        self._serial()
        sql = (
            "SELECT id, data FROM records WHERE entity = 'escalation' AND NOT deleted"
            " AND patient_id = %s AND data->>'rule' = %s AND data->>'status' = 'open'"
        )
        params = [patient_id, rule]
        if source_id is not None:
            sql += " AND data->>'source_id' = %s"
            params.append(source_id)
        row = self.conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
        return OpenEscalation(row[0], dict(row[1])) if row else None

    def previous_activation_level(self, patient_id: str, score_id: str,
                                  assessed_at: str | None) -> int | None:
        self._serial()
        row = self.conn.execute(
            "SELECT data->'level' FROM records WHERE entity = 'activation_score'"
            " AND patient_id = %s AND NOT deleted AND id != %s AND "
            + NOT_VOIDED.format("records")
            + " AND data->>'assessed_at' <= %s"
            " ORDER BY data->>'assessed_at' DESC, seq DESC LIMIT 1",
            (patient_id, score_id, assessed_at),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def missed_visits(self, ended_by: datetime, ended_after: datetime) -> list[MissedVisit]:
        self._serial()
        rows = self.conn.execute(_MISSED_VISITS, (iso(ended_by), iso(ended_after)))
        return [MissedVisit(r[0], r[1], r[2], r[3]) for r in rows]

    def lapsed_goals(self, on_or_before: date) -> list[LapsedGoal]:
        self._serial()
        rows = self.conn.execute(_LAPSED_GOALS, (on_or_before.isoformat(),))
        return [LapsedGoal(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def record_escalation_finding(self, rule: str, source_id: str, marker: str,
                                  escalation_id: str, now: datetime) -> None:
        self._write(
            "INSERT INTO escalation_findings (rule, source_id, marker, escalation_id,"
            " found_at) VALUES (%s,%s,%s,%s,%s)",
            (rule, source_id, marker, escalation_id, iso(now)),
        )

    def active_reminders(self) -> list[ReminderRecord]:
        rows = self.conn.execute(
            "SELECT r.id, r.data, p.data->'sharing_objection'"
            " FROM records r JOIN records p"
            "   ON p.entity = 'patient' AND p.id = r.patient_id AND NOT p.deleted"
            " WHERE r.entity = 'reminder' AND NOT r.deleted"
            " AND r.data->'active' IS DISTINCT FROM 'false'::jsonb"
        )
        return [ReminderRecord(r[0], dict(r[1]), bool(r[2])) for r in rows]

    def goal_done_on(self, patient_id: str, goal_id: str, local_date: date) -> bool:
        self._serial()
        return self.conn.execute(
            "SELECT 1 FROM records WHERE entity = 'goal_log' AND NOT deleted"
            " AND patient_id = %s AND data->>'goal_id' = %s AND data->>'date' = %s"
            " AND " + TRUTHY.format("data->'done'") + " AND " + NOT_VOIDED.format("records")
            + " LIMIT 1",
            (patient_id, goal_id, local_date.isoformat()),
        ).fetchone() is not None
