"""The sync endpoints with the server's real rules: validation, permissions, derived
falls risk, audit and escalation hooks — through the Flask app (no network).

Reports the median server-side time of a push of 100 mutations and an incremental pull
of 1,000 changed records, beside the same work through the engine alone with the same
registry in the same run (so the ratio shows what HTTP + JSON + auth add).

    .venv/bin/python bench/server_bench.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import login, make_patient, make_team, make_user, migrated_app, test_config  # noqa: E402

from server.records import engine as records  # noqa: E402
from sync import apply_push, pull  # noqa: E402
from sync.registry import Actor  # noqa: E402


def visit(patient_id: str) -> dict[str, object]:
    return {"patient_id": patient_id, "scheduled_start": "2026-11-24T09:00:00+00:00",
            "scheduled_end": "2026-11-24T09:30:00+00:00", "visit_type": "wound_care",
            "status": "completed", "notes": "Dressing changed, healing well.",
            "interventions": ["dressing"]}


def batch(start: int, patients: list[str], size: int = 100) -> list[dict[str, object]]:
    return [{"mutation_id": start + i, "entity": "visit", "id": str(uuid.uuid4()),
             "op": "create", "base_version": 0, "fields": visit(patients[i % len(patients)])}
            for i in range(size)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
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
