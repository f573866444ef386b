"""Scope query benchmark: ``server.records.access.visible_patient_ids`` for a nurse (one team of
100 patients) and a coordinator (two teams), at 120, 2,000 and 16,000 patients in the
database, beside the query it replaced (``IN (SELECT … json_each)`` over migration
0004's index, which walked every patient row).

    .venv/bin/python bench/scope_bench.py

Each store is built in a temporary file (all migrations and the declared indexes, WAL)
with bulk inserts (the whole run takes about 5 s); each query runs 200 times and the
median is printed with its plan.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.records import access  # noqa: E402
from server.records.entities import build_registry  # noqa: E402
from storage.sqlite.connection import connect  # noqa: E402
from storage.sqlite.migrations import migrate  # noqa: E402
from storage.sqlite.records import TEAM_PATIENTS  # noqa: E402
from sync import SqliteStore  # noqa: E402
from sync.registry import Actor  # noqa: E402

PER_TEAM = 100
SIZES = (120, 2_000, 16_000)
RUNS = 200
BEFORE_SQL = (
    "SELECT id FROM records WHERE entity = 'patient' AND deleted = 0"
    " AND json_extract(data, '$.team_id') IN (SELECT value FROM json_each(?))"
)
# The indexes as they were before migration 0011.
BEFORE_INDEXES = (
    "CREATE INDEX records_patient_team"
    " ON records (json_extract(data, '$.team_id')) WHERE entity = 'patient'",
    "DROP INDEX records_live_patient_team",
)
ACTORS = (("nurse", ["t0"]), ("coordinator", ["t0", "t1"]))


def patient(team_id: str) -> dict[str, object]:
    """A patient record of the size the server stores (about 450 bytes of JSON)."""
    return {
        "nhs_number": "9990000018", "given_name": "Edith", "family_name": "Crawley",
        "date_of_birth": "1941-03-02", "sex": "female", "address": "4 Mill Lane, Testtown",
        "postcode": "TE1 4ST", "phone": "01632 960123", "team_id": team_id,
        "gp_practice": "Testtown Surgery", "named_gp": "Dr Okafor",
        "complexity_tier": "moderate", "risk_profiling_opt_out": False,
        "sharing_objection": False, "access_notes": "Key safe 1234; dog",
    }


def build(path: Path, patients: int) -> sqlite3.Connection:
    conn = connect(path)
    migrate(conn)
    store = SqliteStore(conn)
    store.ensure_indexes(build_registry().indexes())  # as `doorstep migrate` does
    rows = (
        ("patient", f"p{n}", 1, 0, "2026-01-01T00:00:00+00:00", f"p{n}",
         json.dumps(patient(f"t{n // PER_TEAM}")),
         n + 1)
        for n in range(patients)
    )
    with store.write_transaction():
        conn.executemany(
            "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data,"
            " seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return conn  # no ANALYZE: the server never runs it, so the planner has no statistics


def median_ms(call: object) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def plan(conn: sqlite3.Connection, sql: str, param: tuple[str]) -> str:
    return "; ".join(row["detail"] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, param))


def measure_before(conn: sqlite3.Connection, param: tuple[str]) -> float:
    return median_ms(lambda: {row[0] for row in conn.execute(BEFORE_SQL, param)})


def measure_after(conn: sqlite3.Connection, teams: list[str]) -> tuple[set[str], float, str]:
    actor = Actor("u", "nurse", "d", frozenset(teams))
    took = median_ms(lambda: access.visible_patient_ids(conn, actor))
    shown = plan(conn, TEAM_PATIENTS, (json.dumps(teams),))
    return access.visible_patient_ids(conn, actor), took, shown


def main() -> None:
    print(f"SQLite {sqlite3.sqlite_version}; median of {RUNS}, ms")
    print("| patients | actor | before | after | before plan | after plan |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for patients in SIZES:
            conn = build(Path(tmp) / f"scope{patients}.db", patients)
            after = {label: measure_after(conn, teams) for label, teams in ACTORS}
            for statement in BEFORE_INDEXES:
                conn.execute(statement)
            for label, teams in ACTORS:
                param = (json.dumps(teams),)
                ids, took_after, plan_after = after[label]
                assert {row[0] for row in conn.execute(BEFORE_SQL, param)} == ids
                took_before = measure_before(conn, param)
                print(f"| {patients:,} | {label} ({len(ids)} patients) | {took_before:.2f}"
                      f" | {took_after:.2f} | {plan(conn, BEFORE_SQL, param)} | {plan_after} |")
            conn.close()


if __name__ == "__main__":
    main()
