"""The sync endpoints with the server's real rules: validation, permissions, derived
falls risk, audit and escalation hooks — through the Flask app (no network).

Reports the median server-side time of a push of 100 mutations and an incremental pull
of 1,000 changed records, beside the same work through the engine alone with the same
registry in the same run (so the ratio shows what HTTP + JSON + auth add). With
``--targets``, issue 13's rows instead: push per record (batches of 25), an empty poll,
an incremental pull of 100 changed records, a snapshot pull of 10,000 records in pages
of 500 — each time and CPU of this process (server plus Flask's test client).

    .venv/bin/python bench/server_bench.py [--runs 15]
    .venv/bin/python bench/server_bench.py --targets [--runs 15] [--other-patients 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import login, make_patient, make_team, make_user, migrated_app, test_config  # noqa: E402

from server.records import engine as records  # noqa: E402
from sync import apply_push, pull  # noqa: E402
from sync.registry import Actor  # noqa: E402


def visit(patient_id: str, day: str = "2026-11-24") -> dict[str, object]:
    return {"patient_id": patient_id, "scheduled_start": f"{day}T09:00:00+00:00",
            "scheduled_end": f"{day}T09:30:00+00:00", "visit_type": "wound_care",
            "status": "completed", "notes": "Dressing changed, healing well.",
            "interventions": ["dressing"]}


def batch(start: int, patients: list[str], size: int = 100,
          day: str = "2026-11-24") -> list[dict[str, object]]:
    """Visits of ``day`` (an old day: each also makes a late_sync escalation)."""
    return [{"mutation_id": start + i, "entity": "visit", "id": str(uuid.uuid4()),
             "op": "create", "base_version": 0,
             "fields": visit(patients[i % len(patients)], day)}
            for i in range(size)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--targets", action="store_true",
                        help="only the issue-13 rows (push per record, empty poll, pulls)")
    parser.add_argument("--other-patients", type=int, default=0,
                        help="other teams' patients in the database (--targets)")
    args = parser.parse_args()
    if args.targets:
        targets(args.runs, args.other_patients)
        return
    app = migrated_app(test_config(Path(tempfile.mkdtemp())))
    client = app.test_client()
    team = make_team(app)
    patients = [make_patient(app, team) for _ in range(100)]
    user = make_user(app, "nurse", teams=(team,))
    writer, reader = login(client, user.username), login(client, user.username)
    engine_device = login(client, user.username)

    http_push, engine_push, http_pull, engine_pull = [], [], [], []
    next_id = {"http": 1, "engine": 1}
    with app.app_context():
        actor = Actor(user.id, "nurse", engine_device.client_id, frozenset({team}))
        # Reader and engine reader start at "now"; each run then adds 1,000 changes.
        cursor = _drain(reader)
        engine_cursor = _engine_drain(actor, None)
        for _ in range(args.runs):
            body = {"client_id": writer.client_id, "schema_version": 1,
                    "mutations": batch(next_id["http"], patients)}
            started = time.perf_counter()
            response = writer.post("/api/v1/sync/push", json=body)
            http_push.append(time.perf_counter() - started)
            assert response.status_code == 200, response.json
            next_id["http"] += 100
            engine_body = {"client_id": actor.client_id, "schema_version": 1,
                           "mutations": batch(next_id["engine"], patients)}
            started = time.perf_counter()
            apply_push(records.store(), records.registry(), actor, engine_body)
            engine_push.append(time.perf_counter() - started)
            next_id["engine"] += 100
            for _ in range(8):  # 800 more changes so a pull returns 1,000 records
                writer.post("/api/v1/sync/push", json={
                    "client_id": writer.client_id, "schema_version": 1,
                    "mutations": batch(next_id["http"], patients)})
                next_id["http"] += 100
            started = time.perf_counter()
            page = reader.get("/api/v1/sync/pull", query_string={
                "client_id": reader.client_id, "cursor": cursor, "limit": 1000}).json
            http_pull.append(time.perf_counter() - started)
            cursor = page["cursor"]
            started = time.perf_counter()
            result = pull(records.store(), records.registry(), actor, cursor=engine_cursor,
                          limit=1000)
            engine_pull.append(time.perf_counter() - started)
            engine_cursor = result.cursor
            assert len(page["changes"]) == 1000, len(page["changes"])

    def report(name: str, http: list[float], engine: list[float]) -> None:
        h, e = statistics.median(http) * 1000, statistics.median(engine) * 1000
        print(f"{name:<34} HTTP {h:7.1f} ms   engine {e:7.1f} ms   ratio {h / e:4.2f}")

    print(f"server rules, {args.runs} runs, medians")
    report("push of 100 visit mutations", http_push, engine_push)
    report("pull of 1,000 changed records", http_pull, engine_pull)
    print(f"push throughput over HTTP: {100 / statistics.median(http_push):,.0f} mutations/s")


def targets(runs: int, other_patients: int) -> None:
    """The issue-13 rows: server time and CPU (this process) per operation, medians."""
    app = migrated_app(test_config(Path(tempfile.mkdtemp())))
    client = app.test_client()
    team = make_team(app)
    patients = [make_patient(app, team) for _ in range(100)]
    if other_patients:
        other = make_team(app)
        for _ in range(other_patients):
            make_patient(app, other)
    user = make_user(app, "nurse", teams=(team,))
    writer, poller = login(client, user.username), login(client, user.username)
    next_id = 1
    today = datetime.now(UTC).date().isoformat()  # visits that escalate nothing

    def push(size: int) -> tuple[float, float]:
        nonlocal next_id
        body = {"client_id": writer.client_id, "schema_version": 1,
                "mutations": batch(next_id, patients, size, today)}
        wall, cpu = time.perf_counter(), time.process_time()
        response = writer.post("/api/v1/sync/push", json=body)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert response.status_code == 200, response.json
        next_id += size
        return wall, cpu

    def get(session: Any, cursor: str | None, limit: int) -> tuple[float, float, Any]:
        query: dict[str, Any] = {"client_id": session.client_id, "limit": limit}
        if cursor:
            query["cursor"] = cursor
        wall, cpu = time.perf_counter(), time.process_time()
        response = session.get("/api/v1/sync/pull", query_string=query)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert response.status_code == 200, response.json
        return wall, cpu, response.json

    rows: dict[str, list[tuple[float, float]]] = {}
    pushes = [push(25) for _ in range(max(runs, 9900 // 25 + 1))]  # 10,000 records in all
    rows["push, per record (batches of 25)"] = [(w / 25, c / 25) for w, c in pushes]
    cursor = _drain(poller)
    rows["empty poll, per request"] = []
    rows["incremental pull of 100 changed records"] = []
    for _ in range(runs):
        wall, cpu, page = get(poller, cursor, 500)
        assert not page["changes"] and page["cursor"] == cursor
        rows["empty poll, per request"].append((wall, cpu))
        for _ in range(4):
            push(25)
        wall, cpu, page = get(poller, cursor, 500)
        assert len(page["changes"]) == 100, len(page["changes"])
        rows["incremental pull of 100 changed records"].append((wall, cpu))
        cursor = page["cursor"]
    rows["snapshot pull of 10,000+ records (pages of 500)"] = []
    for _ in range(max(1, runs // 5)):
        device = login(client, user.username)
        total, pages, cursor, more = [0.0, 0.0], 0, None, True
        while more:
            wall, cpu, page = get(device, cursor, 500)
            total[0] += wall
            total[1] += cpu
            cursor, more, pages = page["cursor"], page["has_more"], pages + 1
        rows["snapshot pull of 10,000+ records (pages of 500)"].append((total[0], total[1]))
    print(f"issue 13 targets, {runs} runs, medians (server in-process; CPU = process time;"
          f" {other_patients} other teams' patients)")
    for name, values in rows.items():
        wall = statistics.median(v[0] for v in values) * 1000
        cpu = statistics.median(v[1] for v in values) * 1000
        print(f"  {name:<50} {wall:8.2f} ms   CPU {cpu:8.2f} ms")


def _drain(session) -> str:  # type: ignore[no-untyped-def]
    cursor = None
    while True:
        query = {"client_id": session.client_id, "limit": 1000}
        if cursor:
            query["cursor"] = cursor
        body = session.get("/api/v1/sync/pull", query_string=query).json
        cursor = body["cursor"]
        if not body["has_more"]:
            return str(cursor)


def _engine_drain(actor: Actor, cursor: str | None) -> str:
    while True:
        result = pull(records.store(), records.registry(), actor, cursor=cursor, limit=1000)
        cursor = result.cursor
        if not result.has_more:
            return cursor


if __name__ == "__main__":
    main()
