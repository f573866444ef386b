"""Bulk export jobs: kick-off, one active job per user, claims and takeovers, progress,
finishing with outputs, failing, cancelling and expiry."""

from __future__ import annotations

import threading
import time

from storage import Storage
from storage.fhir_exports import NewExport

T0, T1, T2, T3 = (f"2026-11-24T09:{m:02d}:00.000000+00:00" for m in (0, 1, 2, 3))


def _new(export_id: str = "job", user_id: str = "u1", **overrides: object) -> NewExport:
    fields: dict[str, object] = {
        "id": export_id, "user_id": user_id, "client_id": "c1", "team_id": None,
        "types": ["Patient", "Encounter"], "since": None, "request_url": "https://x/$export",
        "base_url": "https://x/fhir", "canonical_base": "https://x", "created_at": T0}
    fields.update(overrides)
    return NewExport(**fields)  # type: ignore[arg-type]


def test_a_new_export_is_queued_and_the_users_active_one(storage: Storage) -> None:
    with storage.write() as uow:
        uow.fhir_exports.create_export(_new(team_id="team-a", since=T0))
    with storage.read() as uow:
        job = uow.fhir_exports.export_of("job", "u1")
        assert uow.fhir_exports.active_export_of("u1") == "job"
        assert uow.fhir_exports.active_export_of("u2") is None
        assert uow.fhir_exports.export_of("job", "u2") is None  # another user's
        assert uow.fhir_exports.export_by_id("job") == job
    assert job is not None
    assert (job.status, job.types, job.team_id, job.since) == (
        "queued", ("Patient", "Encounter"), "team-a", T0)
    assert job.claimed_by is None and job.transaction_time is None


def test_one_worker_claims_a_job_until_its_heartbeat_goes_stale(storage: Storage) -> None:
    with storage.write() as uow:
        uow.fhir_exports.create_export(_new())
    with storage.write() as uow:
        exports = uow.fhir_exports
        assert exports.claim("job", "a", now=T1, stale_before=T0)
        assert not exports.claim("job", "b", now=T1, stale_before=T0)
        assert exports.heartbeat("job", "a", "Patient (1 of 2 types)", now=T2)
        assert not exports.heartbeat("job", "b", "late", now=T2)
        # a's heartbeat (T2) is older than the lease allows: b takes over.
        assert exports.claim("job", "b", now=T3, stale_before=T3)
        assert not exports.heartbeat("job", "a", "late", now=T3)
        job = exports.export_by_id("job")
    assert job is not None and job.claimed_by == "b" and job.status == "running"


def test_finishing_records_outputs_only_for_the_owner(storage: Storage) -> None:
    with storage.write() as uow:
        uow.fhir_exports.create_export(_new())
        assert uow.fhir_exports.claim("job", "a", now=T1, stale_before=T0)
    with storage.write() as uow:
        assert not uow.fhir_exports.finish("job", "b", T1, T2, {"Patient": 3})
        assert uow.fhir_exports.finish("job", "a", T1, T2,
                                       {"Patient": 3, "Encounter": 0, "Goal": 2})
    with storage.read() as uow:
        job = uow.fhir_exports.export_of("job", "u1")
        assert uow.fhir_exports.outputs("job") == {"Patient": 3, "Goal": 2}
        assert uow.fhir_exports.active_export_of("u1") is None
    assert job is not None
    assert (job.status, job.transaction_time, job.finished_at, job.progress) == (
        "done", T1, T2, None)


def test_failing_cancelling_and_expiring(storage: Storage) -> None:
    with storage.write() as uow:
        for export_id in ("failed", "done", "cancelled", "fresh"):
            uow.fhir_exports.create_export(_new(export_id, user_id=f"u-{export_id}"))
            uow.fhir_exports.claim(export_id, "w", now=T0, stale_before=T0)
        uow.fhir_exports.fail("failed", "w", now=T1)
        uow.fhir_exports.finish("done", "w", T0, T1, {"Patient": 1})
        uow.fhir_exports.finish("fresh", "w", T0, T3, {"Patient": 1})
        assert uow.fhir_exports.cancel("cancelled", "u-cancelled", now=T1)
        assert not uow.fhir_exports.cancel("cancelled", "u-cancelled", now=T1)
        assert not uow.fhir_exports.cancel("done", "someone-else", now=T1)
    with storage.write() as uow:
        assert sorted(uow.fhir_exports.expire_finished_before(T2)) == ["done", "failed"]
        assert uow.fhir_exports.expire_finished_before(T2) == []
    with storage.read() as uow:
        exports = uow.fhir_exports
        assert exports.export_of("cancelled", "u-cancelled") is None
        assert exports.export_of("done", "u-done") is None  # expired
        fresh = exports.export_of("fresh", "u-fresh")
        failed = exports.export_by_id("failed")
    assert fresh is not None and fresh.status == "done"
    assert failed is not None and failed.status == "expired"


def test_two_workers_claiming_at_once_get_the_job_once(storage: Storage) -> None:
    """Worker b claims while a's claim is still uncommitted: b waits for a's transaction
    (SQLite's writer lock, PostgreSQL's row lock), then finds the job taken."""
    with storage.write() as uow:
        uow.fhir_exports.create_export(_new())
    a_claimed, b_started = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def worker_b() -> None:
        a_claimed.wait(10)
        b_started.set()
        with storage.write() as uow:
            results["b"] = uow.fhir_exports.claim("job", "b", now=T1, stale_before=T0)

    thread = threading.Thread(target=worker_b)
    thread.start()
    with storage.write() as uow:
        results["a"] = uow.fhir_exports.claim("job", "a", now=T1, stale_before=T0)
        a_claimed.set()
        b_started.wait(10)
        time.sleep(0.2)  # b is now waiting on a's uncommitted claim
    thread.join(10)
    assert results == {"a": True, "b": False}
    with storage.read() as uow:
        job = uow.fhir_exports.export_by_id("job")
    assert job is not None and job.claimed_by == "a"
