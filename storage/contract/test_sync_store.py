"""The sync engine's Store, through its interface only: every backend, both ways a caller
gets one (``storage.sync_store()``, opening a unit of work per transaction, and
``uow.store``, bound to the caller's unit of work).

What the engine relies on: versions and the changelog (seq order is commit order, a
record's latest version once), the three record reads (changed since, sweep, list),
per-device numbering and stored results, the quarantine and its usage, the patient sets
cursors name, declared indexes, and the floors a restore raises.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage import Storage
from storage.contract.conftest import Clock
from sync import (
    CONFLICT,
    SYSTEM,
    Actor,
    EntityType,
    MalformedRequest,
    Mutation,
    Registry,
    apply_mutation,
    apply_push,
    get_record,
    list_records,
    pull,
    resolve_conflict,
)
from sync.store import NewVersion, QuarantineEntry, RecordIndex, Store


class Stores:
    """Transactions on one storage, as either kind of store."""

    def __init__(self, storage: Storage, kind: str) -> None:
        self.storage = storage
        self.kind = kind

    @contextmanager
    def write(self) -> Iterator[Store]:
        if self.kind == "sync_store":
            store = self.storage.sync_store()
            with store.write_transaction():
                yield store
        else:
            with self.storage.write() as uow:
                yield uow.store

    @contextmanager
    def read(self) -> Iterator[Store]:
        if self.kind == "sync_store":
            store = self.storage.sync_store()
            with store.read_transaction():
                yield store
        else:
            with self.storage.read() as uow:
                yield uow.store


@pytest.fixture(params=["sync_store", "uow_store"])
def stores(request: pytest.FixtureRequest, storage: Storage) -> Stores:
    return Stores(storage, request.param)


def version(
    entity: str,
    record_id: str,
    number: int,
    patient: str,
    *,
    deleted: bool = False,
    client: str = "dev-1",
    mutation_id: int | None = None,
    **data: Any,
) -> NewVersion:
    return NewVersion(
        entity=entity,
        id=record_id,
        version=number,
        deleted=deleted,
        patient_id=patient,
        data=data,
        meta={name: (number, client) for name in data},
        changed=sorted(data),
        client_id=client,
        author_id="u-1",
        mutation_id=mutation_id,
        at=f"2026-11-24T09:00:{number:02}.000000+00:00",
    )


def write(stores: Stores, *versions: NewVersion) -> list[int]:
    with stores.write() as store:
        return [store.write_version(v) for v in versions]


def test_a_written_version_is_the_record_and_its_history(stores: Stores) -> None:
    [first] = write(stores, version("visit", "v1", 1, "P1", notes="a", status="open"))
    [second] = write(stores, version("visit", "v1", 2, "P1", notes="b"))
    assert second > first
    with stores.read() as store:
        record = store.get_record("visit", "v1")
        assert record is not None
        assert (record.version, record.deleted, record.patient_id, record.seq) == (
            2, False, "P1", second)
        assert record.data == {"notes": "b"}
        assert record.meta == {"notes": (2, "dev-1")}
        assert record.updated_at == "2026-11-24T09:00:02.000000+00:00"
        assert store.get_record("visit", "nope") is None
        old = store.history_entry("visit", "v1", 1)
        assert old is not None
        assert (old.seq, old.version, old.deleted, old.data) == (
            first, 1, False, {"notes": "a", "status": "open"})
        assert (old.client_id, old.author_id, old.mutation_id) == ("dev-1", "u-1", None)
        assert store.history_entry("visit", "v1", 3) is None
        before = store.history_at_or_before("visit", "v1", second - 1)
        assert before is not None and before.version == 1
        latest = store.history_at_or_before("visit", "v1", second)
        assert latest is not None and latest.version == 2
        assert store.max_seq() == second


def test_an_empty_store_has_seq_zero_an_epoch_and_no_floor(stores: Stores) -> None:
    with stores.read() as store:
        assert store.max_seq() == 0
        assert store.epoch()
        assert store.version_floor() == 0
        assert not store.restored_gap_allowed("dev-1")


def test_a_rolled_back_write_leaves_nothing(stores: Stores) -> None:
    with pytest.raises(RuntimeError), stores.write() as store:
        store.write_version(version("visit", "v1", 1, "P1", notes="a"))
        raise RuntimeError("refused")
    with stores.read() as store:
        assert store.get_record("visit", "v1") is None and store.max_seq() == 0


def test_a_rolled_back_savepoint_keeps_the_rest_of_the_transaction(stores: Stores) -> None:
    with stores.write() as store:
        store.write_version(version("visit", "v1", 1, "P1", notes="kept"))
        with pytest.raises(ValueError), store.savepoint():
            store.write_version(version("visit", "v2", 1, "P1", notes="dropped"))
            raise ValueError("one mutation refused")
        with store.savepoint():
            store.write_version(version("visit", "v3", 1, "P1", notes="kept too"))
    with stores.read() as store:
        assert store.get_record("visit", "v1") is not None
        assert store.get_record("visit", "v2") is None
        assert store.get_record("visit", "v3") is not None


@pytest.mark.parametrize("by_patient", [True, False])
def test_changed_since_gives_each_record_once_at_its_latest_in_seq_order(
    stores: Stores, by_patient: bool
) -> None:
    seqs = write(
        stores,
        version("visit", "a", 1, "P1", n=1),
        version("visit", "b", 1, "P2", n=1),
        version("visit", "c", 1, "P3", n=1),
        version("visit", "a", 2, "P1", n=2),
        version("visit", "b", 2, "P2", deleted=True),
    )
    with stores.read() as store:
        rows = store.changed_since({"P1", "P2"}, 0, 10, by_patient=by_patient)
        assert [(r.id, r.version, r.seq) for r in rows] == [
            ("a", 2, seqs[3]), ("b", 2, seqs[4])]
        assert rows[1].deleted and rows[0].patient_id == "P1"
        assert rows[0].entity == "visit" and rows[0].updated_at
        after = store.changed_since({"P1", "P2", "P3"}, seqs[2], 10, by_patient=by_patient)
        assert [r.id for r in after] == ["a", "b"]
        first = store.changed_since({"P1", "P2", "P3"}, 0, 2, by_patient=by_patient)
        assert [r.id for r in first] == ["c", "a"]
        assert store.changed_since(set(), 0, 10, by_patient=by_patient) == []


def test_sweep_reads_live_records_by_patient_then_seq_after_a_key(stores: Stores) -> None:
    seqs = write(
        stores,
        version("visit", "x1", 1, "P2", n=1),
        version("visit", "y1", 1, "P1", n=1),
        version("visit", "x2", 1, "P2", n=1),
        version("visit", "gone", 1, "P1", deleted=True),
        version("visit", "late", 1, "P1", n=1),
    )
    with stores.read() as store:
        upto = seqs[3]
        rows = store.sweep_records(["P1", "P2"], "", 0, upto, 10)
        assert [(r.patient_id, r.id) for r in rows] == [("P1", "y1"), ("P2", "x1"), ("P2", "x2")]
        rest = store.sweep_records(["P2"], "P2", seqs[0], upto, 10)
        assert [r.id for r in rest] == ["x2"]
        assert [r.id for r in store.sweep_records(["P1", "P2"], "", 0, upto, 2)] == ["y1", "x1"]
        assert store.sweep_records([], "", 0, upto, 10) == []


def test_list_records_filters_by_entity_patients_and_fields_in_id_order(stores: Stores) -> None:
    write(
        stores,
        version("visit", "v3", 1, "P1", status="open", flag=True, note=None),
        version("visit", "v1", 1, "P1", status="open", flag=False, note="x"),
        version("visit", "v2", 1, "P2", status="done", flag=True, note=None),
        version("visit", "v0", 1, "P1", deleted=True, status="open"),
        version("goal", "g1", 1, "P1", status="open"),
    )
    with stores.read() as store:
        def ids(**kwargs: Any) -> list[str]:
            options: dict[str, Any] = {"where": {}, "after_id": None, "limit": 10,
                                       "include_deleted": False}
            options.update(kwargs)
            patients = options.pop("patients", {"P1", "P2"})
            return [r.id for r in store.list_records("visit", patients, **options)]

        assert ids() == ["v1", "v2", "v3"]
        assert ids(include_deleted=True) == ["v0", "v1", "v2", "v3"]
        assert ids(patients={"P1"}) == ["v1", "v3"]
        assert ids(where={"status": "open"}) == ["v1", "v3"]
        assert ids(where={"flag": True}) == ["v2", "v3"]
        assert ids(where={"note": None}) == ["v2", "v3"]
        assert ids(after_id="v1", limit=1) == ["v2"]
        assert ids(patients=set()) == []
        with pytest.raises(ValueError):
            ids(where={"status = 'open' OR 1": 1})


def test_declared_indexes_are_created_once_and_lookups_still_answer(storage: Storage) -> None:
    indexes = [RecordIndex("records_live_visit_status", "visit", "status", live_only=True),
               RecordIndex("records_visit_flag", "visit", "flag")]
    store = storage.sync_store()
    store.ensure_indexes(indexes)
    store.ensure_indexes(indexes)  # idempotent
    with store.write_transaction():
        store.write_version(version("visit", "v1", 1, "P1", status="open", flag=True))
    with store.read_transaction():
        rows = store.list_records("visit", {"P1"}, where={"status": "open"}, after_id=None,
                                  limit=10, include_deleted=False)
        assert [r.id for r in rows] == ["v1"]


def test_mutation_numbering_and_stored_results_per_device(stores: Stores) -> None:
    with stores.read() as store:
        assert store.last_mutation_id("dev-1") == 0
        assert store.stored_results("dev-1", [1, 2]) == {}
    with stores.write() as store:
        store.set_last_mutation_id("dev-1", "u-1", 2)
        store.store_results("dev-1", [(1, '{"status":"applied"}'), (2, '{"status":"rejected"}')])
    with stores.write() as store:
        store.set_last_mutation_id("dev-1", "u-1", 3)
        store.store_results("dev-1", [(3, '{"status":"applied"}')])
    with stores.read() as store:
        assert store.last_mutation_id("dev-1") == 3
        assert store.last_mutation_id("dev-2") == 0
        assert store.stored_results("dev-1", [2, 3, 9]) == {
            2: '{"status":"rejected"}', 3: '{"status":"applied"}'}
        assert store.stored_results("dev-2", [1]) == {}
        assert store.stored_results("dev-1", []) == {}


def test_quarantine_keeps_entries_in_order_and_counts_recent_usage(
    stores: Stores, clock: Clock
) -> None:
    with stores.write() as store:
        store.quarantine([QuarantineEntry("malformed_batch", "dev-1", "u-1", "{bad", {"x": ["y"]})])
    clock.advance(hours=30)
    with stores.write() as store:
        store.quarantine([
            QuarantineEntry("rejected", "dev-1", "u-1", "é" * 3, {"id": ["Not found."]},
                            mutation_id=4, entity="visit", record_id="v1"),
            QuarantineEntry("malformed_batch", "dev-2", "u-2", "[]", {}),
        ])
    with stores.read() as store:
        kept = list(store.quarantined("dev-1"))
        assert [row["reason"] for row in kept] == ["malformed_batch", "rejected"]
        assert kept[1]["errors"] == {"id": ["Not found."]}
        assert (kept[1]["mutation_id"], kept[1]["entity"], kept[1]["record_id"]) == (
            4, "visit", "v1")
        assert kept[0]["raw"] == "{bad"
        assert len(list(store.quarantined())) == 3
        # Within the last day: only the second entry, its raw text counted in bytes.
        assert store.quarantine_usage("u-1", timedelta(days=1)) == (1, 6)
        assert store.quarantine_usage("u-1", timedelta(days=2)) == (2, 10)
        assert store.quarantine_usage("u-9", timedelta(days=1)) == (0, 0)


def test_scope_sets_are_stored_once_per_ref(stores: Stores) -> None:
    with stores.read() as store:
        assert not store.has_scope_set("ref-1") and store.load_scope_set("ref-1") is None
    with stores.write() as store:
        store.save_scope_set("ref-1", "u-1", ["P1", "P2"])
    with stores.write() as store:
        store.save_scope_set("ref-1", "u-1", ["P1", "P2"])  # already stored: no change
    with stores.read() as store:
        assert store.has_scope_set("ref-1")
        assert store.load_scope_set("ref-1") == ("u-1", ["P1", "P2"])


def test_the_engine_store_refuses_work_outside_a_transaction(storage: Storage) -> None:
    store = storage.sync_store()
    assert store.now()
    assert not store.in_transaction()
    with pytest.raises(RuntimeError):
        store.get_record("visit", "v1")
    with pytest.raises(RuntimeError):
        store.write_version(version("visit", "v1", 1, "P1"))


def test_a_restore_raises_the_floors_rotates_the_epoch_and_allows_one_gap(
    storage: Storage, tmp_path: Path, clock: Clock
) -> None:
    store = storage.sync_store()
    with store.write_transaction():
        store.write_version(version("visit", "v1", 1, "P1", n=1))
        store.set_last_mutation_id("dev-1", "u-1", 1)
    backup = tmp_path / "backup.copy"
    storage.backup(backup)
    with store.write_transaction():
        for number in range(2, 6):
            seq = store.write_version(version("visit", "v1", number, "P1", n=number))
    with store.read_transaction():
        epoch = store.epoch()
    clock.advance(minutes=1)
    storage.restore(backup)
    after = storage.sync_store()
    with after.read_transaction():
        record = after.get_record("visit", "v1")
        assert record is not None and record.version == 1  # the backup's
        assert after.version_floor() >= 5
        assert after.epoch() != epoch
        assert after.restored_gap_allowed("dev-1")
    with after.write_transaction():
        assert after.write_version(version("visit", "v1", 6, "P1", n=6)) > seq
    clock.advance(minutes=1)
    with after.write_transaction():
        after.set_last_mutation_id("dev-1", "u-1", 7)
    with after.read_transaction():
        assert not after.restored_gap_allowed("dev-1")  # once, until the device pushes


# -- the engine on a storage-bound store: every call inside the store's transactions ----


class VisiblePatients:
    """A scope that answers from a set the test changes (no queries of its own)."""

    def __init__(self) -> None:
        self.ids: set[str] = {"P1"}

    def visible_patient_ids(self, store: Any, actor: Actor) -> set[str]:
        return set(self.ids) if actor.role != SYSTEM.role else set()


def _toy_registry(scope: VisiblePatients) -> Registry:
    registry = Registry(scope=scope, scope_entities=frozenset({"patient"}))

    def validate(actor: Actor, op: str, current: Any, fields: dict[str, Any]) -> dict[str, Any]:
        return dict(fields)

    def authorize(actor: Actor, op: str, current: Any, merged: dict[str, Any]) -> None:
        return None

    registry.register(EntityType("patient", validate, authorize, patient_field=None))
    registry.register(EntityType("visit", validate, authorize))
    return registry


def _push(store: Store, registry: Registry, actor: Actor, *mutations: dict[str, Any]) -> Any:
    body = {"client_id": actor.client_id, "schema_version": 1, "mutations": list(mutations)}
    return apply_push(store, registry, actor, json.dumps(body).encode())


def test_the_engine_runs_on_a_storage_bound_store(storage: Storage) -> None:
    """Push, pull (a patient entering scope, then empty pulls), reads, a conflict and its
    resolution and a quarantined batch: a bound store raises if the engine touched it
    outside a transaction."""
    store, scope = storage.sync_store(), VisiblePatients()
    registry = _toy_registry(scope)
    nurse = Actor("u-1", "nurse", "dev-1")
    other = Actor("u-2", "nurse", "dev-2")
    with store.write_transaction():
        for patient in ("P1", "P2"):
            apply_mutation(store, registry, SYSTEM, Mutation("patient", patient, "create", {}))
    pushed = _push(store, registry, nurse, {
        "mutation_id": 1, "entity": "visit", "id": "v1", "op": "create", "base_version": 0,
        "fields": {"patient_id": "P1", "notes": "first"}})
    assert [r.status for r in pushed.results] == ["applied"]
    first = pull(store, registry, nurse)
    assert {c.id for c in first.changes} == {"P1", "v1"}
    scope.ids.add("P2")  # a patient enters scope: swept whole, its set stored
    pages = [pull(store, registry, nurse, cursor=first.cursor)]
    while pages[-1].has_more:
        pages.append(pull(store, registry, nurse, cursor=pages[-1].cursor))
    assert "P2" in {c.id for page in pages for c in page.changes}
    quiet = pull(store, registry, nurse, cursor=pages[-1].cursor)
    assert quiet.changes == () and not quiet.has_more
    # Two devices edit one field from the same base: the second is a conflict.
    for actor, notes in ((nurse, "mine"), (other, "theirs")):
        _push(store, registry, actor, {
            "mutation_id": 2 if actor is nurse else 1, "entity": "visit", "id": "v1",
            "op": "update", "base_version": 1, "fields": {"notes": notes}})
    found = get_record(store, registry, nurse, "visit", "v1")
    assert found is not None and found.data["notes"] == "mine"
    conflicts = list_records(store, registry, SYSTEM, CONFLICT, patient_ids=["P1"])
    assert len(conflicts.items) == 1
    with store.write_transaction():
        resolve_conflict(store, registry, nurse, conflicts.items[0].id, "kept_server")
    with pytest.raises(MalformedRequest):
        apply_push(store, registry, nurse, b"{not json")
    with store.read_transaction():
        assert [row["reason"] for row in store.quarantined("dev-1")] == ["malformed_batch"]
