"""Pull rules (SPEC §3.3): snapshots, incremental pulls, grants, evictions, cursors."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import pytest
from sync_helpers import (
    Device,
    TeamScope,
    coordinator,
    make_registry,
    make_store,
    nurse,
    patient_actor,
    seed_patient,
    server_view,
    server_write,
)

from sync import CursorResetRequired, MalformedRequest, pull
from sync.cursor import decode_cursor, encode_cursor
from sync.registry import EntityType, Registry


def seeded(db: Any) -> Any:
    store = make_store(db)
    registry = make_registry()
    seed_patient(store, registry, "P1", "A", name="Ann", access_notes="key safe 1234")
    seed_patient(store, registry, "P2", "B", name="Bob")
    return store, registry


@pytest.fixture
def env(sync_db: Any) -> Any:
    return seeded(sync_db)


@pytest.fixture
def sqlite_env(tmp_path: Any) -> Any:
    """For the tests that watch SQLite's own change counters."""
    return seeded(tmp_path / "sync.db")


def visits(store: Any, registry: Any, patient: str, n: int, prefix: str = "V") -> None:
    for i in range(n):
        server_write(
            store,
            registry,
            "visit",
            f"{prefix}{patient}-{i:03}",
            "create",
            {"patient_id": patient, "notes": f"n{i}"},
        )


def keys(pages: Any) -> list[tuple[str, str]]:
    return [(c.entity, c.id) for page in pages for c in page.changes]


def test_snapshot_is_paged_and_complete(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 24)
    visits(store, registry, "P2", 5)  # another team's: never sent
    device = Device(store, registry, nurse())
    pages = device.sync(limit=10)
    assert [len(p.changes) for p in pages] == [10, 10, 5]
    assert [p.has_more for p in pages] == [True, True, False]
    assert len(set(keys(pages))) == len(keys(pages)) == 25
    assert device.records == server_view(store, registry, device.actor)
    assert all(p.patient_ids == {"P1"} for p in pages)


def test_snapshot_skips_tombstones_and_sees_changes_made_while_paging(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 20)
    server_write(store, registry, "visit", "VP1-000", "delete", {})
    device = Device(store, registry, nurse())
    first = device.pull_page(limit=5)
    assert ("visit", "VP1-000") not in keys([first])
    delivered = keys([first])
    # Between pages: edit a record already sent, one not yet sent, delete a sent one.
    server_write(store, registry, "visit", delivered[1][1], "update", {"notes": "edited"})
    server_write(store, registry, "visit", "VP1-019", "update", {"notes": "late"})
    server_write(store, registry, "visit", delivered[2][1], "delete", {})
    device.sync(limit=5)
    assert device.records == server_view(store, registry, device.actor)
    assert device.records[("visit", delivered[1][1])]["data"]["notes"] == "edited"


def test_incremental_pull_returns_each_changed_record_once_at_its_latest(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 5)
    device = Device(store, registry, nurse())
    device.sync()
    for notes in ("x", "y", "z"):
        server_write(store, registry, "visit", "VP1-002", "update", {"notes": notes})
    server_write(store, registry, "visit", "VP1-003", "delete", {})
    [page] = device.sync()
    assert [(c.id, c.version, c.deleted) for c in page.changes] == [
        ("VP1-002", 4, False),
        ("VP1-003", 2, True),
    ]
    assert page.changes[0].data["notes"] == "z"
    assert device.records == server_view(store, registry, device.actor)


def test_a_patient_entering_scope_arrives_whole(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P2", 12)  # old records of a patient not yet in scope
    device = Device(store, registry, nurse())
    device.sync()
    assert {k[1] for k in device.records if k[0] == "patient"} == {"P1"}
    server_write(store, registry, "patient", "P2", "update", {"team_id": "A"})
    server_write(store, registry, "visit", "VP1-new", "create", {"patient_id": "P1"})
    pages = device.sync(limit=5)
    assert len(pages) == 3 and pages[-1].has_more is False
    assert len(keys(pages)) == 14  # P2 + 12 visits + the new P1 visit, once each
    assert device.records == server_view(store, registry, device.actor)
    assert set().union(*(p.patient_ids for p in pages)) == {"P1", "P2"}


def test_a_patient_leaving_scope_is_evicted_once(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 3)
    seed_patient(store, registry, "P3", "A")
    device = Device(store, registry, nurse())
    device.sync()
    server_write(store, registry, "patient", "P1", "update", {"team_id": "B"})
    server_write(store, registry, "visit", "VP1-001", "update", {"notes": "after move"})
    [page] = device.sync()
    assert [e.to_wire() for e in page.evictions] == [{"entity": "patient", "id": "P1"}]
    assert page.changes == ()  # nothing of the evicted patient, not even its changes
    assert device.records == server_view(store, registry, device.actor)
    [again] = device.sync()
    assert again.evictions == () and again.changes == ()


def test_patient_moving_out_and_back_is_evicted_then_sent_whole(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 3)
    device = Device(store, registry, nurse())
    device.sync()
    server_write(store, registry, "patient", "P1", "update", {"team_id": "B"})
    device.sync()
    assert device.records == {}
    server_write(store, registry, "patient", "P1", "update", {"team_id": "A"})
    pages = device.sync()
    assert len(keys(pages)) == 4
    assert device.records == server_view(store, registry, device.actor)


def test_a_record_that_becomes_hidden_is_evicted_only_from_devices_that_saw_it(env: Any) -> None:
    store, registry = env
    author, other = Device(store, registry, nurse("n1")), Device(store, registry, nurse("n2"))
    author.edit("memo", "M1", "create", {"patient_id": "P1", "text": "shared"})
    author.edit("memo", "M2", "create", {"patient_id": "P1", "text": "secret", "private": True})
    other.sync()
    assert ("memo", "M1") in other.records and ("memo", "M2") not in other.records
    author.edit("memo", "M1", "update", {"private": True})
    author.edit("memo", "M2", "update", {"text": "still secret"}, base=1)
    [page] = other.sync()
    assert [e.to_wire() for e in page.evictions] == [{"entity": "memo", "id": "M1"}]
    assert other.records == server_view(store, registry, other.actor)
    author.sync()
    assert {("memo", "M1"), ("memo", "M2")} <= set(author.records)


def test_records_are_redacted_per_actor(env: Any) -> None:
    store, registry = env
    server_write(store, registry, "patient", "P1", "update", {"account": "pt1"})
    staff, own = Device(store, registry, nurse()), Device(store, registry, patient_actor("pt1"))
    staff.sync()
    own.sync()
    assert staff.records[("patient", "P1")]["data"]["access_notes"] == "key safe 1234"
    assert "access_notes" not in own.records[("patient", "P1")]["data"]


def test_a_lost_response_is_repeated_by_resending_the_old_cursor(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 8)
    device = Device(store, registry, nurse())
    device.sync(limit=3)
    visits(store, registry, "P1", 6, prefix="W")
    old = device.cursor
    lost = pull(store, registry, device.actor, cursor=old, limit=4)  # never arrives
    server_write(store, registry, "visit", "WP1-000", "update", {"notes": "after loss"})
    retried = pull(store, registry, device.actor, cursor=old, limit=4)
    # Same page again, except the record changed since, which moved further on.
    assert set(keys([lost])) - {("visit", "WP1-000")} <= set(keys([retried]))
    assert ("visit", "WP1-000") not in keys([retried])
    device.absorb(retried)
    device.sync(limit=4)
    assert device.records == server_view(store, registry, device.actor)


def test_a_lost_response_during_a_grant_loses_nothing(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P2", 9)
    device = Device(store, registry, nurse())
    device.sync()
    server_write(store, registry, "patient", "P2", "update", {"team_id": "A"})
    device.pull_page(limit=4)
    mid_sweep = device.cursor
    assert decode_cursor(mid_sweep).sweeping  # type: ignore[arg-type]
    pull(store, registry, device.actor, cursor=mid_sweep, limit=4)  # lost
    device.sync(limit=4)
    assert device.records == server_view(store, registry, device.actor)


def test_empty_pull_writes_nothing(sqlite_env: Any, tmp_path: Any) -> None:
    store, registry = sqlite_env
    device = Device(store, registry, nurse())
    device.sync()
    db_file = tmp_path / "sync.db"
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    watcher = sqlite3.connect(db_file)
    version_before = watcher.execute("PRAGMA data_version").fetchone()[0]
    changes_before = store.conn.total_changes
    sizes = (os.path.getsize(db_file), os.path.getsize(f"{db_file}-wal"))
    for _ in range(3):
        [page] = device.sync()
        assert page.changes == () and page.evictions == () and not page.has_more
        assert page.patient_ids == frozenset()
        assert page.last_mutation_id == 0 and page.server_time
    assert store.conn.total_changes == changes_before
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version_before
    assert (os.path.getsize(db_file), os.path.getsize(f"{db_file}-wal")) == sizes
    watcher.close()


def test_first_pull_with_nothing_visible_writes_nothing(sqlite_env: Any) -> None:
    store, registry = sqlite_env
    before = store.conn.total_changes
    [page] = Device(store, registry, nurse("n9", team="Z")).sync()
    assert page.changes == () and store.conn.total_changes == before


def hidden_patients_registry() -> Registry:
    registry = make_registry()
    base = registry.entities["patient"]
    registry.entities["patient"] = EntityType(
        "patient",
        base.validate,
        base.authorize,
        patient_field=None,
        redact=lambda actor, data: None if data.get("name") == "hidden" else data,
    )
    return registry


def test_a_granted_patient_with_nothing_visible_writes_nothing_and_ends(tmp_path: Any) -> None:
    store, registry = make_store(tmp_path / "s.db"), hidden_patients_registry()
    seed_patient(store, registry, "P1", "A")
    device = Device(store, registry, nurse())
    device.sync()
    seed_patient(store, registry, "PH", "A", name="hidden")
    before = store.conn.total_changes
    for _ in range(2):
        [page] = device.sync()
        assert page.changes == () and not page.has_more
    assert store.conn.total_changes == before
    server_write(store, registry, "visit", "VH", "create", {"patient_id": "PH"})
    device.sync()
    assert device.records == server_view(store, registry, device.actor)
    assert ("visit", "VH") in device.records


def test_pull_reports_last_mutation_id(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    device.edit("visit", "V1", "create", {"patient_id": "P1"})
    assert device.sync()[-1].last_mutation_id == 1


def cursors(store: Any, device: Device) -> dict[str, str]:
    state = decode_cursor(device.cursor)  # type: ignore[arg-type]
    return {
        "garbage": "not a cursor",
        "bad base64": "c1.!!!",
        "bad json": "c1.e30",
        "ahead of the database": encode_cursor(
            type(state)(state.epoch, state.since + 100, state.held)
        ),
        "unknown patient set": encode_cursor(type(state)(state.epoch, state.since, "f" * 32)),
        "another epoch": encode_cursor(type(state)("0" * 16, state.since, state.held)),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "garbage",
        "bad base64",
        "bad json",
        "ahead of the database",
        "unknown patient set",
        "another epoch",
    ],
)
def test_unusable_cursors_need_a_reset(env: Any, kind: str) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    device.sync()
    with pytest.raises(CursorResetRequired) as error:
        pull(store, registry, device.actor, cursor=cursors(store, device)[kind])
    assert error.value.http_status == 410
    assert error.value.errors == {"cursor": "reset_required"}


def test_another_users_cursor_needs_a_reset(env: Any) -> None:
    store, registry = env
    mine = Device(store, registry, nurse("n1"))
    mine.sync()
    with pytest.raises(CursorResetRequired):
        pull(store, registry, nurse("n2"), cursor=mine.cursor)


def test_rotating_the_epoch_resets_every_cursor(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    device.sync()
    store.rotate_epoch()
    with pytest.raises(CursorResetRequired):
        device.sync()
    device.cursor = None
    device.records.clear()
    device.sync()
    assert device.records == server_view(store, registry, device.actor)


@pytest.mark.parametrize("limit", [0, 1001, "10"])
def test_limit_is_checked(env: Any, limit: Any) -> None:
    store, registry = env
    with pytest.raises(MalformedRequest):
        pull(store, registry, nurse(), limit=limit)


def test_client_id_must_match_the_actor(env: Any) -> None:
    store, registry = env
    with pytest.raises(MalformedRequest):
        pull(store, registry, nurse(), client_id="someone-else")


def test_coordinator_of_two_teams_and_a_team_change(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 3)
    visits(store, registry, "P2", 3)
    both = Device(store, registry, coordinator("c1", ["A", "B"]))
    both.sync(limit=2)
    assert both.records == server_view(store, registry, both.actor)
    # the device's user leaves team B: the server now gives a narrower actor
    narrowed = Device(store, registry, coordinator("c1", ["A"]))
    narrowed.cursor, narrowed.records = both.cursor, dict(both.records)
    [page] = narrowed.sync()
    assert [e.id for e in page.evictions] == ["P2"]
    assert narrowed.records == server_view(store, registry, narrowed.actor)


def test_walk_and_seek_strategies_return_the_same_rows(env: Any) -> None:
    store, registry = env
    visits(store, registry, "P1", 30)
    visits(store, registry, "P2", 30)
    ids = TeamScope().visible_patient_ids(store, nurse())
    for after in (0, 10, 25):
        seek = store.changed_since(ids, after, 7, by_patient=True)
        walk = store.changed_since(ids, after, 7, by_patient=False)
        assert seek == walk and len(seek) == 7
