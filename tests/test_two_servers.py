"""Two ``doorstep serve`` processes on one database (issue 12): devices signed in on each
edit the same records at the same time while a puller on each server pulls
continuously. At the end every device converges on the servers' records, every puller
saw every record's final version (no change skipped), and every same-field edit from a
stale base became a recorded conflict — never a silent overwrite.

Both backends: one SQLite file shared by both servers (a real one-machine deployment)
and one PostgreSQL database (the throwaway test cluster).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PASSWORD, patient_fields
from test_no_leaks import free_port
from test_sync_http import mutation, visit_fields

ROOT = Path(__file__).resolve().parents[1]
FAST_HASH = {"DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1"}
ROUNDS = 25  # per editing device
CONTENDED = {"patient": "address", "visit": "notes"}  # the one field each device edits


def _environment(instance: Path, database_url: str) -> dict[str, str]:
    return {**os.environ, **FAST_HASH, "PYTHONPATH": str(ROOT),
            "DOORSTEP_INSTANCE": str(instance), "DOORSTEP_DATABASE_URL": database_url}


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "server.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"doorstep {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


@contextlib.contextmanager
def _serving(env: dict[str, str]) -> Iterator[str]:
    """A real ``doorstep serve`` (granian, 2 workers) on 127.0.0.1; always stopped."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "doorstep serve did not answer in 30 s"
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
        if "Traceback" in output:
            print(output)  # shown with the failure, if any


@dataclass
class Device:
    """A signed-in device of one server: its own mutation ids, cursor and copy."""

    name: str
    base: str
    http: requests.Session
    client_id: str
    user_id: str
    next_mutation: int = 1
    cursor: str | None = None
    copy: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: dict[str, set[int]] = field(default_factory=dict)  # record id -> versions pulled

    @classmethod
    def sign_in(cls, base: str, username: str, name: str) -> Device:
        http = requests.Session()
        answer = http.post(f"{base}/api/v1/auth/login", timeout=30, json={
            "username": username, "password": PASSWORD, "device_name": name})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        http.headers["Authorization"] = f"Bearer {body['access_token']}"
        return cls(name, base, http, body["client_id"], body["user"]["id"])

    def get(self, path: str, **params: Any) -> Any:
        answer = self.http.get(f"{self.base}{path}", params=params, timeout=30)
        assert answer.status_code == 200, (path, answer.status_code, answer.text)
        return answer.json()

    def post(self, path: str, status: int, **body: Any) -> Any:
        answer = self.http.post(f"{self.base}{path}", json=body, timeout=30)
        assert answer.status_code == status, (path, answer.status_code, answer.text)
        return answer.json()

    def push(self, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.http.post(f"{self.base}/api/v1/sync/push", timeout=60, json={
            "client_id": self.client_id, "schema_version": 1, "mutations": list(mutations)})
        assert answer.status_code == 200, (self.name, answer.status_code, answer.text)
        body = answer.json()
        assert body["last_mutation_id"] == mutations[-1]["mutation_id"], body
        return list(body["results"])

    def mutation(self, entity: str, record_id: str, **kw: Any) -> dict[str, Any]:
        made = mutation(self.next_mutation, entity, record_id, **kw)
        self.next_mutation += 1
        return made

    def pull_all(self) -> None:
        """Pull until the server has nothing more (one incremental pass)."""
        while True:
            query: dict[str, Any] = {"client_id": self.client_id, "limit": 50}
            if self.cursor:
                query["cursor"] = self.cursor
            body = self.get("/api/v1/sync/pull", **query)
            assert body["evictions"] == [], body["evictions"]
            for change in body["changes"]:
                self.seen.setdefault(change["id"], set()).add(change["version"])
                known = self.copy.get(change["id"])
                assert known is None or known["version"] <= change["version"], (
                    self.name, "a version went backwards", known, change)
                self.copy[change["id"]] = change
            self.cursor = body["cursor"]
            if not body["has_more"]:
                return

    def version_of(self, record_id: str) -> int:
        return int(self.copy[record_id]["version"])


@dataclass
class Write:
    """One single-field update pushed by a device, and what the server answered."""

    device: str
    entity: str
    record_id: str
    field: str
    value: str
    base: int
    result: dict[str, Any]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"  # sqlite:////abs/path
    return str(request.getfixturevalue("empty_postgres_url"))


def _edit(device: Device, records: dict[str, str], seed: int, writes: list[Write],
          failures: list[BaseException]) -> None:
    """ROUNDS times: catch up, then push two single-field edits of shared records from
    the versions this device knows (often stale: the other devices edit the same ones)."""
    rng = random.Random(seed)
    try:
        for round_ in range(ROUNDS):
            device.pull_all()
            batch = []
            for slot, record_id in enumerate(rng.sample(sorted(records), 2)):
                entity = records[record_id]
                value = f"{device.name} round {round_} edit {slot}"
                made = device.mutation(entity, record_id, op="update",
                                       base=device.version_of(record_id),
                                       **{CONTENDED[entity]: value})
                batch.append((made, Write(device.name, entity, record_id, CONTENDED[entity],
                                          value, device.version_of(record_id), {})))
            for (made, write), result in zip(batch, device.push(*(m for m, _ in batch)),
                                             strict=True):
                assert result["mutation_id"] == made["mutation_id"]
                write.result = result
                writes.append(write)
            time.sleep(rng.random() * 0.02)
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        failures.append(exc)


def _pull_until(device: Device, stop: threading.Event, failures: list[BaseException]) -> None:
    try:
        while not stop.is_set():
            device.pull_all()
            time.sleep(0.01)
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        failures.append(exc)


def _server_records(reader: Device, patients: list[str]) -> dict[str, dict[str, Any]]:
    """Every shared record as the server has it now, through the REST API."""
    found: dict[str, dict[str, Any]] = {}
    for patient_id in patients:
        found[patient_id] = reader.get(f"/api/v1/patients/{patient_id}")
        for visit in reader.get(f"/api/v1/patients/{patient_id}/visits", limit=500)["items"]:
            found[visit["id"]] = visit
    return found


def _conflicts_of(device: Device) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    after: str | None = None
    while True:
        page = device.get("/api/v1/conflicts", limit=500, **({"after": after} if after else {}))
        found.update({item["id"]: item for item in page["items"]})
        after = page.get("next_after")
        if not after:
            return found


def _check_no_silent_overwrite(writes: list[Write]) -> None:
    """An edit applied from base B overwrote no other device's edit of that field made
    after B; an edit answered with a conflict had such an edit to conflict with."""
    applied = [w for w in writes if w.result["status"] == "applied"]
    for write in writes:
        rivals = [
            other for other in applied
            if other.record_id == write.record_id and other.field == write.field
            and other.device != write.device and other.result["version"] > write.base
        ]
        if write.result["status"] == "applied":
            overwritten = [r for r in rivals if r.result["version"] < write.result["version"]]
            assert not overwritten, ("silently overwritten", write, overwritten)
        else:
            assert write.result["status"] == "conflict", write
            assert len(write.result["conflict_ids"]) == 1, write
            assert rivals, ("a conflict with nothing to conflict with", write)


def test_two_servers_on_one_database_converge_and_skip_nothing(
    tmp_path: Path, database_url: str
) -> None:
    started = time.monotonic()
    env_a = _environment(tmp_path / "instance-a", database_url)
    env_b = _environment(tmp_path / "instance-b", database_url)
    _cli(env_a, "init")  # the schema once; the second server shares the instance's keys
    shutil.copytree(tmp_path / "instance-a", tmp_path / "instance-b",
                    ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    _cli(env_a, "user", "add", "admin", "--role", "admin", stdin=PASSWORD + "\n")

    with _serving(env_a) as server_a, _serving(env_b) as server_b:
        # The team on A, the nurses on both: each server sees what the other wrote.
        admins = [Device.sign_in(server, "admin", "admin") for server in (server_a, server_b)]
        team_id = admins[0].post("/api/v1/teams", 201, name="North")["id"]
        for number in (1, 2, 3):
            admins[number % 2].post("/api/v1/users", 201, username=f"nurse-{number}",
                                    password=PASSWORD, role="nurse",
                                    display_name=f"Nurse {number}", team_ids=[team_id])
        editors = [Device.sign_in(server_a, "nurse-1", "a1"),
                   Device.sign_in(server_a, "nurse-2", "a2"),
                   Device.sign_in(server_b, "nurse-3", "b1"),
                   Device.sign_in(server_b, "nurse-1", "b2")]
        pullers = [Device.sign_in(server_a, "nurse-3", "puller-a"),
                   Device.sign_in(server_b, "nurse-2", "puller-b")]
        first = editors[0]

        # Shared records, made on server A: three patients with two visits each.
        records: dict[str, str] = {}
        creates = []
        for _ in range(3):
            patient_id = str(uuid.uuid4())
            records[patient_id] = "patient"
            creates.append(first.mutation("patient", patient_id,
                                          **patient_fields(team_id)))
            for _ in range(2):
                visit_id = str(uuid.uuid4())
                records[visit_id] = "visit"
                creates.append(first.mutation("visit", visit_id, **visit_fields(patient_id)))
        assert {r["status"] for r in first.push(*creates)} == {"applied"}
        patients = [rid for rid, entity in records.items() if entity == "patient"]
        for device in editors:
            device.pull_all()  # server B sees what server A wrote
            assert set(records) <= set(device.copy), device.name

        # The same field of one visit from version 1 on both servers: a conflict on B.
        visit = next(rid for rid, entity in records.items() if entity == "visit")
        writes: list[Write] = []
        for device, value in ((editors[0], "from server A"), (editors[2], "from server B")):
            [result] = device.push(device.mutation("visit", visit, op="update", base=1,
                                                   notes=value))
            writes.append(Write(device.name, "visit", visit, "notes", value, 1, result))
        assert [w.result["status"] for w in writes] == ["applied", "conflict"], writes
        [conflict_id] = writes[1].result["conflict_ids"]
        [seen_on_a] = [item for item in editors[1].get(
            f"/api/v1/patients/{patients[0]}/visits")["items"] if item["id"] == visit]
        assert seen_on_a["data"]["notes"] == "from server A"  # B's stale edit overwrote nothing

        # Concurrent edits from both servers while a puller on each pulls.
        failures: list[BaseException] = []
        stop = threading.Event()
        pulling = [threading.Thread(target=_pull_until, args=(p, stop, failures))
                   for p in pullers]
        editing = [threading.Thread(target=_edit, args=(d, records, seed, writes, failures))
                   for seed, d in enumerate(editors)]
        for thread in pulling + editing:
            thread.start()
        for thread in editing:
            thread.join(timeout=120)
        stop.set()
        for thread in pulling:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in pulling + editing), "a device thread hung"
        if failures:
            raise failures[0]

        # Every device pulls to completion: its copy is what either server reads now.
        for device in editors + pullers:
            device.pull_all()
        on_a = _server_records(pullers[0], patients)
        on_b = _server_records(pullers[1], patients)
        assert on_a == on_b
        assert set(on_a) == set(records)
        for device in editors + pullers:
            for record_id, current in on_b.items():
                held = device.copy[record_id]
                assert (held["version"], held["data"]) == (
                    current["version"], current["data"]), (device.name, record_id)
        for puller in pullers:  # each pulled every record's final version as it happened
            for record_id, current in on_a.items():
                assert current["version"] in puller.seen[record_id], (puller.name, record_id)

        # Same-field edits from stale bases became conflicts, none overwrote silently.
        _check_no_silent_overwrite(writes)
        expected = {cid: w for w in writes for cid in w.result.get("conflict_ids", [])}
        assert conflict_id in expected
        statuses = [w.result["status"] for w in writes]
        assert statuses.count("conflict") >= 5 and statuses.count("applied") >= 20, statuses
        recorded: dict[str, dict[str, Any]] = {}
        for device in editors[:3]:  # one session per nurse: each sees her own conflicts
            recorded.update(_conflicts_of(device))
        assert set(recorded) == set(expected)
        for cid, write in expected.items():
            data = recorded[cid]["data"]
            assert (data["record_id"], data["field"], data["client_value"]) == (
                write.record_id, write.field, write.value), (data, write)
    print(f"two servers on {database_url.split(':')[0]}: {len(writes)} edits, "
          f"{statuses.count('conflict')} conflicts, {time.monotonic() - started:.1f} s")
