"""Care-record queries on SQLite: JSON functions over the engine's ``records`` table,
using the expression indexes of migration 0005. See storage/care_records.py."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime

from storage.care_records import LapsedGoal, MissedVisit, OpenEscalation, ReminderRecord
from storage.sqlite.push_subscriptions import iso

_LIVE_PATIENT = ("EXISTS (SELECT 1 FROM records p WHERE p.entity = 'patient'"
                 " AND p.id = {0}.patient_id AND p.deleted = 0)")
_MISSED_VISITS = (
    "SELECT v.id, v.patient_id, json_extract(v.data, '$.scheduled_start'),"
    " json_extract(v.data, '$.scheduled_end') FROM records v"
    " WHERE v.entity = 'visit' AND v.deleted = 0"
    " AND json_extract(v.data, '$.status') = 'scheduled'"
    " AND json_extract(v.data, '$.scheduled_end') <= ?"
    " AND json_extract(v.data, '$.scheduled_end') > ?"
    " AND NOT EXISTS (SELECT 1 FROM escalation_findings f WHERE f.rule = 'missed_visit'"
    "   AND f.source_id = v.id AND f.marker = json_extract(v.data, '$.scheduled_end'))"
    " AND " + _LIVE_PATIENT.format("v") + " ORDER BY v.id"
)
# The latest log is one seek in records_goal_log_live (0005): the WHERE terms match that
# partial index's, and ``+g.id`` drops the column's text affinity, without which SQLite
# cannot use an index on an expression and would scan every log of every goal.
_LAPSED_GOALS = (
    "WITH goals AS MATERIALIZED ("
    "  SELECT g.id, g.patient_id, json_extract(g.data, '$.start_date') AS start,"
    "   (SELECT json_extract(l.data, '$.date') FROM records l"
    "    WHERE l.entity = 'goal_log' AND l.deleted = 0"
    "    AND coalesce(json_extract(l.data, '$.entered_in_error'), 0) = 0"
    "    AND json_extract(l.data, '$.goal_id') = +g.id"
    "    ORDER BY json_extract(l.data, '$.date') DESC LIMIT 1) AS last_log"
    "  FROM records g WHERE g.entity = 'goal' AND g.deleted = 0"
    "  AND json_extract(g.data, '$.status') = 'active'),"
    " counted AS (SELECT id, patient_id, max(start, coalesce(last_log, start)) AS since,"
    "  last_log IS NOT NULL AS logged FROM goals)"
    " SELECT id, patient_id, since, logged FROM counted WHERE since <= ?"
    " AND NOT EXISTS (SELECT 1 FROM escalation_findings f WHERE f.rule = 'goal_not_logged'"
    "   AND f.source_id = counted.id AND f.marker = counted.since)"
    " AND " + _LIVE_PATIENT.format("counted") + " ORDER BY id"
)


class SqliteCareRecordQueries:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def open_escalation(self, patient_id: str, rule: str,
                        source_id: str | None = None) -> OpenEscalation | None:
        sql = (
            "SELECT id, data FROM records WHERE entity = 'escalation' AND deleted = 0"
            " AND patient_id = ? AND json_extract(data, '$.rule') = ?"
            " AND json_extract(data, '$.status') = 'open'"
        )
        params = [patient_id, rule]
        if source_id is not None:
            sql += " AND json_extract(data, '$.source_id') = ?"
            params.append(source_id)
        row = self.conn.execute(sql + " ORDER BY id LIMIT 1", params).fetchone()
        return OpenEscalation(row[0], json.loads(row[1])) if row else None

    def previous_activation_level(self, patient_id: str, score_id: str,
                                  assessed_at: str | None) -> int | None:
        row = self.conn.execute(
            "SELECT json_extract(data, '$.level') FROM records"
            " WHERE entity = 'activation_score' AND patient_id = ? AND deleted = 0 AND id != ?"
            " AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0"
            " AND json_extract(data, '$.assessed_at') <= ?"
            " ORDER BY json_extract(data, '$.assessed_at') DESC, seq DESC LIMIT 1",
            (patient_id, score_id, assessed_at),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def missed_visits(self, ended_by: datetime, ended_after: datetime) -> list[MissedVisit]:
        rows = self.conn.execute(_MISSED_VISITS, (iso(ended_by), iso(ended_after)))
        return [MissedVisit(r[0], r[1], r[2], r[3]) for r in rows]

    def lapsed_goals(self, on_or_before: date) -> list[LapsedGoal]:
        rows = self.conn.execute(_LAPSED_GOALS, (on_or_before.isoformat(),))
        return [LapsedGoal(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def record_escalation_finding(self, rule: str, source_id: str, marker: str,
                                  escalation_id: str, now: datetime) -> None:
        self.conn.execute(
            "INSERT INTO escalation_findings (rule, source_id, marker, escalation_id,"
            " found_at) VALUES (?,?,?,?,?)",
            (rule, source_id, marker, escalation_id, iso(now)),
        )

    def active_reminders(self) -> list[ReminderRecord]:
        rows = self.conn.execute(
            "SELECT r.id, r.data, json_extract(p.data, '$.sharing_objection')"
            " FROM records r JOIN records p"
            "   ON p.entity = 'patient' AND p.id = r.patient_id AND p.deleted = 0"
            " WHERE r.entity = 'reminder' AND r.deleted = 0"
            " AND json_type(r.data, '$.active') IS NOT 'false'"
        )
        return [ReminderRecord(r[0], json.loads(r[1]), bool(r[2])) for r in rows]

    def goal_done_on(self, patient_id: str, goal_id: str, local_date: date) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM records WHERE entity = 'goal_log' AND deleted = 0 AND patient_id = ?"
            " AND json_extract(data, '$.goal_id') = ? AND json_extract(data, '$.date') = ?"
            " AND json_extract(data, '$.done') = 1"
            " AND coalesce(json_extract(data, '$.entered_in_error'), 0) = 0 LIMIT 1",
            (patient_id, goal_id, local_date.isoformat()),
        ).fetchone() is not None
