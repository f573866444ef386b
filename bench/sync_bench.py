"""Sync engine benchmark: server-side time of pull and push on a store with 1,000,000
changelog entries, each beside the same work done as raw SQL on the same SQLite file.

    .venv/bin/python bench/sync_bench.py            # full: 1,000,000 history rows
    .venv/bin/python bench/sync_bench.py --quick    # 100,000 history rows, shorter runs

The store (WAL, synchronous=FULL, as the server's storage) is built once with bulk inserts in one
transaction and cached in /tmp; each run works on a fresh copy of it. Measured:

(a) an incremental pull returning 1,000 changed records (a nurse's team; 10,000
    changes by all teams since the cursor), engine ``pull`` + JSON body, versus the
    same scope and change queries in raw SQL with the body spliced from stored JSON;
(b) a push of 100 mutations (JSON body in, fsynced commit out) versus raw SQL doing
    the same reads and writes in one BEGIN IMMEDIATE … COMMIT;
(c) sustained mutations per second (back-to-back pushes of 100);
(d) an empty pull (nothing changed): its time, and proof that it wrote nothing.
Targets: (a) ≤ 25 ms median, (b) ≤ 35 ms median, (c) ≥ 2,800/s, (d) no write.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sync_helpers import Device, InspectableStore, make_registry, nurse  # noqa: E402

from sync import apply_push, pull  # noqa: E402
from sync.cursor import decode_cursor  # noqa: E402
from sync.protocol import wire_json  # noqa: E402
from sync.registry import Actor  # noqa: E402
from sync.store.sqlite import connect, create_schema  # noqa: E402
from sync.store.sqlite_schema import add_views  # noqa: E402

TEAMS = 20
VISITS_PER_PATIENT = 50
DEVICES = 200
STAMP = "2026-11-24T09:00:00.000000+00:00"
# Staff see visits whole: the engine's pulls splice the stored view (as the server's).
VIEWS_KEY = "bench-views-1"


def patient_id(n: int) -> str:
    return str(uuid.UUID(int=0x1000_0000_0000_0000 + n))


def visit_id(n: int) -> str:
    return str(uuid.UUID(int=0x2000_0000_0000_0000 + n))


def team_of(patient: int) -> str:
    return f"T{patient % TEAMS:02}"


# -- building the store ------------------------------------------------------------------


def build(path: Path, history: int) -> None:
    """Write a store with ``history`` changelog rows in one transaction."""
    rng = random.Random(7)
    patients = max(TEAMS, history // (10 * VISITS_PER_PATIENT))
    visits = patients * VISITS_PER_PATIENT
    conn = connect(path)
    conn.execute("PRAGMA synchronous = OFF")  # build only; runs use FULL
    conn.execute("BEGIN IMMEDIATE")
    create_schema(conn)
    add_views(conn)
    conn.execute(
        "CREATE INDEX records_patient_team ON records (json_extract(data, '$.team_id'))"
        " WHERE entity = 'patient'"
    )
    state: dict[tuple[str, str], list[Any]] = {}  # key -> [version, data, meta, seq, pid]

    def rows() -> Iterator[tuple[Any, ...]]:
        seq = 0
        for p in range(patients):
            seq += 1
            data = {"team_id": team_of(p), "name": f"Patient {p}", "notes": "x" * 40}
            meta = {k: [1, "seed"] for k in data}
            state[("patient", patient_id(p))] = [1, data, meta, seq, patient_id(p)]
            yield (
                "patient",
                patient_id(p),
                1,
                0,
                patient_id(p),
                json.dumps(data),
                "seed",
                "seed",
                None,
                json.dumps(sorted(data)),
                STAMP,
            )
        for v in range(visits):
            seq += 1
            pid = patient_id(v // VISITS_PER_PATIENT)
            data = {
                "patient_id": pid,
                "notes": f"visit note {v} " + "y" * 60,
                "status": "scheduled",
                "a": v % 97,
                "b": v % 13,
            }
            client = f"dev-{rng.randrange(DEVICES)}"
            meta = {k: [1, client] for k in data}
            state[("visit", visit_id(v))] = [1, data, meta, seq, pid]
            yield (
                "visit",
                visit_id(v),
                1,
                0,
                pid,
                json.dumps(data),
                client,
                client,
                None,
                json.dumps(sorted(data)),
                STAMP,
            )
        while seq < history:
            seq += 1
            key = ("visit", visit_id(rng.randrange(visits)))
            entry = state[key]
            entry[0] += 1
            field = rng.choice(("notes", "status", "a", "b"))
            client = f"dev-{rng.randrange(DEVICES)}"
            entry[1] = {**entry[1], field: f"{field} v{entry[0]}"}
            entry[2] = {**entry[2], field: [entry[0], client]}
            entry[3] = seq
            yield (
                key[0],
                key[1],
                entry[0],
                0,
                entry[4],
                json.dumps(entry[1]),
                client,
                client,
                None,
                json.dumps([field]),
                STAMP,
            )

    conn.executemany(
        "INSERT INTO changelog (entity, id, version, deleted, patient_id, data, client_id,"
        " author_id, mutation_id, changed, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows(),
    )
    conn.executemany(
        "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data,"
        " seq, meta, views_key, view_staff) VALUES (?,?,?,0,?,?,?,?,?,?,?)",
        (
            (k[0], k[1], e[0], STAMP, e[4], json.dumps(e[1]), e[3], json.dumps(e[2]),
             *((VIEWS_KEY, wire_json(e[1])) if k[0] == "visit" else (None, None)))
            for k, e in state.items()
        ),
    )
    conn.execute("CREATE TABLE bench_meta (history INTEGER, patients INTEGER, visits INTEGER)")
    conn.execute("INSERT INTO bench_meta VALUES (?, ?, ?)", (history, patients, visits))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def views_registry() -> Any:
    """The test registry with the server's stored-views setup for nurses' visits."""
    registry = make_registry()
    registry.audiences, registry.views_key = {"nurse": "staff"}, VIEWS_KEY
    visit = registry.entities["visit"]
    registry.entities["visit"] = dataclasses.replace(visit, view=lambda audience, data: data)
    return registry


def cached_store(history: int, rebuild: bool) -> Path:
    cache = Path(f"/tmp/doorstep_sync_bench_{history}.v19.db")  # with stored views
    if rebuild or not cache.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        build(cache, history)
        print(f"built {cache} in {time.perf_counter() - started:.1f} s", flush=True)
    work = Path(f"/tmp/doorstep_sync_bench_{history}.work.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(cache, work)
    return work


# -- measuring ---------------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median milliseconds over ``runs`` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def team_visits(conn: sqlite3.Connection, team: str, limit: int) -> list[tuple[str, int]]:
    return conn.execute(
        "SELECT r.id, r.version FROM records r JOIN records p ON p.entity = 'patient'"
        " AND p.id = r.patient_id WHERE r.entity = 'visit'"
        " AND json_extract(p.data, '$.team_id') = ? ORDER BY r.id LIMIT ?",
        (team, limit),
    ).fetchall()


def push_body(client_id: str, first_id: int, targets: list[tuple[str, int]], tag: str) -> bytes:
    mutations = [
        {
            "mutation_id": first_id + i,
            "entity": "visit",
            "id": rid,
            "op": "update",
            "base_version": version,
            "fields": {"notes": f"{tag} {i}", "b": i},
        }
        for i, (rid, version) in enumerate(targets)
    ]
    return json.dumps(
        {"client_id": client_id, "schema_version": 1, "mutations": mutations}
    ).encode()


class Pusher:
    """A device pushing batches of 100 updates to its team's visits, round-robin."""

    def __init__(self, store: InspectableStore, registry: Any, actor: Actor, team: str) -> None:
        self.store, self.registry, self.actor = store, registry, actor
        self.targets = team_visits(store.conn, team, 5000)
        self.next_id, self.cursor, self.round = 1, 0, 0

    def batch(self, size: int = 100) -> bytes:
        picked = []
        for _ in range(size):
            rid, _ = self.targets[self.cursor % len(self.targets)]
            self.cursor += 1
            record = self.store.get_record("visit", rid)
            assert record is not None
            picked.append((rid, record.version))
        self.round += 1
        body = push_body(self.actor.client_id, self.next_id, picked, f"r{self.round}")
        self.next_id += size
        return body

    def push(self, body: bytes) -> None:
        response = apply_push(self.store, self.registry, self.actor, body)
        assert {r.status for r in response.results} == {"applied"}, response.results[:3]


def raw_push(conn: sqlite3.Connection, body: bytes, client_id: str) -> None:
    """Push's reads and writes in plain SQL: no rules, no conflicts, no hooks."""
    request = json.loads(body)
    conn.execute("BEGIN IMMEDIATE")
    for m in request["mutations"]:
        row = conn.execute(
            "SELECT version, data, meta, patient_id FROM records WHERE entity = ? AND id = ?",
            (m["entity"], m["id"]),
        ).fetchone()
        version = row[0] + 1
        data = {**json.loads(row[1]), **m["fields"]}
        meta = {**json.loads(row[2]), **{k: [version, client_id] for k in m["fields"]}}
        text = json.dumps(data)
        seq = conn.execute(
            "INSERT INTO changelog (entity, id, version, deleted, patient_id, data, client_id,"
            " author_id, mutation_id, changed, at) VALUES (?,?,?,0,?,?,?,?,?,?,?)",
            (
                m["entity"],
                m["id"],
                version,
                row[3],
                text,
                client_id,
                "raw",
                m["mutation_id"],
                json.dumps(sorted(m["fields"])),
                STAMP,
            ),
        ).lastrowid
        conn.execute(
            "UPDATE records SET version = ?, data = ?, seq = ?, meta = ?, updated_at = ?,"
            " views_key = NULL WHERE entity = ? AND id = ?",
            (version, text, seq, json.dumps(meta), STAMP, m["entity"], m["id"]),
        )
        conn.execute(
            "INSERT INTO sync_results (client_id, mutation_id, result) VALUES (?, ?, ?)",
            (client_id, m["mutation_id"], json.dumps({"status": "applied", "version": version})),
        )
    conn.execute(
        "INSERT INTO sync_clients (client_id, user_id, last_mutation_id, updated_at)"
        " VALUES (?, 'raw', ?, ?) ON CONFLICT (client_id) DO UPDATE"
        " SET last_mutation_id = excluded.last_mutation_id",
        (client_id, request["mutations"][-1]["mutation_id"], STAMP),
    )
    conn.execute("COMMIT")


def raw_pull(conn: sqlite3.Connection, team: str, since: int, limit: int) -> bytes:
    """Pull's scope and change queries in plain SQL, the body spliced from stored JSON."""
    conn.execute("BEGIN")
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM records WHERE entity = 'patient' AND deleted = 0"
            " AND json_extract(data, '$.team_id') IN (SELECT value FROM json_each(?))",
            (json.dumps([team]),),
        )
    ]
    rows = conn.execute(
        "SELECT entity, id, version, deleted, updated_at, data FROM records WHERE seq IN"
        " (SELECT seq FROM records INDEXED BY records_patient_seq WHERE patient_id IN"
        " (SELECT value FROM json_each(?)) AND seq > ? ORDER BY seq LIMIT ?) ORDER BY seq",
        (json.dumps(ids), since, limit),
    ).fetchall()
    conn.execute("COMMIT")
    parts = [
        f'{{"entity":"{r[0]}","id":"{r[1]}","version":{r[2]},'
        f'"deleted":{"true" if r[3] else "false"},"updated_at":"{r[4]}","data":{r[5]}}}'
        for r in rows
    ]
    return ('{"changes":[' + ",".join(parts) + "]}").encode()


def file_state(path: Path) -> tuple[int, ...]:
    return tuple(
        os.stat(f"{path}{s}").st_size if os.path.exists(f"{path}{s}") else -1 for s in ("", "-wal")
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    history = 100_000 if args.quick else 1_000_000
    runs = 10 if args.quick else 30
    path = cached_store(history, args.rebuild)
    store = InspectableStore.open(path)
    registry = views_registry()
    patients, visits = store.conn.execute("SELECT patients, visits FROM bench_meta").fetchone()
    results: dict[str, Any] = {"history": history, "patients": patients, "visits": visits}
    print(
        f"store: {history:,} changelog rows, {patients:,} patients, {visits:,} visits", flush=True
    )

    # The measured nurse's first sync (a snapshot of her team), then 10,000 changes by
    # every team, 1,000 of them to distinct records of hers.
    reader = Device(store, registry, nurse("bench-reader", "T00", "reader-dev"))
    started = time.perf_counter()
    pages = reader.sync(limit=1000)
    results["snapshot_ms"] = (time.perf_counter() - started) * 1000
    results["snapshot_records"] = sum(len(p.changes) for p in pages)
    cursor = reader.cursor
    assert cursor is not None
    since = decode_cursor(cursor).since
    mine = Pusher(store, registry, nurse("bench-mate", "T00", "mate-dev"), "T00")
    everyone = Actor(
        "bench-coord", "coordinator", "coord-dev", frozenset(f"T{t:02}" for t in range(1, TEAMS))
    )
    others = Pusher(store, registry, everyone, "T01")
    others.targets = [
        t for team in range(1, TEAMS) for t in team_visits(store.conn, f"T{team:02}", 500)
    ]
    random.Random(3).shuffle(others.targets)
    changed = min(1000, len(mine.targets))  # --quick: a team has only 500 visits
    for _ in range(changed // 100):
        mine.push(mine.batch())
        for _ in range(9):
            others.push(others.batch())
    results["changes_since_cursor"] = store.max_seq() - since

    def engine_pull() -> Any:
        response = pull(store, registry, reader.actor, cursor=cursor, limit=1000)
        body = json.dumps(response.to_wire()).encode()
        return response, body

    results["pull_ms"], (response, _) = timed(engine_pull, runs)
    results["pull_records"] = len(response.changes)
    assert len(response.changes) == changed and not response.has_more
    raw_conn = connect(path)
    results["raw_pull_ms"], _ = timed(lambda: raw_pull(raw_conn, "T00", since, 1000), runs)

    # (d) empty pull: up to date, nothing changed.
    reader.sync(limit=1000)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = (
        store.conn.total_changes,
        file_state(path),
        raw_conn.execute("PRAGMA data_version").fetchone()[0],
    )

    def empty_pull() -> Any:
        response = pull(store, registry, reader.actor, cursor=reader.cursor, limit=500)
        assert not response.changes and not response.evictions
        return json.dumps(response.to_wire())

    results["empty_pull_ms"], _ = timed(empty_pull, runs * 3)
    after = (
        store.conn.total_changes,
        file_state(path),
        raw_conn.execute("PRAGMA data_version").fetchone()[0],
    )
    results["empty_pull_wrote"] = before != after
    results["raw_empty_pull_ms"], _ = timed(
        lambda: raw_pull(raw_conn, "T00", store.max_seq(), 500), runs * 3
    )

    # (b) push of 100; (c) sustained.
    pusher = Pusher(store, registry, nurse("bench-pusher", "T02", "pusher-dev"), "T02")
    push_times = []
    for _ in range(runs):
        body = pusher.batch()
        started = time.perf_counter()
        pusher.push(body)
        push_times.append((time.perf_counter() - started) * 1000)
    results["push_ms"] = statistics.median(push_times)
    raw_targets = team_visits(store.conn, "T03", 5000)
    raw_times, next_id = [], 1
    for n in range(runs):
        chunk = [raw_targets[(n * 100 + i) % len(raw_targets)] for i in range(100)]
        body = push_body("raw-dev", next_id, chunk, f"raw{n}")
        next_id += 100
        started = time.perf_counter()
        raw_push(raw_conn, body, "raw-dev")
        raw_times.append((time.perf_counter() - started) * 1000)
    results["raw_push_ms"] = statistics.median(raw_times)

    seconds = 2.0 if args.quick else 5.0
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        body = pusher.batch()
        pusher.push(body)
        done += 100
    results["sustained_per_s"] = done / (time.perf_counter() - started)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        chunk = [raw_targets[(next_id + i) % len(raw_targets)] for i in range(100)]
        raw_push(raw_conn, push_body("raw-dev", next_id, chunk, "raw"), "raw-dev")
        next_id += 100
        done += 100
    results["raw_sustained_per_s"] = done / (time.perf_counter() - started)
    raw_conn.close()
    store.conn.close()
    return results


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def report(r: dict[str, Any]) -> str:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}×" if b else "-"

    lines = [
        f"Machine: {machine()}",
        f"Store: {r['history']:,} changelog rows, {r['patients']:,} patients,"
        f" {r['visits']:,} visits; WAL, synchronous=FULL.",
        "",
        "| measure | engine | raw SQL | ratio | target |",
        "|---|---|---|---|---|",
        f"| (a) incremental pull, {r['pull_records']:,} changed records"
        f" ({r['changes_since_cursor']:,} changes since cursor), median"
        f" | {r['pull_ms']:.1f} ms | {r['raw_pull_ms']:.1f} ms"
        f" | {ratio(r['pull_ms'], r['raw_pull_ms'])} | ≤ 25 ms |",
        f"| (b) push of 100 mutations, median | {r['push_ms']:.1f} ms"
        f" | {r['raw_push_ms']:.1f} ms | {ratio(r['push_ms'], r['raw_push_ms'])} | ≤ 35 ms |",
        f"| (c) sustained mutations/s (pushes of 100) | {r['sustained_per_s']:,.0f}"
        f" | {r['raw_sustained_per_s']:,.0f}"
        f" | {ratio(r['raw_sustained_per_s'], r['sustained_per_s'])} | ≥ 2,800 |",
        f"| (d) empty pull, median | {r['empty_pull_ms']:.2f} ms"
        f" | {r['raw_empty_pull_ms']:.2f} ms"
        f" | {ratio(r['empty_pull_ms'], r['raw_empty_pull_ms'])}"
        f" | writes nothing: {'NO — it wrote' if r['empty_pull_wrote'] else 'yes'} |",
        f"| first sync (snapshot) of {r['snapshot_records']:,} records, pages of 1,000"
        f" | {r['snapshot_ms']:.0f} ms | | | |",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 history rows")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    args = parser.parse_args()
    started = time.perf_counter()
    results = run(args)
    print(report(results))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    ok = (
        results["pull_ms"] <= 25
        and results["push_ms"] <= 35
        and results["sustained_per_s"] >= 2800
        and not results["empty_pull_wrote"]
    )
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
