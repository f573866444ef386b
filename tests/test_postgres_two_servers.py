"""Two ``doorstep serve`` processes on one PostgreSQL database (issue 12): devices on each
edit shared records and create their own over real HTTP while a puller on each server
follows the changelog; afterwards every device's copy, built only from its incremental
pulls (its cursor never restarted), equals the server's records — no change skipped."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import requests
from conftest import PASSWORD, make_patient, make_team, make_user, migrated_app, test_config
from test_no_leaks import free_port
from test_sync_http import mutation, visit_fields

from server import database

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-c", "from server.cli import main; main()"]
ROUNDS = 12


class Device:
    """A device signed in on one server, keeping what its pulls gave it."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(f"{base}/api/v1/auth/login", json={
            "username": username, "password": PASSWORD, "device_name": "tablet"}, timeout=30)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        self.http.headers["Authorization"] = f"Bearer {body['access_token']}"
        self.client_id = body["client_id"]
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], tuple[int, Any]] = {}
        self.next_mutation = 1

    def pull(self) -> None:
        """Pull until the server has nothing more, from the cursor this device holds."""
        while True:
            query: dict[str, Any] = {"client_id": self.client_id, "limit": 50}
            if self.cursor:
                query["cursor"] = self.cursor
            answer = self.http.get(f"{self.base}/api/v1/sync/pull", params=query, timeout=30)
            assert answer.status_code == 200, answer.text  # never a 410: no restart
            body = answer.json()
            for change in body["changes"]:
                self.records[(change["entity"], change["id"])] = (
                    change["version"], change.get("data"))
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return

    def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        numbered = []
        for item in mutations:
            numbered.append({**item, "mutation_id": self.next_mutation})
            self.next_mutation += 1
        answer = self.http.post(f"{self.base}/api/v1/sync/push", json={
            "client_id": self.client_id, "schema_version": 1, "mutations": numbered},
            timeout=30)
        assert answer.status_code == 200, answer.text
        results: list[dict[str, Any]] = answer.json()["results"]
        return results


def _start(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen([*COMMAND, "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"doorstep serve on {port} did not start")


def test_two_servers_on_one_database_converge_and_skip_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOORSTEP_INSTANCE": str(tmp_path / "i"),
           "DOORSTEP_DATABASE_URL": postgres_url,
           "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1"}
    init = subprocess.run([*COMMAND, "init"], env=env, capture_output=True, text=True)
    assert init.returncode == 0, init.stderr
    assert postgres_url.rsplit("/", 1)[1] in init.stdout and "doorstep.db" not in init.stdout

    seed = migrated_app(test_config(tmp_path / "seed", DATABASE_URL=postgres_url))
    team = make_team(seed)
    patients = [make_patient(seed, team) for _ in range(2)]
    editors = [make_user(seed, "nurse", teams=(team,)).username for _ in range(4)]
    followers = [make_user(seed, "nurse", teams=(team,)).username for _ in range(2)]
    database.storage(seed).close()

    ports = [free_port(), free_port()]
    servers = [_start(env, port) for port in ports]
    try:
        for port in ports:
            _wait_ready(port)
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        devices = [Device(bases[i % 2], name) for i, name in enumerate(editors)]
        pullers = [Device(bases[i], name) for i, name in enumerate(followers)]
        shared = [str(uuid.uuid4()) for _ in range(4)]
        created = devices[0].push(*(mutation(0, "visit", vid, **visit_fields(
            patients[i % 2])) for i, vid in enumerate(shared)))
        assert {r["status"] for r in created} == {"applied"}
        failures: list[BaseException] = []
        stop = threading.Event()

        def edit(device: Device, seed_value: int) -> None:
            chance = random.Random(seed_value)
            try:
                device.pull()
                for round_number in range(ROUNDS):
                    vid = chance.choice(shared)
                    known = device.records.get(("visit", vid), (1, None))[0]
                    device.push(
                        mutation(0, "visit", vid, op="update", base=known,
                                 notes=f"{device.client_id[:6]}-{round_number}"),
                        mutation(0, "visit", str(uuid.uuid4()),
                                 **visit_fields(chance.choice(patients))))
                    device.pull()
            except BaseException as exc:  # reported below
                failures.append(exc)

        def follow(device: Device) -> None:
            try:
                while not stop.is_set():
                    device.pull()
            except BaseException as exc:
                failures.append(exc)

        editing = [threading.Thread(target=edit, args=(d, i)) for i, d in enumerate(devices)]
        following = [threading.Thread(target=follow, args=(d,)) for d in pullers]
        for thread in editing + following:
            thread.start()
        for thread in editing:
            thread.join()
        stop.set()
        for thread in following:
            thread.join()
        assert failures == []
        for device in devices + pullers:
            device.pull()
    finally:
        for server in servers:
            server.terminate()
        outputs = [server.communicate(timeout=30)[0] for server in servers]

    with psycopg.connect(postgres_url) as conn:
        truth = {(entity, rid): (version, data) for entity, rid, version, data in conn.execute(
            "SELECT entity, id, version, data FROM records WHERE entity IN ('visit', 'patient')"
            " AND NOT deleted")}
    assert len([key for key in truth if key[0] == "visit"]) == 4 + 4 * ROUNDS
    for device in devices + pullers:
        copy = {key: value for key, value in device.records.items()
                if key[0] in ("visit", "patient")}
        assert {k: v[0] for k, v in copy.items()} == {k: v[0] for k, v in truth.items()}
        for key, (_, data) in truth.items():
            if key[0] == "visit":  # the last edit of each shared visit, on every device
                assert copy[key][1].get("notes") == data.get("notes")
    # Both servers served sync traffic.
    assert all("/api/v1/sync/push" in output for output in outputs), outputs
