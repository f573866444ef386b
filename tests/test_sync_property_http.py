"""Property, through HTTP with the real rules: nurses, a co-ordinator, a patient and a
carer edit offline through forms, lose push, pull and refresh answers, and the server is
restored from a backup in the middle — and still nothing is lost, nothing applied
twice, nothing silently overwritten, and every device ends equal to the server.

The engine-level property (tests/test_sync_property.py) explores schedules fast with a
toy registry; this one runs fewer, shorter schedules through the Flask app so that the
clinical rules, the refresh grace window and ``doorstep restore`` take part. Steps:

- ``open``/``save``: a form opens on a record (its version and values), and saves later
  — usually after pulls brought other devices' changes — sending only the field the
  user changed, on the opened version;
- ``log``: a goal log (staff, patient, carer);
- ``push``/``pull`` with lost answers (the device keeps its outbox / cursor);
- ``refresh`` with a lost answer: the device retries with the old token within the
  grace window and must get the same pair (never a revoked device);
- a backup, and a restore some steps later (most schedules): devices re-pull from
  scratch after 410, keep their outboxes, and continue their mutation numbering;
- ``edit``: a quick edit (pull, open, change, save, push).

Checks: each device's copy equals a fresh snapshot for it; every sent value is applied,
held in a conflict, or rejected and quarantined — except mutations the server acknowledged
between the backup and the restore, the window an operator loses by restoring; no
mutation wrote twice; and no field another device changed after an edit's (trusted) base
version was overwritten without a conflict.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dbtools as db
import postgres_cluster as pg
from conftest import (
    Clock,
    login,
    make_patient,
    make_record,
    make_team,
    make_user,
    migrated_app,
    test_config,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server import database

DEVICES = 6  # a nurse on two devices, another nurse, a co-ordinator, a patient, a carer
FORM_FIELDS = {"goal": ("title", "description"), "visit": ("notes",)}


class HttpDevice:
    """One signed-in device: tokens, an outbox, a cursor and its copy of the records."""

    def __init__(self, client: Any, session: Any) -> None:
        self.client = client
        self.client_id = session.client_id
        self.role = session.user["role"]
        self.access, self.refresh_token = session.access_token, session.refresh_token
        self.next_id = 1
        self.outbox: list[dict[str, Any]] = []
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.forms: list[tuple[tuple[str, str], int, dict[str, Any]]] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def queue(self, entity: str, record_id: str, op: str, fields: dict[str, Any],
              base: int) -> dict[str, Any]:
        raw = {"mutation_id": self.next_id, "entity": entity, "id": record_id, "op": op,
               "base_version": base, "fields": fields}
        self.next_id += 1
        self.outbox.append(raw)
        return raw

    def push(self) -> dict[str, Any]:
        answer = self.client.post("/api/v1/sync/push", headers=self.headers(), json={
            "client_id": self.client_id, "schema_version": 1, "mutations": self.outbox})
        assert answer.status_code == 200, answer.json
        body: dict[str, Any] = answer.json
        return body

    def pull_page(self, cursor: str | None) -> Any:
        query: dict[str, Any] = {"client_id": self.client_id, "limit": 7}
        if cursor:
            query["cursor"] = cursor
        return self.client.get("/api/v1/sync/pull", headers=self.headers(), query_string=query)

    def absorb(self, body: dict[str, Any]) -> None:
        for eviction in body["evictions"]:
            if eviction["entity"] == "patient":
                self.records = {k: r for k, r in self.records.items()
                                if r["patient"] != eviction["id"]}
            else:
                self.records.pop((eviction["entity"], eviction["id"]), None)
        for change in body["changes"]:
            key = (change["entity"], change["id"])
            if change["deleted"]:
                self.records.pop(key, None)
                continue
            patient = change["id"] if change["entity"] == "patient" else change["data"].get(
                "patient_id")
            self.records[key] = {"version": change["version"], "data": change["data"],
                                 "patient": patient}
        self.cursor = body["cursor"]

    def snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """What a fresh device of this session would hold now."""
        fresh = HttpDevice.__new__(HttpDevice)
        fresh.__dict__.update(self.__dict__, records={}, cursor=None)
        while True:
            body = fresh.pull_page(fresh.cursor).json
            fresh.absorb(body)
            if not body["has_more"]:
                return fresh.records


class World:
    def __init__(self, folder: Path, database_url: str | None = None) -> None:
        self.clock = Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
        overrides = {"DATABASE_URL": database_url} if database_url else {}
        self.app = migrated_app(test_config(folder, self.clock, **overrides))
        self.client = self.app.test_client()
        self.backup_path = folder / "backup.db"
        self.phase = "before_backup"  # → after_backup → restored
        self.sent: dict[tuple[str, int], dict[str, Any]] = {}
        self.processed_in: dict[tuple[str, int], str] = {}
        # What each form showed when it opened: its base version's values, as seen.
        self.opened: dict[tuple[str, int], dict[str, Any]] = {}
        self.devices = self.seed()

    def seed(self) -> list[HttpDevice]:
        app = self.app
        team = make_team(app)
        patients = [make_patient(app, team) for _ in range(2)]
        for patient in patients:
            make_record(app, "goal", {"patient_id": patient, "title": "Walk", "times_per_week": 3,
                                      "start_date": "2026-11-24"})
            make_record(app, "visit", {
                "patient_id": patient, "scheduled_start": "2026-11-24T09:00:00+00:00",
                "scheduled_end": "2026-11-24T09:30:00+00:00", "visit_type": "review"})
        nurse = make_user(app, "nurse", teams=(team,))
        carer = make_user(app, "carer")
        make_record(app, "carer_link", {"patient_id": patients[0], "carer_user_id": carer.id,
                                        "relationship": "son",
                                        "consent_basis": "patient_consent"})
        users = [nurse, nurse,  # one nurse on two devices
                 make_user(app, "nurse", teams=(team,)),
                 make_user(app, "coordinator", teams=(team,)),
                 make_user(app, "patient", patient_id=patients[0]), carer]
        devices = [HttpDevice(self.client, login(self.client, user.username, device=f"d{i}"))
                   for i, user in enumerate(users)]
        self.devices = devices
        for index in range(len(devices)):
            self.pull(index, False)
        return devices

    def value(self, device: HttpDevice) -> str:
        return f"v{device.client_id[:6]}n{device.next_id}"

    # -- steps ----------------------------------------------------------------------

    def open(self, d: int, pick: int) -> None:
        device = self.devices[d]
        editable = sorted(k for k in device.records if k[0] in FORM_FIELDS)
        if editable:
            key = editable[pick % len(editable)]
            record = device.records[key]
            device.forms.append((key, record["version"], dict(record["data"])))

    def save(self, d: int, pick: int) -> None:
        device = self.devices[d]
        if device.forms:
            self.save_form(device, pick % len(device.forms), pick)

    def save_form(self, device: HttpDevice, form: int, pick: int) -> None:
        key, version, opened = device.forms.pop(form)
        fields = FORM_FIELDS[key[0]]
        name = fields[pick % len(fields)]
        raw = device.queue(key[0], key[1], "update", {name: self.value(device)}, version)
        assert opened.get(name) != raw["fields"][name]  # only what the user changed
        self.sent[(device.client_id, raw["mutation_id"])] = raw
        self.opened[(device.client_id, raw["mutation_id"])] = opened

    def edit(self, d: int, pick: int) -> None:
        """A quick edit: open, change one field, save and push at once."""
        device = self.devices[d]
        self.pull(d, False)
        self.open(d, pick)
        if device.forms:
            self.save_form(device, len(device.forms) - 1, pick)
        self.push(d, False)

    def log(self, d: int, pick: int) -> None:
        device = self.devices[d]
        goals = sorted(k for k in device.records if k[0] == "goal")
        if goals:
            goal = device.records[goals[pick % len(goals)]]
            raw = device.queue("goal_log", str(uuid.uuid4()), "create", {
                "goal_id": goals[pick % len(goals)][1], "patient_id": goal["patient"],
                "date": "2026-11-24", "done": True, "note": self.value(device)}, 0)
            self.sent[(device.client_id, raw["mutation_id"])] = raw

    def push(self, d: int, lose: bool) -> None:
        device = self.devices[d]
        if not device.outbox:
            return
        body = device.push()
        for raw, result in zip(device.outbox, body["results"], strict=True):
            key = (device.client_id, raw["mutation_id"])
            if result["status"] != "out_of_order" and key not in self.processed_in:
                self.processed_in[key] = self.phase
        if not lose:
            device.outbox = [m for m in device.outbox
                             if m["mutation_id"] > body["last_mutation_id"]]

    def pull(self, d: int, lose: bool) -> None:
        device = self.devices[d]
        for _ in range(500):
            answer = device.pull_page(device.cursor)
            if answer.status_code == 410:  # restored: replace every base copy
                assert answer.json["errors"] == {"cursor": "reset_required"}
                device.cursor, device.records = None, {}
                continue
            assert answer.status_code == 200, answer.json
            if lose:
                lose = False  # the answer never arrived: ask again with the same cursor
                continue
            device.absorb(answer.json)
            if not answer.json["has_more"]:
                return
        raise AssertionError("pull never finished")

    def refresh(self, d: int, lose: bool) -> None:
        device = self.devices[d]
        first = self.client.post("/api/v1/auth/refresh",
                                 json={"refresh_token": device.refresh_token})
        assert first.status_code == 200, first.json
        if lose:  # the answer was lost: retry with the same (now rotated) token
            self.clock.advance(seconds=2)
            retry = self.client.post("/api/v1/auth/refresh",
                                     json={"refresh_token": device.refresh_token})
            assert retry.status_code == 200, retry.json
            assert retry.json["refresh_token"] == first.json["refresh_token"]
            assert retry.json["access_token"] == first.json["access_token"]
        device.access = first.json["access_token"]
        device.refresh_token = first.json["refresh_token"]

    def backup(self) -> None:
        if self.phase == "before_backup":
            database.storage(self.app).backup(self.backup_path)
            self.phase = "after_backup"

    def restore(self) -> None:
        if self.phase != "after_backup":
            return
        self.clock.advance(seconds=1)
        database.storage(self.app).restore(self.backup_path)
        self.clock.advance(seconds=1)
        self.phase = "restored"

    def settle(self) -> None:
        for _ in range(3):
            for index in range(len(self.devices)):
                self.push(index, False)
            for index in range(len(self.devices)):
                self.pull(index, False)

    # -- checks ---------------------------------------------------------------------

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self.app.app_context():
            return list(db.get_db().execute(sql, params).fetchall())

    def check_every_value_kept(self) -> None:
        for (client_id, mutation_id), raw in self.sent.items():
            stored = self.rows("SELECT result FROM sync_results WHERE client_id = ?"
                               " AND mutation_id = ?", (client_id, mutation_id))
            if not stored:
                # Only what the server acknowledged inside the restored-away window.
                assert self.processed_in.get((client_id, mutation_id)) == "after_backup", raw
                continue
            status = json.loads(stored[0][0])["status"]
            if status == "rejected":
                assert self.rows("SELECT 1 FROM sync_quarantine WHERE client_id = ?"
                                 " AND mutation_id = ?", (client_id, mutation_id))
                continue
            written = [json.loads(row[0]) for row in self.rows(
                "SELECT data FROM changelog WHERE client_id = ? AND mutation_id = ?"
                " AND entity = ? AND id = ?", (client_id, mutation_id, raw["entity"], raw["id"]))]
            conflicts = {json.loads(row[0])["field"]: json.loads(row[0]) for row in self.rows(
                # Any version: after a restore a conflict's first one is above the floor.
                "SELECT data FROM changelog WHERE entity = 'conflict'"
                " AND json_extract(data, '$.client_id') = ?"
                " AND json_extract(data, '$.mutation_id') = ?",
                (client_id, mutation_id))}
            for name, value in raw["fields"].items():
                applied = any(data.get(name) == value for data in written)
                held = name in conflicts and conflicts[name]["client_value"] == value
                assert applied or held, (raw, status)

    def check_nothing_applied_twice(self) -> None:
        assert self.rows(
            "SELECT client_id, mutation_id FROM changelog WHERE entity != 'conflict'"
            " AND mutation_id IS NOT NULL GROUP BY client_id, mutation_id, entity, id"
            " HAVING count(*) > 1") == []

    def check_nothing_overwritten_silently(self) -> None:
        """A device's write of a field another device changed after its base: never.

        The base counts only if this database issued that version with the values the
        form showed; a number from before a restore, reused since, does not.
        """
        history = self.rows("SELECT entity, id, version, client_id, mutation_id, changed,"
                            " data FROM changelog WHERE entity IN ('goal', 'visit') ORDER BY seq")
        by_record: dict[tuple[str, str], list[Any]] = {}
        for row in history:
            by_record.setdefault((row[0], row[1]), []).append(row)
        for rows in by_record.values():
            for index, row in enumerate(rows):
                key = (row[3], row[4])
                if key not in self.opened:
                    continue
                earlier, opened = rows[:index], self.opened[key]
                base = self.sent[key]["base_version"]
                issued = [json.loads(r[6]) for r in earlier if r[2] == base]
                if not any(all(data.get(k) == v for k, v in opened.items()) for data in issued):
                    base = 0  # not what this database issued as that version: stale
                for name in json.loads(row[5]):
                    last = next((r for r in reversed(earlier) if name in json.loads(r[5])), None)
                    assert last is None or last[3] == row[3] or last[2] <= base, (row, last)


DEVICE = st.integers(0, DEVICES - 1)
PICK = st.integers(0, 20)
STEP = st.one_of(
    st.tuples(st.just("open"), DEVICE, PICK),
    st.tuples(st.just("save"), DEVICE, PICK),
    st.tuples(st.just("edit"), DEVICE, PICK),
    st.tuples(st.just("log"), DEVICE, PICK),
    st.tuples(st.just("push"), DEVICE, st.booleans()),
    st.tuples(st.just("pull"), DEVICE, st.booleans()),
    st.tuples(st.just("refresh"), DEVICE, st.booleans()),
)


# Bounded for CI: ~10 s on tmpfs, under a minute where every commit reaches a disk.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The restore race of issue 10: a form opened on a version edited after the backup,
# saved after the restore and after another device's edit of the same field.
@example(steps=[("edit", 0, 0), ("pull", 2, False), ("open", 2, 0), ("edit", 3, 0),
                ("save", 2, 0)], backup_at=0, restore_after=3)
# …and saved when nobody edited since the restore (its base is above the record's version).
@example(steps=[("edit", 0, 0), ("pull", 2, False), ("open", 2, 0), ("save", 2, 0)],
         backup_at=0, restore_after=3)
@given(steps=st.lists(STEP, min_size=5, max_size=30), backup_at=st.integers(0, 15),
       restore_after=st.integers(1, 25))
def test_every_role_converges_through_forms_lost_answers_and_a_restore(
        steps: list[tuple[Any, ...]], backup_at: int, restore_after: int) -> None:
    run_schedule(steps, backup_at, restore_after)


# The same on PostgreSQL: fewer examples (each takes a database, pg_dump and pg_restore).
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(steps=[("edit", 0, 0), ("pull", 2, False), ("open", 2, 0), ("edit", 3, 0),
                ("save", 2, 0)], backup_at=0, restore_after=3)
@given(steps=st.lists(STEP, min_size=5, max_size=30), backup_at=st.integers(0, 15),
       restore_after=st.integers(1, 25))
def test_every_role_converges_on_postgresql(
        steps: list[tuple[Any, ...]], backup_at: int, restore_after: int) -> None:
    cluster = pg.require_cluster()
    databases = pg.fresh_database(cluster)
    try:
        run_schedule(steps, backup_at, restore_after, next(databases))
    finally:
        databases.close()


def run_schedule(steps: list[tuple[Any, ...]], backup_at: int, restore_after: int,
                 database_url: str | None = None) -> None:
    # In memory where the machine has it: each commit is fsynced (synchronous=FULL).
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as folder:
        world = World(Path(folder), database_url)
        try:
            play(world, steps, backup_at, restore_after)
        finally:
            database.storage(world.app).close()


def play(world: World, steps: list[tuple[Any, ...]], backup_at: int, restore_after: int) -> None:
    for index, (name, *args) in enumerate(steps):
        if index == backup_at:
            world.backup()
        if index == backup_at + restore_after:
            world.restore()
        getattr(world, name)(*args)
    world.settle()
    for device in world.devices:
        assert device.outbox == []
        assert device.records == device.snapshot()
    world.check_every_value_kept()
    world.check_nothing_applied_twice()
    world.check_nothing_overwritten_silently()
