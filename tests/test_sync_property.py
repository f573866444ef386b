"""Property: devices editing offline, through forms that stay open across pulls, with lost
responses, retries, duplicated batches and patients moving between teams, always
converge — nothing lost, nothing applied twice, no change skipped by any cursor.

Each example runs a random schedule of steps on a fresh database, then a final sync
loop, and checks:
1. after every completed pull loop, a device's copy equals exactly what the server says
   it may see (so no cursor ever skipped a change, a grant or an eviction);
2. every value a device sent was applied (a changelog row of that mutation holds it) or
   is held in a conflict record of that mutation, or the mutation was rejected and
   quarantined; every mutation has exactly one stored result;
3. no mutation wrote more than one version, nor more than one conflict per field.

tests/test_sync_property_http.py runs the same properties through HTTP with the real
rules, for patient and carer actors too, with forms that open before a pull and save
after it, lost refresh answers and a restore from backup in the middle.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sync_helpers import (
    Device,
    coordinator,
    make_registry,
    make_store,
    nurse,
    server_view,
    server_write,
    sqlite_copy,
)

from sync import RECORD_FIELD, apply_push, pull
from sync.registry import Actor

PATIENTS = {"P1": "A", "P2": "A", "P3": "B"}
FIELDS = ("notes", "a", "b")
ACTORS = [
    nurse("n1", "A", "n1-phone"),
    Actor("n1", "nurse", "n1-tablet", frozenset({"A"})),  # same user, second device
    nurse("n2", "A", "n2-dev"),
    nurse("n3", "B", "n3-dev"),
    coordinator("c1", ["A", "B"], "c1-dev"),
]


class SimDevice(Device):
    """A Device with an outbox of queued mutations, pushed with possible losses."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.outbox: list[dict[str, Any]] = []
        self.forms: list[tuple[tuple[str, str], int]] = []

    def queue(
        self, entity: str, record_id: str, op: str, fields: dict[str, Any] | None, base: int
    ) -> dict[str, Any]:
        raw = self.mutation(entity, record_id, op, fields, base)
        self.outbox.append(raw)
        return raw

    def push_outbox(self, batch: list[dict[str, Any]]) -> Any:
        body = {"client_id": self.actor.client_id, "schema_version": 1, "mutations": batch}
        return apply_push(self.store, self.registry, self.actor, json.dumps(body))

    def visits(self) -> list[tuple[str, str]]:
        return sorted(k for k, rec in self.records.items() if k[0] == "visit")


class World:
    def __init__(self, store: Any, registry: Any) -> None:
        self.store, self.registry = store, registry
        self.devices = [SimDevice(store, registry, actor) for actor in ACTORS]
        self.sent: dict[tuple[str, int], dict[str, Any]] = {}

    def value(self, device: SimDevice) -> str:
        return f"{device.actor.client_id}#{device.next_id}"

    # -- steps ----------------------------------------------------------------------

    def edit(self, d: int, pick: int, field: str) -> None:
        device = self.devices[d]
        visits = device.visits()
        if visits:
            key = visits[pick % len(visits)]
            raw = device.queue(
                "visit",
                key[1],
                "update",
                {field: self.value(device)},
                device.records[key]["version"],
            )
            self.sent[(device.actor.client_id, raw["mutation_id"])] = raw

    def open_form(self, d: int, pick: int) -> None:
        """A form opens on a visit: it remembers the version and values it showed."""
        device = self.devices[d]
        visits = device.visits()
        if visits:
            key = visits[pick % len(visits)]
            device.forms.append((key, device.records[key]["version"]))

    def save_form(self, d: int, pick: int, field: str) -> None:
        """…and saves later, after pulls: only the changed field, on the opened version."""
        device = self.devices[d]
        if device.forms:
            key, version = device.forms.pop(pick % len(device.forms))
            raw = device.queue("visit", key[1], "update", {field: self.value(device)}, version)
            self.sent[(device.actor.client_id, raw["mutation_id"])] = raw

    def create(self, d: int, pick: int) -> None:
        device = self.devices[d]
        patients = sorted({rec["patient"] for rec in device.records.values()})
        if patients:
            record_id = f"N-{device.actor.client_id}-{device.next_id}"
            raw = device.queue(
                "visit",
                record_id,
                "create",
                {"patient_id": patients[pick % len(patients)], "notes": self.value(device)},
                0,
            )
            self.sent[(device.actor.client_id, raw["mutation_id"])] = raw

    def delete(self, d: int, pick: int) -> None:
        device = self.devices[d]
        visits = device.visits()
        if visits:
            key = visits[pick % len(visits)]
            raw = device.queue("visit", key[1], "delete", None, device.records[key]["version"])
            self.sent[(device.actor.client_id, raw["mutation_id"])] = raw

    def push(self, d: int, lose: bool, duplicate: bool, skip_first: bool) -> None:
        device = self.devices[d]
        if not device.outbox:
            return
        batch = list(device.outbox[1:] if skip_first and len(device.outbox) > 1 else device.outbox)
        last = self.store.last_mutation_id(device.actor.client_id)
        response = device.push_outbox(batch)
        expected_blocked = False
        for raw, result in zip(batch, response.results, strict=True):
            expected_blocked = expected_blocked or raw["mutation_id"] > last + 1
            if expected_blocked:
                assert result.status == "out_of_order"
            else:
                assert result.status in ("applied", "conflict", "rejected")
                last = max(last, raw["mutation_id"])
        if duplicate:
            again = device.push_outbox(batch)
            assert again.to_wire() == response.to_wire()
        if not lose:
            device.outbox = [
                m for m in device.outbox if m["mutation_id"] > response.last_mutation_id
            ]

    def pull(self, d: int, limit: int, lose: bool) -> None:
        device = self.devices[d]
        drop_next = lose  # the first response is lost: the device re-sends its cursor
        for _ in range(1000):
            page = pull(self.store, self.registry, device.actor, cursor=device.cursor, limit=limit)
            if drop_next:
                drop_next = False
                continue
            device.absorb(page)
            if not page.has_more:
                break
        assert device.records == server_view(self.store, self.registry, device.actor)

    def move(self, p: int, team: str) -> None:
        server_write(self.store, self.registry, "patient", f"P{p + 1}", "update", {"team_id": team})

    def server_edit(self, pick: int) -> None:
        rows = self.store.conn.execute(
            "SELECT id FROM records WHERE entity = 'visit' AND CAST(deleted AS INTEGER) = 0"
            " ORDER BY id"
        ).fetchall()
        if rows:
            server_write(
                self.store,
                self.registry,
                "visit",
                rows[pick % len(rows)][0],
                "update",
                {"b": f"server#{pick}"},
            )

    def settle(self) -> None:
        for _ in range(3):
            for device in self.devices:
                while device.outbox:
                    self.push(self.devices.index(device), False, False, False)
            for device in self.devices:
                self.pull(self.devices.index(device), 50, False)


def check_every_value_kept(world: World) -> None:
    conn = world.store.conn
    for (client_id, mutation_id), raw in world.sent.items():
        stored = conn.execute(
            "SELECT result FROM sync_results WHERE client_id = ? AND mutation_id = ?",
            (client_id, mutation_id),
        ).fetchone()
        assert stored is not None, (client_id, mutation_id)
        status = json.loads(stored[0])["status"]
        if status == "rejected":
            assert conn.execute(
                "SELECT 1 FROM sync_quarantine WHERE client_id = ? AND mutation_id = ?",
                (client_id, mutation_id),
            ).fetchone()
            continue
        written = conn.execute(
            "SELECT data, deleted FROM changelog WHERE client_id = ? AND mutation_id = ?"
            " AND entity = 'visit' AND id = ?",
            (client_id, mutation_id, raw["id"]),
        ).fetchall()
        conflicts = {
            data["field"]: data
            for data in (
                json.loads(row[0])
                for row in conn.execute(
                    "SELECT data FROM changelog WHERE entity = 'conflict' AND version = 1"
                    " AND json_extract(data, '$.client_id') = ?"
                    " AND json_extract(data, '$.mutation_id') = ?",
                    (client_id, mutation_id),
                )
            )
        }
        if RECORD_FIELD in conflicts:
            assert status == "conflict"
            continue
        if raw["op"] == "delete":
            record = world.store.get_record("visit", raw["id"])
            assert status == "applied" and record is not None and record.deleted
            continue
        for field, value in raw["fields"].items():
            if field == "patient_id":
                continue
            applied = any(json.loads(row[0]).get(field) == value for row in written)
            held = field in conflicts and conflicts[field]["client_value"] == value
            assert applied or held, (client_id, mutation_id, field, status)
            if held:
                assert status == "conflict"


def check_nothing_applied_twice(world: World) -> None:
    conn = world.store.conn
    twice = conn.execute(
        "SELECT client_id, mutation_id, count(*) FROM changelog WHERE entity != 'conflict'"
        " AND mutation_id IS NOT NULL GROUP BY client_id, mutation_id, entity, id"
        " HAVING count(*) > 1"
    ).fetchall()
    assert twice == []
    duplicate_conflicts = conn.execute(
        "SELECT count(*) FROM records WHERE entity = 'conflict' GROUP BY"
        " json_extract(data, '$.client_id'), json_extract(data, '$.mutation_id'),"
        " json_extract(data, '$.field') HAVING count(*) > 1"
    ).fetchall()
    assert duplicate_conflicts == []


DEVICE = st.integers(0, len(ACTORS) - 1)
EDIT = st.tuples(st.just("edit"), DEVICE, st.integers(0, 30), st.sampled_from(FIELDS))
PUSH = st.tuples(st.just("push"), DEVICE, st.booleans(), st.booleans(), st.booleans())
PULL = st.tuples(st.just("pull"), DEVICE, st.integers(1, 4), st.booleans())
STEP = st.one_of(
    EDIT,
    EDIT,
    EDIT,
    PUSH,
    PUSH,
    PULL,
    PULL,
    st.tuples(st.just("open_form"), DEVICE, st.integers(0, 30)),
    st.tuples(st.just("save_form"), DEVICE, st.integers(0, 30), st.sampled_from(FIELDS)),
    st.tuples(st.just("create"), DEVICE, st.integers(0, 5)),
    st.tuples(st.just("delete"), DEVICE, st.integers(0, 30)),
    st.tuples(st.just("move"), st.integers(0, 2), st.sampled_from(["A", "B"])),
    st.tuples(st.just("server_edit"), st.integers(0, 30)),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=10, max_size=60))
def test_devices_converge_and_nothing_is_lost(
    new_sync_db: Any, steps: list[tuple[Any, ...]]
) -> None:
    store, registry = make_store(new_sync_db()), make_registry()
    for patient, team in PATIENTS.items():
        server_write(store, registry, "patient", patient, "create", {"team_id": team})
        for i in range(2):
            server_write(
                store,
                registry,
                "visit",
                f"V-{patient}-{i}",
                "create",
                {"patient_id": patient, "notes": "seed"},
            )
    world = World(store, registry)
    for index in range(len(world.devices)):
        world.pull(index, 3, False)
    for name, *args in steps:
        getattr(world, name)(*args)
    world.settle()
    for device in world.devices:
        assert device.outbox == []
        assert device.records == server_view(store, registry, device.actor)
    world.store = sqlite_copy(store)  # the checks below read the rows with SQLite SQL
    check_every_value_kept(world)
    check_nothing_applied_twice(world)
