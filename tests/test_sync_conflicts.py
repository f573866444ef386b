"""Conflicts (SPEC §3.2, §3.4): detection per field and per record, visibility, resolution."""

from __future__ import annotations

from typing import Any

import pytest
from sync_helpers import (
    Device,
    coordinator,
    make_registry,
    make_store,
    nurse,
    seed_patient,
    server_write,
)

from sync import (
    MISSING,
    RECORD_FIELD,
    ConflictAlreadyResolved,
    NotPermitted,
    ValidationFailed,
    resolve_conflict,
)
from sync.registry import Actor


@pytest.fixture
def env(sync_db: Any) -> Any:
    store = make_store(sync_db)
    registry = make_registry()
    seed_patient(store, registry, "P1", "A")
    seed_patient(store, registry, "P2", "B")
    a, b = Device(store, registry, nurse("n1")), Device(store, registry, nurse("n2"))
    # V1 v1: notes=base, a=1, b=1 (by n1)
    a.edit("visit", "V1", "create", {"patient_id": "P1", "notes": "base", "a": 1, "b": 1})
    return store, registry, a, b


def conflict_data(store: Any, conflict_id: str) -> dict[str, Any]:
    record = store.get_record("conflict", conflict_id)
    assert record is not None
    return dict(record.data)


# (what the other device did after base v1, what n1 sends on base, expected status,
#  conflicting fields, final values of notes/a/b)
FIELD_CASES = [
    (
        "other changed notes; n1 changes notes",
        {"notes": "n2"},
        {"notes": "n1"},
        1,
        "conflict",
        ["notes"],
        {"notes": "n2"},
    ),
    (
        "other changed notes to the same value",
        {"notes": "same"},
        {"notes": "same"},
        1,
        "applied",
        [],
        {"notes": "same"},
    ),
    (
        "other changed another field",
        {"a": 2},
        {"notes": "n1"},
        1,
        "applied",
        [],
        {"notes": "n1", "a": 2},
    ),
    (
        "other changed before the base",
        {"notes": "n2"},
        {"notes": "n1"},
        2,
        "applied",
        [],
        {"notes": "n1"},
    ),
    (
        "mixed: one conflicting field, one not",
        {"notes": "n2"},
        {"notes": "n1", "b": 5},
        1,
        "conflict",
        ["notes"],
        {"notes": "n2", "b": 5},
    ),
    (
        "two conflicting fields",
        {"notes": "n2", "a": 2},
        {"notes": "n1", "a": 3},
        1,
        "conflict",
        ["a", "notes"],
        {"notes": "n2", "a": 2},
    ),
    ("bool is not a number", {"a": True}, {"a": 1}, 1, "conflict", ["a"], {"a": True}),
]


@pytest.mark.parametrize(
    ("name", "other", "mine", "base", "status", "fields", "final"),
    FIELD_CASES,
    ids=[c[0] for c in FIELD_CASES],
)
def test_field_conflicts(
    env: Any,
    name: str,
    other: dict[str, Any],
    mine: dict[str, Any],
    base: int,
    status: str,
    fields: list[str],
    final: dict[str, Any],
) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", other, base=1)
    result = a.edit("visit", "V1", "update", mine, base=base)
    assert result["status"] == status
    conflicts = [conflict_data(store, cid) for cid in result.get("conflict_ids", [])]
    assert sorted(c["field"] for c in conflicts) == fields
    record = store.get_record("visit", "V1")
    assert {k: record.data.get(k) for k in final} == final
    applied_something = any(k not in fields for k in mine if mine[k] != other.get(k))
    assert result["version"] == record.version == (3 if applied_something else 2)
    for c in conflicts:
        assert c["server_value"] == other[c["field"]] and c["client_value"] == mine[c["field"]]
        assert c["base_value"] == {"notes": "base", "a": 1, "b": 1}[c["field"]]
        assert (c["client_author_id"], c["server_author_id"]) == ("n1", "n2")
        assert (c["client_id"], c["mutation_id"], c["status"]) == ("n1-dev", 2, "open")
        assert c["patient_id"] == "P1" and c["record_id"] == "V1" and c["entity"] == "visit"


def test_own_earlier_mutations_never_conflict(env: Any) -> None:
    store, registry, a, b = env
    # Three queued edits on the same base, pushed in one batch and then one more later.
    response = a.push(
        a.mutation("visit", "V1", "update", {"notes": "one"}, base=1),
        a.mutation("visit", "V1", "update", {"notes": "two", "a": 2}, base=1),
        a.mutation("visit", "V1", "update", {"a": 3}, base=1),
    )
    assert [r.status for r in response.results] == ["applied"] * 3
    assert a.edit("visit", "V1", "update", {"notes": "four"}, base=1)["status"] == "applied"
    assert store.get_record("visit", "V1").data["notes"] == "four"


def test_the_same_user_on_two_devices_can_conflict(env: Any) -> None:
    store, registry, a, b = env
    tablet = Device(store, registry, Actor("n1", "nurse", "n1-tablet", frozenset({"A"})))
    tablet.edit("visit", "V1", "update", {"notes": "tablet"}, base=1)
    assert a.edit("visit", "V1", "update", {"notes": "phone"}, base=1)["status"] == "conflict"


def test_delete_of_a_record_changed_elsewhere_is_a_record_conflict(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", {"notes": "n2 edit"}, base=1)
    result = a.edit("visit", "V1", "delete", base=1)
    assert result["status"] == "conflict" and result["version"] == 2
    record = store.get_record("visit", "V1")
    assert not record.deleted
    c = conflict_data(store, result["conflict_ids"][0])
    assert c["field"] == RECORD_FIELD
    assert c["client_value"] is None and c["server_value"] == record.data
    assert c["base_value"] == {"patient_id": "P1", "notes": "base", "a": 1, "b": 1}
    assert c["server_author_id"] == "n2"


@pytest.mark.parametrize(("edit_by", "status"), [("self", "applied"), ("nobody", "applied")])
def test_delete_without_other_changes_applies(env: Any, edit_by: str, status: str) -> None:
    store, registry, a, b = env
    if edit_by == "self":
        a.edit("visit", "V1", "update", {"notes": "mine"}, base=1)
    result = a.edit("visit", "V1", "delete", base=1)
    assert result["status"] == status
    assert store.get_record("visit", "V1").deleted
    # deleting again is a no-op
    assert a.edit("visit", "V1", "delete", base=1)["status"] == "applied"


def test_update_of_a_deleted_record_is_a_record_conflict(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "delete", base=1)
    result = a.edit("visit", "V1", "update", {"notes": "too late"}, base=1)
    assert result["status"] == "conflict" and result["version"] == 2
    record = store.get_record("visit", "V1")
    assert record.deleted and record.data["notes"] == "base"  # no silent resurrection
    c = conflict_data(store, result["conflict_ids"][0])
    assert c["field"] == RECORD_FIELD and c["server_value"] is None
    assert c["client_value"] == {"patient_id": "P1", "notes": "too late", "a": 1, "b": 1}
    assert c["server_author_id"] == "n2"


def test_conflicts_sync_to_authors_and_coordinators_only(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", {"notes": "n2"}, base=1)
    [cid] = a.edit("visit", "V1", "update", {"notes": "n1"}, base=1)["conflict_ids"]
    viewers = {
        "client author": (nurse("n1"), True),
        "server author": (nurse("n2"), True),
        "coordinator of the team": (coordinator("c1", ["A"]), True),
        "another nurse of the team": (nurse("n3"), False),
        "coordinator of another team": (coordinator("c2", ["B"]), False),
    }
    for name, (actor, sees) in viewers.items():
        device = Device(store, registry, actor)
        device.sync()
        assert (("conflict", cid) in device.records) is sees, name


def resolve(
    store: Any, registry: Any, actor: Actor, cid: str, resolution: str, value: Any = MISSING
) -> Any:
    with store.write_transaction():
        return resolve_conflict(store, registry, actor, cid, resolution, value)


@pytest.fixture
def conflicted(env: Any) -> Any:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", {"notes": "server"}, base=1)
    [cid] = a.edit("visit", "V1", "update", {"notes": "client"}, base=1)["conflict_ids"]
    return store, registry, cid


@pytest.mark.parametrize(
    ("resolution", "value", "notes", "record_version"),
    [
        ("took_client", MISSING, "client", 3),
        ("kept_server", MISSING, "server", 2),
        ("custom", "both", "both", 3),
    ],
)
def test_resolution_applies_the_choice_as_a_new_version(
    conflicted: Any, resolution: str, value: Any, notes: str, record_version: int
) -> None:
    store, registry, cid = conflicted
    outcome = resolve(store, registry, coordinator("c1"), cid, resolution, value)
    record = store.get_record("visit", "V1")
    assert record.data["notes"] == notes and record.version == record_version
    assert outcome.record_version == record_version
    c = conflict_data(store, cid)
    assert c["status"] == "resolved" and c["resolution"] == resolution
    assert c["resolved_value"] == notes and c["resolved_by"] == "c1" and c["resolved_at"]
    assert outcome.conflict == c and outcome.conflict_version == 2
    if record_version == 3:  # a normal change: authored by the resolver's device
        entry = store.history_entry("visit", "V1", 3)
        assert entry.author_id == "c1" and entry.client_id == "c1-dev"


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (nurse("n1"), True),
        (nurse("n2"), True),
        (coordinator("c1", ["A"]), True),
        (nurse("n3"), False),
        (coordinator("c2", ["B"]), False),
        (Actor("n1", "nurse", "n1-dev", frozenset({"B"})), False),
    ],  # author who lost scope
    ids=[
        "client author",
        "server author",
        "coordinator",
        "other nurse",
        "other coordinator",
        "author out of scope",
    ],
)
def test_who_may_resolve(conflicted: Any, who: Actor, allowed: bool) -> None:
    store, registry, cid = conflicted
    if allowed:
        assert resolve(store, registry, who, cid, "kept_server").conflict["status"] == "resolved"
    else:
        with pytest.raises(NotPermitted):
            resolve(store, registry, who, cid, "kept_server")
        assert conflict_data(store, cid)["status"] == "open"


@pytest.mark.parametrize(
    ("resolution", "value", "errors"),
    [
        (
            "pick_one",
            MISSING,
            {"resolution": ["Must be one of: kept_server, took_client, custom."]},
        ),
        ("custom", MISSING, {"value": ["Required for custom, and only for custom."]}),
        ("took_client", "x", {"value": ["Required for custom, and only for custom."]}),
    ],
)
def test_bad_resolutions_are_422(
    conflicted: Any, resolution: str, value: Any, errors: dict[str, Any]
) -> None:
    store, registry, cid = conflicted
    with pytest.raises(ValidationFailed) as error:
        resolve(store, registry, coordinator("c1"), cid, resolution, value)
    assert error.value.errors == errors


def test_a_custom_value_is_validated_and_nothing_changes_when_invalid(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", {"status": "done"}, base=1)
    [cid] = a.edit("visit", "V1", "update", {"status": "cancelled"}, base=1)["conflict_ids"]
    with pytest.raises(ValidationFailed) as error:
        resolve(store, registry, coordinator("c1"), cid, "custom", "bogus")
    assert error.value.errors == {"status": ["Not a status."]}
    assert conflict_data(store, cid)["status"] == "open"
    assert store.get_record("visit", "V1").data["status"] == "done"


def test_a_record_conflict_takes_an_object_or_null(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "delete", base=1)
    [cid] = a.edit("visit", "V1", "update", {"notes": "x"}, base=1)["conflict_ids"]
    with pytest.raises(ValidationFailed) as error:
        resolve(store, registry, coordinator("c1"), cid, "custom", "not an object")
    assert list(error.value.errors) == ["value"]


def test_a_field_conflict_on_a_record_deleted_since_only_keeps_the_server_state(
    conflicted: Any,
) -> None:
    store, registry, cid = conflicted
    server_write(store, registry, "visit", "V1", "delete", {})
    with pytest.raises(ValidationFailed):
        resolve(store, registry, coordinator("c1"), cid, "took_client")
    assert (
        resolve(store, registry, coordinator("c1"), cid, "kept_server").conflict["resolved_value"]
        == "server"
    )


def test_a_conflict_is_resolved_once(conflicted: Any) -> None:
    store, registry, cid = conflicted
    resolve(store, registry, coordinator("c1"), cid, "took_client")
    with pytest.raises(ConflictAlreadyResolved) as error:
        resolve(store, registry, nurse("n1"), cid, "kept_server")
    assert error.value.http_status == 409


def test_resolution_reaches_both_authors_devices(conflicted: Any) -> None:
    store, registry, cid = conflicted
    author = Device(store, registry, nurse("n1"))
    author.sync()
    assert author.records[("conflict", cid)]["data"]["status"] == "open"
    resolve(store, registry, nurse("n2"), cid, "took_client")
    pages = author.sync()
    assert {(c.entity, c.id) for p in pages for c in p.changes} == {
        ("conflict", cid),
        ("visit", "V1"),
    }
    assert author.records[("conflict", cid)]["data"]["resolution"] == "took_client"
    assert author.records[("visit", "V1")]["data"]["notes"] == "client"


def test_took_client_on_delete_versus_update_deletes(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "update", {"notes": "n2 edit"}, base=1)
    [cid] = a.edit("visit", "V1", "delete", base=1)["conflict_ids"]
    outcome = resolve(store, registry, coordinator("c1"), cid, "took_client")
    assert store.get_record("visit", "V1").deleted
    assert outcome.conflict["resolved_value"] is None


def test_took_client_on_update_versus_delete_restores_with_the_clients_fields(env: Any) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "delete", base=1)
    [cid] = a.edit("visit", "V1", "update", {"notes": "keep me"}, base=1)["conflict_ids"]
    resolve(store, registry, nurse("n1"), cid, "took_client")
    record = store.get_record("visit", "V1")
    assert not record.deleted and record.version == 3
    assert record.data == {"patient_id": "P1", "notes": "keep me", "a": 1, "b": 1}
    # the restored record reaches a device that had dropped it
    device = Device(store, registry, nurse("n3"))
    device.sync()
    assert device.records[("visit", "V1")]["version"] == 3


@pytest.mark.parametrize(
    ("value", "deleted", "notes"),
    [(None, True, "base"), ({"notes": "custom"}, False, "custom")],
)
def test_custom_record_resolution(env: Any, value: Any, deleted: bool, notes: str) -> None:
    store, registry, a, b = env
    b.edit("visit", "V1", "delete", base=1)
    [cid] = a.edit("visit", "V1", "update", {"notes": "x"}, base=1)["conflict_ids"]
    resolve(store, registry, coordinator("c1"), cid, "custom", value)
    record = store.get_record("visit", "V1")
    assert record.deleted is deleted and record.data["notes"] == notes
