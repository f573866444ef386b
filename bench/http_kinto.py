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
    Row,
    free_port,
    measure,
    patient,
    running,
    visit,
)

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


def kinto_version() -> str:
    python = KINTO_VENV / "bin" / "python"
    if not python.exists():
        return "(to be installed)"
    out = subprocess.run([str(python), "-c", "import kinto; print(kinto.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "(to be installed)"

