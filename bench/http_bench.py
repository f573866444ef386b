"""The sync endpoints over real HTTP with concurrent devices, beside Kinto in the same run.

``doorstep serve --workers 2`` runs in a subprocess on a fresh instance (``doorstep
init``, then teams, users and records made through the HTTP API). Kinto runs beside it
from the benchmark's own virtualenv (``.cache/kinto-venv``, made with ``python -m venv``
and ``pip install kinto`` on first use), on its memory backend unless
``--kinto-backend`` names a PostgreSQL URL. With ``--postgres`` one throwaway PostgreSQL
15 cluster (bench/http_postgres.py) serves both: Doorstep in one database, Kinto in
another, and each row's CPU adds the CPU of the backends serving that server's database.
Both listen on free 127.0.0.1 ports and are stopped at the end.

    .venv/bin/python bench/http_bench.py                    # 120, 2,000 and 16,000 patients
    .venv/bin/python bench/http_bench.py --sizes 120,2000 --rounds 5
    .venv/bin/python bench/http_bench.py --quick            # a smoke run: 120 patients, 1 round
    .venv/bin/python bench/http_bench.py --kinto-backend postgresql://u:p@127.0.0.1:5432/kinto
    .venv/bin/python bench/http_bench.py --postgres         # both servers on one PostgreSQL

Per size the two servers get equivalent data: the devices' team (100 patients; Kinto: one
collection of 100 records), a team whose scope is exactly 10,000 records (patients and
their visits; Kinto: a collection of 10,000 records) and the other patients in teams of
100 (Kinto: one more collection of that many records). Then, in rounds, each row runs
on Doorstep and then on Kinto (interleaved, so both see the same machine load):

- push: 20 devices each send batches of 25 new visits (Kinto: ``POST /batch`` of 25
  record creations); CPU per record;
- empty poll: 20 devices each ask for changes since their cursor, nothing changed
  (Kinto: ``GET …/records?_since=<etag>``); CPU per request;
- incremental pull: another device changes 100 records, then the 20 devices each pull
  them (Kinto: ``_since`` with 100 changed); CPU per pull of 100;
- snapshot pull: SNAPSHOT_DEVICES devices each pull the 10,000-record scope in pages of
  500 (Kinto: the paginated list with ``_limit=500``); CPU per snapshot.

Latency is per HTTP request (per batch, per poll, per pull; a snapshot's is its 20 pages
together), median and p95 over all devices and rounds. Server CPU is the user + system
time of the server's processes (granian's main process + workers; Kinto's process) over the
phase, from psutil, divided by the operations done in it. Clients are threads with a
``requests.Session`` each (keep-alive; requests' own ``Accept-Encoding: gzip, deflate, br,
zstd``, so Doorstep answers zstd, as to Chromium; Kinto does not compress) in this process,
on the same machine as both servers.

The Doorstep side is here; the Kinto side is bench/http_kinto.py; what both use
(processes and their CPU, the records, timing a row) is bench/http_common.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests
from http_common import (
    BATCH,
    CHANGED,
    DEVICES,
    PAGE,
    PASSWORD,
    ROOT,
    SNAPSHOT,
    SNAPSHOT_DEVICES,
    TEAM,
    HostSteal,
    Meter,
    Row,
    free_port,
    measure,
    patient,
    running,
    visit,
)
from http_kinto import kinto_round, kinto_server, kinto_version, seed_kinto
from http_postgres import BENCH_SETTINGS, BenchCluster, bench_cluster
from http_report import ROWS, report

SIZES = (120, 2_000, 16_000)


# -- Doorstep ---------------------------------------------------------------------------

def doorstep_env(instance: Path, database_url: str | None) -> dict[str, str]:
    database = {"DOORSTEP_DATABASE_URL": database_url} if database_url else {}
    return {**os.environ, **database, "PYTHONPATH": str(ROOT),
            "DOORSTEP_INSTANCE": str(instance),
            # Sign-in cost is not measured: cheap hashing so 20 devices sign in quickly.
            "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1",
            "DOORSTEP_ACCESS_TOKEN_MINUTES": "240"}


DOORSTEP = [sys.executable, "-c", "from server.cli import main; main()"]


@contextlib.contextmanager
def doorstep_server(workdir: Path, database_url: str | None
                    ) -> Iterator[tuple[str, psutil.Process]]:
    instance = workdir / "doorstep"
    env = doorstep_env(instance, database_url)
    subprocess.run([*DOORSTEP, "init"], env=env, check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*DOORSTEP, "user", "add", "bench.admin", "--role", "admin"], env=env,
                   input=f"{PASSWORD}\n", text=True, check=True, capture_output=True, cwd=ROOT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*DOORSTEP, "serve", "--port", str(port), "--workers", "2"]
    with running(command, env, f"{base}/api/v1/openapi.json", workdir / "doorstep.log") as proc:
        yield base, proc


class Device:
    """One signed-in Doorstep device: its session, client id, cursor and mutation ids."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.http = requests.Session()
        response = self.http.post(f"{base}/api/v1/auth/login", json={
            "username": username, "password": PASSWORD, "device_name": "bench"})
        response.raise_for_status()
        body = response.json()
        self.http.headers["Authorization"] = f"Bearer {body['access_token']}"
        self.client_id: str = body["client_id"]
        self.cursor: str | None = None
        self.mutation_id = 0

    def push(self, mutations: list[dict[str, Any]]) -> None:
        for m in mutations:
            self.mutation_id += 1
            m["mutation_id"] = self.mutation_id
        response = self.http.post(f"{self.base}/api/v1/sync/push", json={
            "client_id": self.client_id, "schema_version": 1, "mutations": mutations})
        response.raise_for_status()
        bad = [r for r in response.json()["results"] if r["status"] != "applied"]
        assert not bad, bad[:3]

    def pull(self, cursor: str | None, limit: int = PAGE) -> dict[str, Any]:
        params: dict[str, Any] = {"client_id": self.client_id, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = self.http.get(f"{self.base}/api/v1/sync/pull", params=params)
        response.raise_for_status()
        return dict(response.json())

    def drain(self) -> int:
        """Pull until nothing is left; the number of changes received."""
        count = 0
        while True:
            body = self.pull(self.cursor, 1000)
            count += len(body["changes"])
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return count


def create(entity: str, fields: dict[str, Any], record_id: str | None = None
           ) -> dict[str, Any]:
    return {"entity": entity, "id": record_id or str(uuid.uuid4()), "op": "create",
            "base_version": 0, "fields": fields}


@dataclass
class DoorstepWorld:
    devices: list[Device]
    writer: Device
    snapshot_devices: list[Device]
    team_patients: list[str]
    changed: list[tuple[str, int]] = field(default_factory=list)  # (visit id, version)


def seed_doorstep(base: str, patients: int) -> DoorstepWorld:
    admin = requests.Session()
    token = admin.post(f"{base}/api/v1/auth/login", json={
        "username": "bench.admin", "password": PASSWORD, "device_name": "bench"})
    token.raise_for_status()
    admin.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def team(name: str) -> str:
        response = admin.post(f"{base}/api/v1/teams", json={"name": name})
        response.raise_for_status()
        return str(response.json()["id"])

    def user(name: str, role: str, teams: list[str]) -> None:
        admin.post(f"{base}/api/v1/users", json={
            "username": name, "password": PASSWORD, "role": role, "display_name": name,
            "team_ids": teams}).raise_for_status()

    home, snap = team("Devices' team"), team("Snapshot team")
    rest = max(0, patients - 2 * TEAM)  # the others, in teams of 100
    others = [team(f"Team {n}") for n in range(-(-rest // TEAM))]
    user("bench.nurse", "nurse", [home])
    user("bench.snap", "coordinator", [snap])
    user("bench.seeder", "coordinator", [home, snap, *others])
    seeder = Device(base, "bench.seeder")
    # Patients: 100 in the devices' team, up to 100 in the snapshot team, the rest in
    # teams of 100; the snapshot team's visits make its scope exactly 10,000 records.
    home_ids = [str(uuid.uuid4()) for _ in range(min(TEAM, patients))]
    snap_ids = [str(uuid.uuid4()) for _ in range(min(TEAM, patients - len(home_ids)))]
    mutations = [create("patient", patient(home), i) for i in home_ids]
    mutations += [create("patient", patient(snap), i) for i in snap_ids]
    mutations += [create("patient", patient(others[n // TEAM])) for n in range(rest)]
    mutations += [create("visit", visit(snap_ids[n % len(snap_ids)]))
                  for n in range(SNAPSHOT - len(snap_ids))]
    home_visits = [create("visit", visit(home_ids[n % len(home_ids)])) for n in range(CHANGED)]
    mutations += home_visits
    for start in range(0, len(mutations), 500):
        seeder.push(mutations[start:start + 500])
    world = DoorstepWorld(
        devices=[Device(base, "bench.nurse") for _ in range(DEVICES)],
        writer=Device(base, "bench.nurse"),
        snapshot_devices=[Device(base, "bench.snap") for _ in range(SNAPSHOT_DEVICES)],
        team_patients=home_ids,
        changed=[(m["id"], 1) for m in home_visits])
    for device in world.devices:
        device.drain()
    return world


def doorstep_round(world: DoorstepWorld, meter: Meter, rows: dict[str, Row],
                   pushes: int, polls: int) -> None:
    def push(device: Device) -> int:
        device.push([create("visit", visit(world.team_patients[n % TEAM]))
                     for n in range(BATCH)])
        return BATCH

    for _ in range(pushes):
        measure(rows["push"], meter, world.devices, push)
    for device in world.devices:
        device.drain()

    def poll(device: Device) -> int:
        body = device.pull(device.cursor)
        assert not body["changes"] and not body["has_more"], "the poll was not empty"
        device.cursor = body["cursor"]
        return 1

    for _ in range(polls):
        measure(rows["empty poll"], meter, world.devices, poll)

    updates = [{"entity": "visit", "id": i, "op": "update", "base_version": v,
                "fields": {"notes": f"Changed at {time.time()}"}} for i, v in world.changed]
    for start in range(0, CHANGED, BATCH):
        world.writer.push(updates[start:start + BATCH])
    world.changed = [(i, v + 1) for i, v in world.changed]

    def incremental(device: Device) -> int:
        body = device.pull(device.cursor)
        assert len(body["changes"]) == CHANGED and not body["has_more"], len(body["changes"])
        device.cursor = body["cursor"]
        return 1

    measure(rows["incremental pull"], meter, world.devices, incremental)

    def snapshot(device: Device) -> int:
        cursor, count = None, 0
        while True:
            body = device.pull(cursor)
            count += len(body["changes"])
            cursor = body["cursor"]
            if not body["has_more"]:
                break
        assert count == SNAPSHOT, count
        return 1

    measure(rows["snapshot pull"], meter, world.snapshot_devices, snapshot)


def run_size(patients: int, args: argparse.Namespace, pg: BenchCluster | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"doorstep-http-{patients}-"))
    d_db, k_db = f"doorstep_{patients}", f"kinto_{patients}"
    d_url = pg.database(d_db) if pg else None
    k_backend = pg.database(k_db) if pg else args.kinto_backend
    try:
        with doorstep_server(workdir, d_url) as (d_base, d_proc), \
                kinto_server(workdir, k_backend, args.kinto_threads) as (k_base, k_proc):
            d_meter = pg.meter(d_proc, d_db) if pg else Meter(d_proc)
            k_meter = pg.meter(k_proc, k_db) if pg else Meter(k_proc)
            started = time.perf_counter()
            d_world = seed_doorstep(d_base, patients)
            seeded = time.perf_counter()
            k_world = seed_kinto(k_base, patients)
            print(f"  seeded {patients:,} patients: Doorstep {seeded - started:.0f} s, "
                  f"Kinto {time.perf_counter() - seeded:.0f} s", flush=True)
            doorstep = {name: Row(name) for name in ROWS}
            kinto = {name: Row(name) for name in ROWS}
            steal = HostSteal()
            for n in range(args.rounds):
                doorstep_round(d_world, d_meter, doorstep, args.pushes, args.polls)
                kinto_round(k_world, k_meter, kinto, args.pushes, args.polls)
                print(f"  round {n + 1}/{args.rounds} done", flush=True)
            # with --postgres the CPU cells say "+ PG" themselves
            label = "Kinto" + ("" if pg or k_backend == "memory" else " (+PostgreSQL)")
            steal.stop()
            report(patients, doorstep, kinto, label, pg is not None)
            print(f"host steal during the rounds: {steal.share:.1%} of the machine's CPU time")
            print(f"Kinto batches retried after 409/503 + Retry-After: {k_world.retries()}")
            if pg:
                print("PostgreSQL backends that exited mid-run (their CPU is lost to the "
                      f"count): Doorstep {pg.exited[d_db]}, Kinto {pg.exited[k_db]}")
                pg.top_statements(d_db, "Doorstep")
                pg.top_statements(k_db, "Kinto")
    finally:
        if pg:  # the servers are stopped: free the disk for the next size
            pg.drop(d_db)
            pg.drop(k_db)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="patients in the database, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pushes", type=int, default=2, help="push batches per device/round")
    parser.add_argument("--polls", type=int, default=10, help="empty polls per device/round")
    parser.add_argument("--kinto-backend", default="memory",
                        help="'memory' or a PostgreSQL URL for Kinto's storage and permissions")
    parser.add_argument("--postgres", action="store_true",
                        help="one throwaway PostgreSQL 15 cluster (bench/http_postgres.py) "
                             "for both servers, a database each; CPU includes PostgreSQL's")
    parser.add_argument("--kinto-threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 120 patients, 1 round")
    parser.add_argument("--keep", action="store_true", help="keep the instances and logs")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.rounds, args.pushes, args.polls = [120], 1, 1, 3
    if min(sizes) < TEAM + 1:
        parser.error(f"--sizes: at least {TEAM + 1} patients (the devices' team is {TEAM})")
    backend = "postgresql" if args.postgres else args.kinto_backend.split("://")[0]
    with bench_cluster() if args.postgres else contextlib.nullcontext() as pg:
        if pg:
            print(f"PostgreSQL {pg.version()} (fsync, synchronous_commit, full_page_writes on;"
                  f" {BENCH_SETTINGS['shared_buffers']} shared_buffers) for both servers")
        print(f"{DEVICES} devices; Doorstep: doorstep serve --workers 2"
              f"{' on PostgreSQL' if pg else ''}; Kinto {kinto_version()} on {backend} "
              f"(waitress, {args.kinto_threads} threads); {args.rounds} rounds", flush=True)
        for patients in sizes:
            run_size(patients, args, pg)
    print(f"\nmachine: {os.cpu_count()} CPU, {platform.platform()}, "
          f"Python {platform.python_version()}")



if __name__ == "__main__":
    main()
