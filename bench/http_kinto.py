"""Kinto beside Doorstep in bench/http_bench.py: its own virtualenv (from PyPI), its
server on the memory backend or PostgreSQL, its data and the same rows through its API."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
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
    Meter,
    Row,
    free_port,
    measure,
    patient,
    running,
    visit,
)

MAX_RETRIES = 20
KINTO_VENV = ROOT / ".cache" / "kinto-venv"

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
        self.retries = 0  # batches answered 409/503 with Retry-After, sent again
        self.waited = 0.0  # seconds slept on Retry-After
        self.records = f"{base}/buckets/b/collections/c/records"

    def batch(self, requests_: list[dict[str, Any]], path: str) -> None:
        """One ``POST /batch``. On PostgreSQL, concurrent batches collide on Kinto's
        collection timestamp (an IntegrityError): Kinto answers that sub-request 409
        "please retry" with Retry-After and aborts the transaction (the batch itself is
        200). Then wait as long as it says and send the whole batch again, counting the
        retries: every request here is idempotent (creations carry their id, like
        Doorstep's devices' records; PUT and PATCH), so resending what did commit
        changes nothing. The wait is idle (latency, not CPU); the failed attempts' CPU
        is real work and stays in the row."""
        for _ in range(MAX_RETRIES + 1):
            response = self.http.post(f"{self.base}/batch", json={
                "defaults": {"method": "POST", "path": path}, "requests": requests_})
            parts = response.json().get("responses", []) if response.ok else []
            waits = [r["headers"]["Retry-After"] for r in parts
                     if r["status"] in (409, 503) and "Retry-After" in r["headers"]]
            if response.status_code in (409, 503) and "Retry-After" in response.headers:
                waits.append(response.headers["Retry-After"])
            if not waits:
                break
            self.retries += 1
            self.waited += max(map(float, waits))
            time.sleep(max(map(float, waits)))
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

    def retries(self) -> str:
        """The retried batches: the devices' pushes, and the writer's (seeding and the
        incremental row's updates)."""
        pushed = sum(d.retries for d in self.devices)
        waited = sum(d.waited for d in self.devices)
        return (f"pushes {pushed} (waited {waited:.0f} s), seeding and updates "
                f"{self.writer.retries} (waited {self.writer.waited:.0f} s)")


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


def kinto_round(world: KintoWorld, meter: Meter, rows: dict[str, Row],
                pushes: int, polls: int) -> None:
    path = "/buckets/b/collections/c/records"

    def push(device: KintoDevice) -> int:
        device.batch([{"body": {"data": {**visit("p"), "id": str(uuid.uuid4())}}}
                      for _ in range(BATCH)], path)
        return BATCH

    for _ in range(pushes):
        measure(rows["push"], meter, world.devices, push)
    for device in world.devices:
        device.since()

    def poll(device: KintoDevice) -> int:
        assert not device.since(), "the poll was not empty"
        return 1

    for _ in range(polls):
        measure(rows["empty poll"], meter, world.devices, poll)
    note = f"Changed at {time.time()}"
    for start in range(0, CHANGED, BATCH):
        world.writer.batch([{"method": "PATCH", "path": f"{path}/{i}",
                             "body": {"data": {"notes": note}}}
                            for i in world.changed[start:start + BATCH]], path)

    def incremental(device: KintoDevice) -> int:
        got = device.since()
        assert len(got) == CHANGED, len(got)
        return 1

    measure(rows["incremental pull"], meter, world.devices, incremental)

    def snapshot(device: KintoDevice) -> int:
        count = device.snapshot("snap")
        assert count == SNAPSHOT, count
        return 1

    measure(rows["snapshot pull"], meter, world.snapshot_devices, snapshot)


def kinto_version() -> str:
    python = KINTO_VENV / "bin" / "python"
    if not python.exists():
        return "(to be installed)"
    out = subprocess.run([str(python), "-c", "import kinto; print(kinto.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "(to be installed)"

