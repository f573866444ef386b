"""PostgreSQL plans of the escalation rules' and reminders' care-record queries: over
thousands of records, after ANALYZE, each statement the repository runs seeks the index
migration 0005 made for it (the JSONB expressions and partial predicates match)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from storage import open_storage
from storage.care_records import CareRecordQueries

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

# Every third patient's records are old, completed or voided: the rules must not read them.
_SEED = """
INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)
SELECT 'patient', 'P' || n, 1, '2026-01-01', 'P' || n,
       jsonb_build_object('team_id', 'T' || (n % 20)), n
FROM generate_series(1, 3000) n;
INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)
SELECT 'visit', 'V' || n, 1, '2026-01-01', 'P' || (n % 3000 + 1),
       jsonb_build_object('status', CASE WHEN n % 500 = 0 THEN 'scheduled' ELSE 'completed' END,
                          'scheduled_end', to_char(timestamp '2026-11-24 10:00' - n * interval
                          '5 minutes', 'YYYY-MM-DD"T"HH24:MI:SS+00:00')), 10000 + n
FROM generate_series(1, 30000) n;
INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)
SELECT 'goal', 'G' || n, 1, '2026-01-01', 'P' || (n % 3000 + 1),
       jsonb_build_object('status', CASE WHEN n % 50 = 0 THEN 'active' ELSE 'completed' END,
                          'start_date', '2026-10-01'), 50000 + n
FROM generate_series(1, 3000) n;
INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)
SELECT 'goal_log', 'L' || n, 1, '2026-01-01', 'P' || (n % 3000 + 1),
       jsonb_build_object('goal_id', 'G' || (n % 3000 + 1), 'done', true,
                          'entered_in_error', n % 7 = 0,
                          'date', to_char(date '2026-11-20' - (n / 3000), 'YYYY-MM-DD')),
       60000 + n
FROM generate_series(1, 30000) n;
INSERT INTO records (entity, id, version, updated_at, patient_id, data, seq)
SELECT 'escalation', 'E' || n, 1, '2026-01-01', 'P' || (n % 3000 + 1),
       jsonb_build_object('rule', 'missed_visit', 'source_id', 'V' || n,
                          'status', CASE WHEN n % 10 = 0 THEN 'open' ELSE 'resolved' END),
       100000 + n
FROM generate_series(1, 10000) n;
ANALYZE records;
"""


class Recording:
    """A connection that remembers the SELECTs run through it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn, self.selects = conn, []  # type: ignore[var-annotated]

    def execute(self, sql: str, params: Any = ()) -> Any:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "advisory" not in sql:
            self.selects.append((sql, params))
        return self.conn.execute(sql, params)


def plans_of(url: str, query: Callable[[CareRecordQueries], object]) -> list[str]:
    storage = open_storage(url, clock=lambda: NOW)
    try:
        with storage.write() as uow:
            queries: Any = uow.care_records
            recording = Recording(queries.conn)
            queries.conn = recording
            query(queries)
            queries.conn = recording.conn
            return ["\n".join(row[0] for row in uow.conn.execute(  # type: ignore[attr-defined]
                "EXPLAIN " + sql, params)) for sql, params in recording.selects]
    finally:
        storage.close()


@pytest.fixture(scope="module")
def seeded(postgres_cluster: Any) -> Any:
    import postgres_cluster as pg

    for url in pg.fresh_database(postgres_cluster):  # dropped when the module is done
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(_SEED)
        yield url


@pytest.mark.parametrize(("query", "index"), [
    (lambda q: q.missed_visits(NOW - timedelta(hours=2), NOW - timedelta(days=7)),
     "records_visit_status_end"),
    (lambda q: q.lapsed_goals(date(2026, 11, 17)), "records_goal_log_live"),
    (lambda q: q.goal_done_on("P2", "G1", date(2026, 11, 20)), "records_goal_log_live"),
    (lambda q: q.open_escalation("P11", "missed_visit", "V10"), "records_open_escalation"),
    (lambda q: q.open_escalation("P11", "missed_visit"), "records_open_escalation"),
], ids=["missed_visits", "lapsed_goals", "goal_done_on", "open_escalation_of_source",
        "open_escalation_of_patient"])
def test_each_query_seeks_its_index(seeded: str, query: Any, index: str) -> None:
    [plan] = plans_of(seeded, query)
    assert index in plan, plan
    assert "Seq Scan on records" not in plan, plan
