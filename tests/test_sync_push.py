"""Push rules (SPEC §3.2) at engine level: ordering, replay, rejection, quarantine, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sync_helpers import (
    Device,
    count_rows,
    make_registry,
    make_store,
    nurse,
    seed_patient,
    server_write,
)

from sync import (
    BatchTooLarge,
    MalformedRequest,
    Mutation,
    UnsupportedSchemaVersion,
    apply_mutation,
    apply_push,
)
from sync.protocol import MAX_MUTATIONS
from sync.registry import EntityType, ValidationFailed


@pytest.fixture
def env(sync_db: Any) -> Any:
    store = make_store(sync_db)
    registry = make_registry()
    seed_patient(store, registry, "P1", "A")
    seed_patient(store, registry, "P9", "B")
    return store, registry


def visit(device: Device, record_id: str = "V1", **fields: Any) -> dict[str, Any]:
    return device.mutation("visit", record_id, "create", {"patient_id": "P1", **fields})


def test_applied_create_returns_version_and_advances_last_mutation_id(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    response = device.push(visit(device, notes="first"))
    assert response.to_wire() == {
        "last_mutation_id": 1,
        "results": [{"mutation_id": 1, "status": "applied", "version": 1}],
    }
    record = store.get_record("visit", "V1")
    assert record is not None and record.data == {"patient_id": "P1", "notes": "first"}
    assert record.meta == {"patient_id": (1, "n1-dev"), "notes": (1, "n1-dev")}


def test_replay_returns_stored_results_and_writes_nothing(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    batch = [visit(device), device.mutation("visit", "NOPE", "update", {"notes": "x"})]
    first = device.push(*batch).to_wire()
    changes = count_rows(store, "changelog")
    quarantined = count_rows(store, "sync_quarantine")
    again = device.push(*batch).to_wire()
    assert again == first
    assert [r["status"] for r in first["results"]] == ["applied", "rejected"]
    assert count_rows(store, "changelog") == changes
    assert count_rows(store, "sync_quarantine") == quarantined


def test_replayed_conflict_result_is_the_original(env: Any) -> None:
    store, registry = env
    a, b = Device(store, registry, nurse("n1")), Device(store, registry, nurse("n2"))
    a.push(visit(a, notes="base"))
    b.edit("visit", "V1", "update", {"notes": "b"}, base=1)
    mutation = a.mutation("visit", "V1", "update", {"notes": "a"}, base=1)
    first = a.push(mutation).to_wire()
    assert first["results"][0]["status"] == "conflict"
    assert a.push(mutation).to_wire() == first
    assert count_rows(store, "records WHERE entity = 'conflict'") == 1


@pytest.mark.parametrize(
    ("ids", "statuses", "last"),
    [
        ([1, 2, 3], ["applied", "applied", "applied"], 3),
        ([2], ["out_of_order"], 0),
        ([1, 3, 2], ["applied", "out_of_order", "out_of_order"], 1),
        ([1, 1], ["applied", "applied"], 1),
        ([1, 2, 5, 3], ["applied", "applied", "out_of_order", "out_of_order"], 2),
    ],
)
def test_mutations_are_processed_in_order(
    env: Any, ids: list[int], statuses: list[str], last: int
) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    batch = []
    for n in ids:
        raw = visit(device, f"V{n}")
        raw["mutation_id"] = n
        batch.append(raw)
    response = device.push(*batch)
    assert [r.status for r in response.results] == statuses
    assert response.last_mutation_id == last
    assert store.last_mutation_id("n1-dev") == last
    out_of_order = [r for r in response.results if r.status == "out_of_order"]
    assert all(r.version is None for r in out_of_order)
    # Nothing was stored for out-of-order mutations: re-sent in order, they apply.
    if out_of_order:
        retry = []
        for n in range(last + 1, max(ids) + 1):
            raw = visit(device, f"V{n}")
            raw["mutation_id"] = n
            retry.append(raw)
        assert {r.status for r in device.push(*retry).results} == {"applied"}


REJECTIONS = [
    (
        "unknown entity",
        {"entity": "spaceship", "id": "X", "op": "create", "fields": {"patient_id": "P1"}},
        "invalid",
        {"entity": ["Unknown entity."]},
    ),
    (
        "unknown record",
        {
            "entity": "visit",
            "id": "NOPE",
            "op": "update",
            "base_version": 1,
            "fields": {"notes": "x"},
        },
        "not_found",
        {"id": ["Not found."]},
    ),
    (
        "other team's record",
        {
            "entity": "patient",
            "id": "P9",
            "op": "update",
            "base_version": 1,
            "fields": {"name": "x"},
        },
        "not_found",
        {"id": ["Not found."]},
    ),
    (
        "delete out of scope",
        {"entity": "patient", "id": "P9", "op": "delete", "base_version": 1},
        "not_found",
        {"id": ["Not found."]},
    ),
    (
        "create for other team's patient",
        {"entity": "visit", "id": "V9", "op": "create", "fields": {"patient_id": "P9"}},
        "not_found",
        {"patient_id": ["Not found."]},
    ),
    (
        "create for unknown patient",
        {"entity": "visit", "id": "V9", "op": "create", "fields": {"patient_id": "P404"}},
        "not_found",
        {"patient_id": ["Not found."]},
    ),
    (
        "unknown field",
        {
            "entity": "visit",
            "id": "V9",
            "op": "create",
            "fields": {"patient_id": "P1", "colour": "red"},
        },
        "invalid",
        {"colour": ["Unknown field."]},
    ),
    (
        "bad op",
        {"entity": "visit", "id": "V9", "op": "upsert", "fields": {"notes": "x"}},
        "malformed",
        {"op": ["Must be one of: create, update, delete."]},
    ),
    (
        "update without base",
        {"entity": "visit", "id": "V9", "op": "update", "fields": {"notes": "x"}},
        "malformed",
        {"base_version": ["Required: the record version the edit was made on."]},
    ),
    (
        "unknown mutation key",
        {"entity": "visit", "id": "V9", "op": "create", "when": 1, "fields": {"patient_id": "P1"}},
        "malformed",
        {"when": ["Unknown field."]},
    ),
    (
        "patient cannot be created in another team",
        {"entity": "patient", "id": "P5", "op": "create", "fields": {"team_id": "B"}},
        "not_found",
        {"team_id": ["Not one of your teams."]},
    ),
]


@pytest.mark.parametrize(
    ("name", "raw", "reason", "errors"), REJECTIONS, ids=[r[0] for r in REJECTIONS]
)
def test_rejected_mutations_are_quarantined_and_count_as_processed(
    env: Any, name: str, raw: dict[str, Any], reason: str, errors: dict[str, Any]
) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    changes = count_rows(store, "changelog")
    raw = {"mutation_id": 1, **raw}
    response = device.push(raw, {**visit(device, "OK"), "mutation_id": 2})
    assert [r.to_wire() for r in response.results] == [
        {"mutation_id": 1, "status": "rejected", "errors": errors},
        {"mutation_id": 2, "status": "applied", "version": 1},
    ]
    assert response.last_mutation_id == 2
    assert count_rows(store, "changelog") == changes + 1  # only the good one
    [kept] = list(store.quarantined("n1-dev"))
    assert kept["reason"] == reason and kept["errors"] == errors
    assert json.loads(kept["raw"]) == raw
    assert kept["mutation_id"] == 1 and kept["user_id"] == "n1"


def test_batch_limits_raise_413_and_store_nothing(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    too_many = [visit(device, f"V{n}") for n in range(MAX_MUTATIONS + 1)]
    with pytest.raises(BatchTooLarge) as error:
        device.push(*too_many)
    assert error.value.http_status == 413
    big = {
        "client_id": "n1-dev",
        "schema_version": 1,
        "mutations": [{**visit(device), "fields": {"patient_id": "P1", "notes": "x" * (5 << 20)}}],
    }
    with pytest.raises(BatchTooLarge):
        apply_push(store, registry, device.actor, json.dumps(big).encode())
    with pytest.raises(BatchTooLarge):
        apply_push(store, registry, device.actor, big)
    assert store.last_mutation_id("n1-dev") == 0
    assert count_rows(store, "sync_quarantine") == 0
    # Exactly at the limit is fine.
    fresh = Device(store, registry, nurse("n2"))
    response = fresh.push(*[visit(fresh, f"W{n}") for n in range(MAX_MUTATIONS)])
    assert response.last_mutation_id == MAX_MUTATIONS


def test_unsupported_schema_version_is_426_and_quarantined(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    with pytest.raises(UnsupportedSchemaVersion) as error:
        device.push(visit(device), schema_version=2)
    assert error.value.http_status == 426
    [kept] = list(store.quarantined("n1-dev"))
    assert kept["reason"] == "unsupported_schema_version"
    assert json.loads(kept["raw"])["mutations"][0]["id"] == "V1"
    assert store.last_mutation_id("n1-dev") == 0
    assert store.get_record("visit", "V1") is None


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (b"{not json", {"body": ["Not valid JSON."]}),
        (b"[]", {"body": ["Must be a JSON object."]}),
        (
            json.dumps({"client_id": "n1-dev", "schema_version": 1}).encode(),
            {"mutations": ["Required: a list."]},
        ),
        (
            json.dumps({"client_id": "other-dev", "schema_version": 1, "mutations": []}).encode(),
            {"client_id": ["Does not match the signed-in device."]},
        ),
        (
            json.dumps(
                {"client_id": "n1-dev", "schema_version": 1, "mutations": [{"entity": "visit"}]}
            ).encode(),
            {"mutations": {"0": {"mutation_id": ["Required: an integer counting up from 1."]}}},
        ),
    ],
)
def test_malformed_batches_are_422_and_quarantined_raw(
    env: Any, body: bytes, errors: dict[str, Any]
) -> None:
    store, registry = env
    with pytest.raises(MalformedRequest) as error:
        apply_push(store, registry, nurse(), body)
    assert error.value.http_status == 422 and error.value.errors == errors
    [kept] = list(store.quarantined("n1-dev"))
    assert kept["raw"] == body.decode() and kept["reason"] == "malformed_batch"


def test_append_only_records_are_created_once_and_voided_once(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    create = device.mutation("obs", "O1", "create", {"patient_id": "P1", "value": 12})
    assert device.push(create).results[0].version == 1
    assert store.get_record("obs", "O1").data["level"] == "high"  # type: ignore[union-attr]
    cases = [
        (
            "update",
            {"value": 3},
            "rejected",
            {"value": ["Append-only records are never edited; void them instead."]},
        ),
        ("delete", None, "rejected", {"op": ["Append-only records are never deleted; void them."]}),
        (
            "update",
            {"entered_in_error": True},
            "rejected",
            {"void_reason": ["Required when voiding."]},
        ),
        (
            "update",
            {"void_reason": "typo"},
            "rejected",
            {"entered_in_error": ["Must be true to void a record."]},
        ),
        ("update", {"entered_in_error": True, "void_reason": "wrong patient"}, "applied", None),
        (
            "update",
            {"entered_in_error": True, "void_reason": "again"},
            "rejected",
            {"entered_in_error": ["Already voided."]},
        ),
        # the same void re-sent by another path is a no-op, not an error
        ("update", {"entered_in_error": True, "void_reason": "wrong patient"}, "applied", None),
    ]
    for op, fields, status, errors in cases:
        result = device.edit("obs", "O1", op, fields)
        assert (result["status"], result.get("errors")) == (status, errors), (op, fields)
    record = store.get_record("obs", "O1")
    assert record is not None and record.version == 2 and not record.deleted
    # create of an existing append-only record with the same fields is idempotent
    again = Device(store, registry, nurse("n2"))
    result = again.edit("obs", "O1", "create", {"patient_id": "P1", "value": 12})
    assert result == {"mutation_id": 1, "status": "applied", "version": 2}


def test_server_only_records_accept_only_client_fields(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    created = device.edit("alert", "AL1", "create", {"patient_id": "P1", "reason": "x"})
    assert created["status"] == "rejected"
    server_write(
        store,
        registry,
        "alert",
        "AL1",
        "create",
        {"patient_id": "P1", "reason": "fall", "status": "open"},
    )
    assert device.edit("alert", "AL1", "update", {"status": "closed"})["status"] == "applied"
    assert device.edit("alert", "AL1", "update", {"reason": "other"})["errors"] == {
        "reason": ["Set by the server only."]
    }
    assert device.edit("alert", "AL1", "delete", base=2)["status"] == "rejected"
    assert store.get_record("alert", "AL1").data["status"] == "closed"  # type: ignore[union-attr]


def test_create_of_existing_id_is_an_update_from_version_zero(env: Any) -> None:
    store, registry = env
    a, b = Device(store, registry, nurse("n1")), Device(store, registry, nurse("n2"))
    a.push(visit(a, notes="a", status="scheduled"))
    # Same device re-creating: its own fields never conflict.
    assert (
        a.edit("visit", "V1", "create", {"patient_id": "P1", "notes": "a2"})["status"] == "applied"
    )
    # Another device creating the same id: equal values apply, differing ones conflict.
    result = b.edit(
        "visit", "V1", "create", {"patient_id": "P1", "status": "scheduled", "notes": "b"}
    )
    assert result["status"] == "conflict" and result["version"] == 2
    assert store.get_record("visit", "V1").data["notes"] == "a2"  # type: ignore[union-attr]


def test_patient_of_a_record_cannot_change(env: Any) -> None:
    store, registry = env
    seed_patient(store, registry, "P2", "A")
    device = Device(store, registry, nurse())
    device.push(visit(device))
    result = device.edit("visit", "V1", "update", {"patient_id": "P2"})
    assert result["errors"] == {"patient_id": ["Cannot be changed."]}


def test_an_edit_equal_to_the_stored_values_writes_nothing(env: Any) -> None:
    store, registry = env
    device = Device(store, registry, nurse())
    device.push(visit(device, notes="same"))
    before = count_rows(store, "changelog")
    assert device.edit("visit", "V1", "update", {"notes": "same"}) == {
        "mutation_id": 2,
        "status": "applied",
        "version": 1,
    }
    assert count_rows(store, "changelog") == before


def test_a_hook_failure_rolls_back_only_that_mutation(sync_db: Any) -> None:
    store, registry = make_store(sync_db), make_registry()
    seed_patient(store, registry, "P1", "A")

    def refuse_boom(ctx: Any, change: Any) -> None:
        if change.data.get("notes") == "boom":
            raise ValidationFailed({"notes": ["Boom refused."]})

    registry.on_change.append(refuse_boom)
    device = Device(store, registry, nurse())
    response = device.push(
        visit(device, "V1", notes="ok"),
        visit(device, "V2", notes="boom"),
        visit(device, "V3", notes="ok"),
    )
    assert [r.status for r in response.results] == ["applied", "rejected", "applied"]
    assert store.get_record("visit", "V2") is None
    assert count_rows(store, "changelog WHERE id = 'V2'") == 0


def test_a_crash_inside_one_mutation_rejects_only_that_mutation(sync_db: Any) -> None:
    # Issue 10 item 13: any exception inside one mutation is that mutation's rejected
    # result (its savepoint rolled back, its raw text quarantined), never a stuck outbox.
    store, registry = make_store(sync_db), make_registry()
    seed_patient(store, registry, "P1", "A")

    def crash(ctx: Any, change: Any) -> None:
        if change.data.get("notes") == "crash":
            raise RuntimeError("bug")

    registry.on_change.append(crash)
    device = Device(store, registry, nurse())
    response = device.push(visit(device, "V1"), visit(device, "V2", notes="crash"))
    assert [r.status for r in response.results] == ["applied", "rejected"]
    assert store.get_record("visit", "V1") is not None
    assert store.get_record("visit", "V2") is None
    assert store.last_mutation_id("n1-dev") == 2
    assert [q["mutation_id"] for q in store.quarantined("n1-dev")] == [2]


@pytest.mark.parametrize("scope_entities", [("patient",), None])
def test_scope_follows_changes_within_a_batch(sync_db: Any, scope_entities: Any) -> None:
    store = make_store(sync_db)
    registry = make_registry(scope_entities=scope_entities)
    device = Device(store, registry, nurse())
    response = device.push(
        device.mutation("patient", "PN", "create", {"team_id": "A"}),
        device.mutation("visit", "VN", "create", {"patient_id": "PN"}),
        device.mutation("patient", "PN", "update", {"team_id": "B"}, base=1),
        device.mutation("visit", "VN", "update", {"notes": "after move"}, base=1),
    )
    assert [r.status for r in response.results] == ["applied", "applied", "applied", "rejected"]
    assert response.results[3].errors == {"id": ["Not found."]}


def test_hooks_see_every_change_and_can_write_server_records(sync_db: Any) -> None:
    store = make_store(sync_db)
    seen: list[tuple[str, str, str, str]] = []

    def raise_alert(ctx: Any, change: Any) -> None:
        if change.data.get("status") == "cancelled":
            ctx.apply(
                Mutation(
                    "alert",
                    f"AL-{change.id}",
                    "create",
                    {"patient_id": change.patient_id, "reason": "cancelled"},
                )
            )

    registry = make_registry()
    registry.entities["visit"] = EntityType(
        "visit",
        registry.entities["visit"].validate,
        registry.entities["visit"].authorize,
        after_apply=(raise_alert,),
    )
    registry.on_change.append(
        lambda ctx, change: seen.append(
            (change.entity, change.op, change.actor.user_id, change.origin.user_id)
        )
    )
    seed_patient(store, registry, "P1", "A")
    device = Device(store, registry, nurse())
    device.push(visit(device), device.mutation("visit", "V1", "update", {"status": "cancelled"}))
    assert seen == [
        ("patient", "create", "system", "system"),
        ("visit", "create", "n1", "n1"),
        ("visit", "update", "n1", "n1"),
        ("alert", "create", "system", "n1"),
    ]
    alert = store.get_record("alert", "AL-V1")
    assert alert is not None and alert.patient_id == "P1"
    history = store.history_entry("alert", "AL-V1", 1)
    assert history is not None and history.author_id == "system" and history.client_id == "server"


def test_rest_writes_raise_instead_of_returning_rejected(env: Any) -> None:
    store, registry = env
    actor = nurse()
    with store.write_transaction():
        result = apply_mutation(
            store, registry, actor, Mutation("visit", "V1", "create", {"patient_id": "P1"})
        )
    assert result.status == "applied" and result.mutation_id is None
    with pytest.raises(ValidationFailed):
        with store.write_transaction():
            apply_mutation(
                store, registry, actor, Mutation("visit", "V1", "update", {"colour": 1}, None)
            )
    from sync import NotPermitted

    with pytest.raises(NotPermitted):
        with store.write_transaction():
            apply_mutation(
                store, registry, actor, Mutation("patient", "P9", "update", {"name": "x"}, None)
            )
