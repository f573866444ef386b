"""The sync endpoints over real HTTP with concurrent devices, beside Kinto in the same run.

``doorstep serve --workers 2`` runs in a subprocess on a fresh instance (``doorstep init``,
then teams, users and records made through the HTTP API). Kinto runs beside it from the
benchmark's own virtualenv (``.cache/kinto-venv``, made with ``python -m venv`` and
``pip install kinto`` on first use), on its memory backend unless ``--kinto-backend``
names a PostgreSQL URL. Both listen on free 127.0.0.1 ports and are stopped at the end.

    .venv/bin/python bench/http_bench.py                    # 120, 2,000 and 16,000 patients
    .venv/bin/python bench/http_bench.py --sizes 120,2000 --rounds 5
    .venv/bin/python bench/http_bench.py --quick            # a smoke run: 120 patients, 1 round
    .venv/bin/python bench/http_bench.py --kinto-backend postgresql://u:p@127.0.0.1:5432/kinto

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
time of the server's processes (gunicorn master + workers; Kinto's process) over the
phase, from psutil, divided by the operations done in it. Clients are threads with a
``requests.Session`` each (keep-alive, ``Accept-Encoding: gzip, deflate``) in this process,
on the same machine as both servers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
KINTO_VENV = ROOT / ".cache" / "kinto-venv"
SIZES = (120, 2_000, 16_000)
DEVICES = 20
SNAPSHOT_DEVICES = 2
BATCH = 25
CHANGED = 100
SNAPSHOT = 10_000
PAGE = 500
TEAM = 100  # patients per team
PASSWORD = "bench-password-1"
ROWS = ("push", "empty poll", "incremental pull", "snapshot pull")
# Issue 13's goals for Doorstep's server CPU per operation, ms.
GOALS = {"push": 0.6, "empty poll": 1.0, "incremental pull": 3.0, "snapshot pull": 100.0}
UNITS = {"push": "record", "empty poll": "request", "incremental pull": "pull of 100",
         "snapshot pull": "snapshot of 10,000"}


# -- processes ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited early; its log:\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer at {url}; its log:\n{log.read_text()[-3000:]}")


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of a server process and all its children (gunicorn's workers)."""
    total = 0.0
    for proc in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], url: str, log: Path
            ) -> Iterator[psutil.Process]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=ROOT)
    try:
        wait_until_up(url, process, log)
        yield psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- Doorstep ---------------------------------------------------------------------------

def doorstep_env(instance: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_INSTANCE": str(instance),
            # Sign-in cost is not measured: cheap hashing so 20 devices sign in quickly.
            "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1",
            "DOORSTEP_ACCESS_TOKEN_MINUTES": "240"}


DOORSTEP = [sys.executable, "-c", "from server.cli import main; main()"]


@contextlib.contextmanager
def doorstep_server(workdir: Path) -> Iterator[tuple[str, psutil.Process]]:
    instance = workdir / "doorstep"
    env = doorstep_env(instance)
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


_NHS = iter(range(1, 10**6))


def nhs_number() -> str:
    """A Modulus-11-valid NHS test number (999 range), different on every call."""
    while True:
        first = f"999{next(_NHS):06d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(first))
        digit = 11 - total % 11
        if digit == 11:
            digit = 0
        if digit != 10:
            return f"{first}{digit}"


def patient(team_id: str) -> dict[str, Any]:
    return {"nhs_number": nhs_number(), "given_name": "Edith", "family_name": "Crawley",
            "date_of_birth": "1941-03-02", "sex": "female", "address": "4 Mill Lane, Testtown",
            "postcode": "TE1 4ST", "phone": "01632 960123", "team_id": team_id,
            "gp_practice": "Testtown Surgery", "named_gp": "Dr Okafor",
            "complexity_tier": "moderate", "risk_profiling_opt_out": False,
            "sharing_objection": False, "access_notes": "Key safe 1234; dog"}


def visit(patient_id: str) -> dict[str, Any]:
    """A visit done within the hour: the late-sync rule raises nothing for it."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return {"patient_id": patient_id, "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(minutes=30)).isoformat(),
            "visit_type": "wound_care",
            "status": "completed", "notes": "Dressing changed, healing well.",
            "interventions": ["dressing"]}


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


# -- Kinto ------------------------------------------------------------------------------

KINTO_INI = """\
[app:main]
use = egg:kinto
kinto.storage_backend = {storage}
kinto.storage_url = {url}
kinto.permission_backend = {permission}
kinto.permission_url = {url}
kinto.cache_backend = kinto.core.cache.memory
multiauth.policies = basicauth
kinto.bucket_create_principals = system.Authenticated
kinto.batch_max_requests = 1000
kinto.storage_max_fetch_size = 20000

[server:main]
use = egg:waitress#main
host = 127.0.0.1
port = {port}
threads = {threads}
"""


def kinto_venv(backend: str) -> Path:
    """The benchmark's own Kinto (from PyPI), made on first use."""
    python = KINTO_VENV / "bin" / "python"
    if not python.exists():
        print("making the Kinto virtualenv in .cache/kinto-venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(KINTO_VENV)], check=True)
    wanted = "kinto[postgresql]" if backend != "memory" else "kinto"
    probe = "import kinto" + ("; import psycopg2" if backend != "memory" else "")
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode:
        subprocess.run([str(python), "-m", "pip", "install", "-q", wanted], check=True)
    return KINTO_VENV / "bin"


@contextlib.contextmanager
def kinto_server(workdir: Path, backend: str, threads: int
                 ) -> Iterator[tuple[str, psutil.Process]]:
    bin_dir = kinto_venv(backend)
    port = free_port()
    if backend == "memory":
        storage, permission, url = ("kinto.core.storage.memory",
                                    "kinto.core.permission.memory", "")
    else:
        storage, permission, url = ("kinto.core.storage.postgresql",
                                    "kinto.core.permission.postgresql", backend)
    ini = workdir / "kinto.ini"
    ini.write_text(KINTO_INI.format(storage=storage, permission=permission, url=url,
                                    port=port, threads=threads))
    if backend != "memory":
        subprocess.run([str(bin_dir / "kinto"), "migrate", "--ini", str(ini)], check=True,
                       capture_output=True)
    base = f"http://127.0.0.1:{port}/v1"
    with running([str(bin_dir / "pserve"), str(ini)], os.environ.copy(), f"{base}/",
                 workdir / "kinto.log") as proc:
        yield base, proc


class KintoDevice:
    def __init__(self, base: str, user: str):
        self.base = base
        self.http = requests.Session()
        self.http.auth = (user, PASSWORD)
        self.etag: str | None = None
        self.records = f"{base}/buckets/b/collections/c/records"

    def batch(self, requests_: list[dict[str, Any]], path: str) -> None:
        response = self.http.post(f"{self.base}/batch", json={
            "defaults": {"method": "POST", "path": path}, "requests": requests_})
        response.raise_for_status()
        bad = [r for r in response.json()["responses"] if r["status"] >= 400]
        assert not bad, bad[:3]

    def since(self) -> list[dict[str, Any]]:
        response = self.http.get(self.records, params={"_since": self.etag})
        response.raise_for_status()
        self.etag = response.headers["ETag"].strip('"')
        return list(response.json()["data"])

    def snapshot(self, collection: str) -> int:
        url: str | None = f"{self.base}/buckets/b/collections/{collection}/records"
        params: dict[str, Any] | None = {"_limit": PAGE}
        count = 0
        while url:
            response = self.http.get(url, params=params)
            response.raise_for_status()
            count += len(response.json()["data"])
            url, params = response.headers.get("Next-Page"), None
        return count


@dataclass
class KintoWorld:
    devices: list[KintoDevice]
    writer: KintoDevice
    snapshot_devices: list[KintoDevice]
    changed: list[str]


def seed_kinto(base: str, patients: int) -> KintoWorld:
    owner = KintoDevice(base, "bench")
    owner.http.delete(f"{base}/buckets/b")  # a database kept from an earlier size (PostgreSQL)
    owner.http.put(f"{base}/buckets/b").raise_for_status()
    for name in ("c", "snap", "others"):
        owner.http.put(f"{base}/buckets/b/collections/{name}").raise_for_status()

    def fill(collection: str, bodies: list[dict[str, Any]]) -> list[str]:
        ids = [str(uuid.uuid4()) for _ in bodies]
        path = f"/buckets/b/collections/{collection}/records"
        for start in range(0, len(bodies), 1000):
            owner.batch([{"method": "PUT", "path": f"{path}/{i}", "body": {"data": b}}
                         for i, b in zip(ids[start:start + 1000], bodies[start:start + 1000],
                                         strict=True)], path)
        return ids

    home = min(TEAM, patients)
    fill("c", [patient("home") for _ in range(home)])
    changed = fill("c", [visit("p") for _ in range(CHANGED)])
    snap = min(TEAM, patients - home)
    fill("snap", [patient("snap") for _ in range(snap)]
         + [visit("p") for _ in range(SNAPSHOT - snap)])
    fill("others", [patient("other") for _ in range(patients - home - snap)])
    world = KintoWorld(devices=[KintoDevice(base, "bench") for _ in range(DEVICES)],
                       writer=owner,
                       snapshot_devices=[KintoDevice(base, "bench")
                                         for _ in range(SNAPSHOT_DEVICES)],
                       changed=changed)
    for device in world.devices:
        device.etag = owner.http.get(device.records, params={"_limit": 1}
                                     ).headers["ETag"].strip('"')
    return world


# -- measuring --------------------------------------------------------------------------

D = TypeVar("D")  # a device, of either server


@dataclass
class Row:
    latencies: list[float] = field(default_factory=list)  # seconds per request
    cpu: float = 0.0  # server CPU seconds
    ops: int = 0  # operations (records pushed, polls, pulls, snapshots)


def measure(row: Row, process: psutil.Process, devices: Sequence[D],
            task: Callable[[D], int]) -> None:
    """Run ``task`` for every device at once (one thread each), timing each call; the
    task returns how many operations it did."""
    lock = threading.Lock()

    def timed(device: D) -> int:
        started = time.perf_counter()
        ops = task(device)
        took = time.perf_counter() - started
        with lock:
            row.latencies.append(took)
        return ops

    before = cpu_seconds(process)
    with ThreadPoolExecutor(len(devices)) as pool:
        row.ops += sum(pool.map(timed, devices))
    row.cpu += cpu_seconds(process) - before


def doorstep_round(world: DoorstepWorld, proc: psutil.Process, rows: dict[str, Row],
                   pushes: int, polls: int) -> None:
    def push(device: Device) -> int:
        device.push([create("visit", visit(world.team_patients[n % TEAM]))
                     for n in range(BATCH)])
        return BATCH

    for _ in range(pushes):
        measure(rows["push"], proc, world.devices, push)
    for device in world.devices:
        device.drain()

    def poll(device: Device) -> int:
        body = device.pull(device.cursor)
        assert not body["changes"] and not body["has_more"], "the poll was not empty"
        device.cursor = body["cursor"]
        return 1

    for _ in range(polls):
        measure(rows["empty poll"], proc, world.devices, poll)

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

    measure(rows["incremental pull"], proc, world.devices, incremental)

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

    measure(rows["snapshot pull"], proc, world.snapshot_devices, snapshot)


def kinto_round(world: KintoWorld, proc: psutil.Process, rows: dict[str, Row],
                pushes: int, polls: int) -> None:
    path = "/buckets/b/collections/c/records"

    def push(device: KintoDevice) -> int:
        device.batch([{"body": {"data": visit("p")}} for _ in range(BATCH)], path)
        return BATCH

    for _ in range(pushes):
        measure(rows["push"], proc, world.devices, push)
    for device in world.devices:
        device.since()

    def poll(device: KintoDevice) -> int:
        assert not device.since(), "the poll was not empty"
        return 1

    for _ in range(polls):
        measure(rows["empty poll"], proc, world.devices, poll)
    note = f"Changed at {time.time()}"
    for start in range(0, CHANGED, BATCH):
        world.writer.batch([{"method": "PATCH", "path": f"{path}/{i}",
                             "body": {"data": {"notes": note}}}
                            for i in world.changed[start:start + BATCH]], path)

    def incremental(device: KintoDevice) -> int:
        got = device.since()
        assert len(got) == CHANGED, len(got)
        return 1

    measure(rows["incremental pull"], proc, world.devices, incremental)

    def snapshot(device: KintoDevice) -> int:
        count = device.snapshot("snap")
        assert count == SNAPSHOT, count
        return 1

    measure(rows["snapshot pull"], proc, world.snapshot_devices, snapshot)


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def summary(row: Row) -> tuple[float, float, float]:
    ordered = sorted(row.latencies)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95, row.cpu / max(row.ops, 1)


def report(patients: int, doorstep: dict[str, Row], kinto: dict[str, Row],
           kinto_label: str) -> None:
    print(f"\n{patients:,} patients in the database")
    print(f"| work | Doorstep median / p95 ms | Doorstep CPU ms per op | {kinto_label} median /"
          f" p95 ms | {kinto_label} CPU ms per op | CPU ratio (Kinto ÷ Doorstep) | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in ROWS:
        d_med, d_p95, d_cpu = summary(doorstep[name])
        k_med, k_p95, k_cpu = summary(kinto[name])
        goal = GOALS[name] / 1000
        print(f"| {name} (CPU per {UNITS[name]}) | {ms(d_med)} / {ms(d_p95)} | {ms(d_cpu)} "
              f"| {ms(k_med)} / {ms(k_p95)} | {ms(k_cpu)} | {k_cpu / d_cpu:.2f} "
              f"| ≤ {ms(goal)}: {'meets' if d_cpu <= goal else 'misses'} |", flush=True)


def run_size(patients: int, args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"doorstep-http-{patients}-"))
    try:
        with doorstep_server(workdir) as (d_base, d_proc), \
                kinto_server(workdir, args.kinto_backend, args.kinto_threads) as (k_base, k_proc):
            started = time.perf_counter()
            d_world = seed_doorstep(d_base, patients)
            seeded = time.perf_counter()
            k_world = seed_kinto(k_base, patients)
            print(f"  seeded {patients:,} patients: Doorstep {seeded - started:.0f} s, "
                  f"Kinto {time.perf_counter() - seeded:.0f} s", flush=True)
            doorstep = {name: Row() for name in ROWS}
            kinto = {name: Row() for name in ROWS}
            for n in range(args.rounds):
                doorstep_round(d_world, d_proc, doorstep, args.pushes, args.polls)
                kinto_round(k_world, k_proc, kinto, args.pushes, args.polls)
                print(f"  round {n + 1}/{args.rounds} done", flush=True)
            label = "Kinto" + ("" if args.kinto_backend == "memory" else " (+PostgreSQL)")
            report(patients, doorstep, kinto, label)
    finally:
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
    parser.add_argument("--kinto-threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 120 patients, 1 round")
    parser.add_argument("--keep", action="store_true", help="keep the instances and logs")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    if args.quick:
        sizes, args.rounds, args.pushes, args.polls = [120], 1, 1, 3
    if min(sizes) < TEAM + 1:
        parser.error(f"--sizes: at least {TEAM + 1} patients (the devices' team is {TEAM})")
    print(f"{DEVICES} devices; Doorstep: doorstep serve --workers 2; Kinto {kinto_version()}"
          f" on {args.kinto_backend.split('://')[0]} (waitress, {args.kinto_threads} threads);"
          f" {args.rounds} rounds", flush=True)
    for patients in sizes:
        run_size(patients, args)
    print(f"\nmachine: {os.cpu_count()} CPU, {platform.platform()}, "
          f"Python {platform.python_version()}")


def kinto_version() -> str:
    python = KINTO_VENV / "bin" / "python"
    if not python.exists():
        return "(to be installed)"
    out = subprocess.run([str(python), "-c", "import kinto; print(kinto.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "(to be installed)"


if __name__ == "__main__":
    main()
