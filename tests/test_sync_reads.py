"""REST read helpers, pure merge rules and the migration, at engine level."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sync_helpers import (
    Device,
    InspectableStore,
    make_registry,
    make_store,
    nurse,
    patient_actor,
    seed_patient,
    server_write,
)

from sync import SYSTEM, get_record, list_records
from sync.merge import latest_change_by_other, plan_update, same_value


@pytest.fixture
def env(sync_db: Any) -> Any:
    store = make_store(sync_db)
    registry = make_registry()
    seed_patient(store, registry, "P1", "A", access_notes="dog", account="pt1")
    seed_patient(store, registry, "P2", "B")
    for i in range(7):
        server_write(
            store,
            registry,
            "visit",
            f"V{i}",
            "create",
            {"patient_id": "P1", "status": "done" if i % 2 else "scheduled"},
        )
    server_write(store, registry, "visit", "W1", "create", {"patient_id": "P2"})
    server_write(store, registry, "visit", "V6", "delete", {})
    return store, registry


def test_get_record_is_scoped_redacted_and_hides_deleted(env: Any) -> None:
    store, registry = env
    assert get_record(store, registry, nurse(), "visit", "V0") is not None
    assert get_record(store, registry, nurse(), "visit", "W1") is None  # other team
    assert get_record(store, registry, nurse(), "visit", "V6") is None  # deleted
    assert get_record(store, registry, nurse(), "visit", "V6", include_deleted=True) is not None
    assert get_record(store, registry, nurse(), "spaceship", "V0") is None
    assert get_record(store, registry, nurse(), "visit", "nope") is None
    own = get_record(store, registry, patient_actor("pt1"), "patient", "P1")
    assert own is not None and "access_notes" not in own.data
    assert get_record(store, registry, SYSTEM, "visit", "W1") is not None


def test_list_records_filters_pages_and_reports_patients(env: Any) -> None:
    store, registry = env
    page = list_records(store, registry, nurse(), "visit", limit=4)
    assert [r.id for r in page.items] == ["V0", "V1", "V2", "V3"] and page.next_after == "V3"
    rest = list_records(store, registry, nurse(), "visit", after=page.next_after, limit=4)
    assert [r.id for r in rest.items] == ["V4", "V5"] and rest.next_after is None
    assert page.patient_ids == {"P1"}
    done = list_records(store, registry, nurse(), "visit", where={"status": "done"})
    assert [r.id for r in done.items] == ["V1", "V3", "V5"]
    none = list_records(store, registry, nurse(), "visit", where={"notes": None})
    assert len(none.items) == 6
    other = list_records(store, registry, nurse(), "visit", patient_ids=["P2"])
    assert other.items == () and other.patient_ids == frozenset()
    system = list_records(store, registry, SYSTEM, "visit", patient_ids=["P2"])
    assert [r.id for r in system.items] == ["W1"]
    with pytest.raises(ValueError):
        list_records(store, registry, nurse(), "visit", where={"x') OR 1=1 --": 1})


def test_list_records_with_a_bool_filter(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    device.edit("memo", "M1", "create", {"patient_id": "P1", "text": "a", "private": True})
    device.edit("memo", "M2", "create", {"patient_id": "P1", "text": "b", "private": False})
    page = list_records(store, registry, nurse(), "memo", where={"private": True})
    assert [r.id for r in page.items] == ["M1"]
    assert list_records(store, registry, nurse("n2"), "memo", where={"private": True}).items == ()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (1, 1, True),
        (1, 1.0, True),
        (True, 1, False),
        (False, 0, False),
        (None, None, True),
        ("a", "a", True),
        ([1, True], [1, 1], False),
        ({"x": 1}, {"x": 1}, True),
        ({"x": [1]}, {"x": [2]}, False),
        (None, 0, False),
        ("", None, False),
    ],
)
def test_same_value_is_json_equality(a: Any, b: Any, same: bool) -> None:
    assert same_value(a, b) is same


MERGE_CASES = [
    # stored, stamps, fields, base, client, apply, conflicts, unchanged
    ({"n": "x"}, {"n": (2, "B")}, {"n": "y"}, 1, "A", {}, ["n"], []),
    ({"n": "x"}, {"n": (2, "B")}, {"n": "x"}, 1, "A", {}, [], ["n"]),
    ({"n": "x"}, {"n": (2, "A")}, {"n": "y"}, 1, "A", {"n": "y"}, [], []),
    ({"n": "x"}, {"n": (1, "B")}, {"n": "y"}, 1, "A", {"n": "y"}, [], []),
    ({"n": "x"}, {"n": (2, "B")}, {"n": "y"}, None, "A", {"n": "y"}, [], []),
    ({}, {}, {"n": "y"}, 0, "A", {"n": "y"}, [], []),
    (
        {"n": "x", "m": 1},
        {"n": (5, "B"), "m": (3, "B")},
        {"n": "y", "m": 2},
        4,
        "A",
        {"m": 2},
        ["n"],
        [],
    ),
]


@pytest.mark.parametrize(
    ("stored", "stamps", "fields", "base", "client", "apply", "conflicts", "unchanged"),
    MERGE_CASES,
)
def test_plan_update(
    stored: Any,
    stamps: Any,
    fields: Any,
    base: Any,
    client: str,
    apply: Any,
    conflicts: list[str],
    unchanged: list[str],
) -> None:
    plan = plan_update(stored, stamps, fields, base, client)
    assert plan.apply == apply
    assert [c.field for c in plan.conflicts] == conflicts
    assert list(plan.unchanged) == unchanged


def test_latest_change_by_other() -> None:
    stamps = {"a": (3, "B"), "b": (5, "C"), "c": (7, "A")}
    assert latest_change_by_other(stamps, 2, "A") == (5, "C")
    assert latest_change_by_other(stamps, 5, "A") is None
    assert latest_change_by_other(stamps, 2, "C") == (7, "A")
    assert latest_change_by_other({"a": (3, "B"), "b": (5, "C")}, 2, "C") == (3, "B")
    assert latest_change_by_other(stamps, None, "A") is None


def test_the_migration_creates_the_engine_schema(tmp_path: Any) -> None:
    from storage.sqlite import migrations

    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    applied = migrations.migrate(conn)
    assert 2 in applied
    store = InspectableStore(conn)
    registry = make_registry()
    seed_patient(store, registry, "P1", "A")
    assert store.max_seq() == 1 and len(store.epoch()) == 16
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE changelog SET data = '{}'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM changelog")
