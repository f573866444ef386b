"""Bulk Data export jobs (FHIR Bulk Data Access pattern): kick-off, run, status, cancel.

Where the work runs: in a background thread of the web process that accepted the
kick-off (``start``), so ``make run`` and the tests need nothing else running. The job
row is the lock (storage/fhir_exports.py): a thread runs a job only after it claimed it
(``claim``: queued, or running with a heartbeat older than the lease), so with several
web processes a job still runs once. If a process dies mid-export its heartbeat goes
stale, and the next status poll, in whichever process answers it, starts it again.

Only coordinators export, and only their own teams (admins see no clinical records,
SPEC §1). A job is visible to the user who asked for it, with any of their tokens.
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from server import database
from server.clock import iso, utcnow
from server.fhir.export import ExportCancelled, ExportPlan, snapshot_time, write_export
from server.services import accounts, audit
from storage import Storage, UnitOfWork
from storage.fhir_exports import FhirExport, NewExport
from sync.registry import Actor

log = logging.getLogger("doorstep.fhir.bulk")
WORKERS = "doorstep.fhir_export_threads"


def export_folder(instance: str, job_id: str) -> Path:
    return Path(instance) / "fhir-exports" / job_id


def kick_off(uow: UnitOfWork, actor: Actor, *, team_id: str | None,
             types: Iterable[str], since: str | None, request_url: str, base_url: str,
             canonical_base: str) -> str:
    """Queue an export in the caller's unit of work; audited as requested."""
    job_id = str(uuid.uuid4())
    uow.fhir_exports.create_export(NewExport(
        id=job_id, user_id=actor.user_id, client_id=actor.client_id, team_id=team_id,
        types=list(types), since=since, request_url=request_url, base_url=base_url,
        canonical_base=canonical_base, created_at=iso(utcnow())))
    audit.record(uow, actor, "fhir_export_requested",
                 detail={"export": job_id, "team": team_id, "types": list(types),
                         "since": since})
    return job_id


def active_job_of(uow: UnitOfWork, user_id: str) -> str | None:
    return uow.fhir_exports.active_export_of(user_id)


def job(uow: UnitOfWork, job_id: str, user_id: str) -> FhirExport | None:
    """The caller's own export (cancelled and expired ones are gone: None)."""
    return uow.fhir_exports.export_of(job_id, user_id)


def outputs(uow: UnitOfWork, job_id: str) -> dict[str, int]:
    return uow.fhir_exports.outputs(job_id)


def manifest(row: FhirExport, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "transactionTime": row.transaction_time,
        "request": row.request_url,
        "requiresAccessToken": True,
        "output": [{"type": t, "url": f"{row.base_url}/bulk-files/{row.id}/{t}.ndjson",
                    "count": n} for t, n in counts.items()],
        "error": [],
    }


def claim(storage: Storage, job_id: str, worker: str, lease: timedelta) -> bool:
    """Take the job if it is queued or its worker's heartbeat is stale; True if taken
    (a unit of work of its own: the claim is visible to other processes at once)."""
    now = utcnow()
    with storage.write() as uow:
        return uow.fhir_exports.claim(job_id, worker, iso(now), iso(now - lease))


def heartbeat(storage: Storage, job_id: str, worker: str, progress: str) -> None:
    """Record progress; raises ExportCancelled if the job is no longer this worker's."""
    with storage.write() as uow:
        mine = uow.fhir_exports.heartbeat(job_id, worker, progress, iso(utcnow()))
    if not mine:
        raise ExportCancelled(job_id)


def cancel(uow: UnitOfWork, actor: Actor, job_id: str, instance: str) -> bool:
    """DELETE on the status URL: stop the job (its files go after commit); audited."""
    if not uow.fhir_exports.cancel(job_id, actor.user_id, iso(utcnow())):
        return False
    audit.record(uow, actor, "fhir_export_cancelled", detail={"export": job_id})
    uow.on_commit(lambda: shutil.rmtree(export_folder(instance, job_id), ignore_errors=True))
    return True


def expire_old(uow: UnitOfWork, instance: str, retention: timedelta) -> None:
    """Expire exports finished longer ago than the retention time; their files go after
    commit."""
    ids = uow.fhir_exports.expire_finished_before(iso(utcnow() - retention))

    def remove_files() -> None:
        for job_id in ids:
            shutil.rmtree(export_folder(instance, job_id), ignore_errors=True)

    uow.on_commit(remove_files)


def start(app: Flask, job_id: str) -> None:
    """Run the job in a background thread of this process (it claims the job first)."""
    thread = threading.Thread(target=run, args=(app, job_id), name=f"fhir-export-{job_id}",
                              daemon=True)
    app.extensions.setdefault(WORKERS, []).append(thread)
    thread.start()


def join_workers(app: Flask, timeout: float = 30.0) -> None:
    """Wait for this process's export threads (orderly shutdown, tests)."""
    for thread in list(app.extensions.get(WORKERS, [])):
        thread.join(timeout)


def run(app: Flask, job_id: str) -> None:
    worker = f"{threading.get_native_id()}:{uuid.uuid4().hex[:8]}"
    with app.app_context():
        config = app.config
        storage = database.storage(app)
        lease = timedelta(minutes=config["FHIR_EXPORT_LEASE_MINUTES"])
        if claim(storage, job_id, worker, lease):
            _run_claimed(storage, job_id, worker, config)


def _run_claimed(storage: Storage, job_id: str, worker: str, config: Any) -> None:
    folder = export_folder(config["INSTANCE"], job_id)
    try:
        with storage.read() as uow:
            row = uow.fhir_exports.export_by_id(job_id)
            assert row is not None
            actor = requester(uow, row)
        transaction_time = snapshot_time(storage, lambda: iso(utcnow()))
        plan = ExportPlan(actor, row.types, row.since, row.canonical_base,
                          config["FHIR_NHS_NUMBER_VERIFICATION"], folder)
        counts, patients = write_export(
            storage, plan, lambda progress: heartbeat(storage, job_id, worker, progress))
        with storage.write() as uow:
            if not uow.fhir_exports.finish(job_id, worker, transaction_time, iso(utcnow()),
                                           counts):
                raise ExportCancelled(job_id)
            audit.record_patient_reads(uow, actor, patients, via="fhir:export",
                                       detail={"export": job_id})
    except ExportCancelled:
        shutil.rmtree(folder, ignore_errors=True)
    except Exception as exc:
        # Type only: an exception's text can quote record values.
        log.error("FHIR export failed: %s", type(exc).__name__)
        shutil.rmtree(folder, ignore_errors=True)
        with storage.write() as uow:
            uow.fhir_exports.fail(job_id, worker, iso(utcnow()))


class RequesterGone(Exception):
    """The user who asked for the export is no longer an active coordinator."""


def requester(uow: UnitOfWork, row: FhirExport) -> Actor:
    """The requester as they are now (current teams), narrowed to the Group's team."""
    user = accounts.user_by_id(uow, row.user_id)
    if user is None or not user.active or user.role != "coordinator":
        raise RequesterGone(row.user_id)
    teams = frozenset(user.team_ids)
    if row.team_id is not None:
        teams &= {row.team_id}
    return Actor(user.id, user.role, row.client_id, teams)
