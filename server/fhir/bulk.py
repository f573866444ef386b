"""Bulk Data export jobs (FHIR Bulk Data Access pattern): kick-off, run, status, cancel.

Where the work runs: in a background thread of the web process that accepted the
kick-off (``start``), so ``make run`` and the tests need nothing else running. The job
row (migration 0008) is the lock: a thread runs a job only after its UPDATE claimed it
(``claim``: queued, or running with a heartbeat older than the lease), so with several
web processes a job still runs once. If a process dies mid-export its heartbeat goes
stale, and the next status poll, in whichever process answers it, starts it again.

Only coordinators export, and only their own teams (admins see no clinical records,
SPEC §1). A job is visible to the user who asked for it, with any of their tokens.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from server import accounts, audit, db
from server.clock import iso, utcnow
from server.fhir.export import ExportCancelled, ExportPlan, snapshot_time, write_export
from sync.registry import Actor

log = logging.getLogger("doorstep.fhir.bulk")
ACTIVE = ("queued", "running")
WORKERS = "doorstep.fhir_export_threads"


def export_folder(instance: str, job_id: str) -> Path:
    return Path(instance) / "fhir-exports" / job_id


def kick_off(conn: sqlite3.Connection, actor: Actor, *, team_id: str | None,
             types: Iterable[str], since: str | None, request_url: str, base_url: str,
             canonical_base: str) -> str:
    """Queue an export (caller holds a write transaction); audited as requested."""
    job_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO fhir_exports (id, user_id, client_id, team_id, types, since,"
        " request_url, base_url, canonical_base, status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
        (job_id, actor.user_id, actor.client_id, team_id, json.dumps(list(types)), since,
         request_url, base_url, canonical_base, iso(utcnow())),
    )
    audit.record(conn, actor, "fhir_export_requested",
                 detail={"export": job_id, "team": team_id, "types": list(types),
                         "since": since})
    return job_id


def active_job_of(conn: sqlite3.Connection, user_id: str) -> str | None:
    row = conn.execute(
        "SELECT id FROM fhir_exports WHERE user_id = ? AND status IN ('queued','running')",
        (user_id,),
    ).fetchone()
    return row[0] if row else None


def job(conn: sqlite3.Connection, job_id: str, user_id: str) -> dict[str, Any] | None:
    """The caller's own export (cancelled and expired ones are gone: None)."""
    row = conn.execute(
        "SELECT * FROM fhir_exports WHERE id = ? AND user_id = ?"
        " AND status NOT IN ('cancelled','expired')",
        (job_id, user_id),
    ).fetchone()
    return dict(row) if row else None


def outputs(conn: sqlite3.Connection, job_id: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT resource_type, count FROM fhir_export_outputs WHERE export_id = ?"
        " ORDER BY rowid", (job_id,))
    return {row[0]: row[1] for row in rows}


def manifest(row: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    return {
        "transactionTime": row["transaction_time"],
        "request": row["request_url"],
        "requiresAccessToken": True,
        "output": [{"type": t, "url": f"{row['base_url']}/bulk-files/{row['id']}/{t}.ndjson",
                    "count": n} for t, n in counts.items()],
        "error": [],
    }


def claim(conn: sqlite3.Connection, job_id: str, worker: str, lease: timedelta) -> bool:
    """Take the job if it is queued or its worker's heartbeat is stale; True if taken."""
    now = utcnow()
    with db.write_transaction(conn):
        cursor = conn.execute(
            "UPDATE fhir_exports SET status = 'running', claimed_by = ?, heartbeat_at = ?"
            " WHERE id = ? AND (status = 'queued' OR (status = 'running' AND heartbeat_at < ?))",
            (worker, iso(now), job_id, iso(now - lease)),
        )
    return cursor.rowcount == 1


def heartbeat(conn: sqlite3.Connection, job_id: str, worker: str, progress: str) -> None:
    """Record progress; raises ExportCancelled if the job is no longer this worker's."""
    with db.write_transaction(conn):
        cursor = conn.execute(
            "UPDATE fhir_exports SET heartbeat_at = ?, progress = ?"
            " WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (iso(utcnow()), progress, job_id, worker),
        )
    if cursor.rowcount != 1:
        raise ExportCancelled(job_id)


def cancel(conn: sqlite3.Connection, actor: Actor, job_id: str, instance: str) -> bool:
    """DELETE on the status URL: stop the job (or drop its files); audited."""
    with db.write_transaction(conn):
        cursor = conn.execute(
            "UPDATE fhir_exports SET status = 'cancelled', finished_at = ?"
            " WHERE id = ? AND user_id = ? AND status NOT IN ('cancelled','expired')",
            (iso(utcnow()), job_id, actor.user_id),
        )
        if cursor.rowcount:
            audit.record(conn, actor, "fhir_export_cancelled", detail={"export": job_id})
    if cursor.rowcount:
        shutil.rmtree(export_folder(instance, job_id), ignore_errors=True)
    return cursor.rowcount == 1


def expire_old(conn: sqlite3.Connection, instance: str, retention: timedelta) -> None:
    """Delete the files of exports finished longer ago than the retention time."""
    cutoff = iso(utcnow() - retention)
    with db.write_transaction(conn):
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM fhir_exports WHERE status IN ('done','failed')"
            " AND finished_at < ?", (cutoff,))]
        conn.executemany("UPDATE fhir_exports SET status = 'expired' WHERE id = ?",
                         [(i,) for i in ids])
    for job_id in ids:
        shutil.rmtree(export_folder(instance, job_id), ignore_errors=True)


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
        conn = db.connect(config["DATABASE"])
        try:
            lease = timedelta(minutes=config["FHIR_EXPORT_LEASE_MINUTES"])
            if claim(conn, job_id, worker, lease):
                _run_claimed(conn, job_id, worker, config)
        finally:
            conn.close()


def _run_claimed(conn: sqlite3.Connection, job_id: str, worker: str,
                 config: Any) -> None:
    row = dict(conn.execute("SELECT * FROM fhir_exports WHERE id = ?", (job_id,)).fetchone())
    folder = export_folder(config["INSTANCE"], job_id)
    data_conn = db.connect(config["DATABASE"])
    try:
        actor = requester(conn, row)
        transaction_time = snapshot_time(data_conn, lambda: iso(utcnow()))
        plan = ExportPlan(actor, tuple(json.loads(row["types"])), row["since"],
                          row["canonical_base"], config["FHIR_NHS_NUMBER_VERIFICATION"], folder)
        counts, patients = write_export(
            data_conn, plan, lambda progress: heartbeat(conn, job_id, worker, progress))
        with db.write_transaction(conn):
            mine = conn.execute(
                "UPDATE fhir_exports SET status = 'done', transaction_time = ?, progress = NULL,"
                " finished_at = ? WHERE id = ? AND status = 'running' AND claimed_by = ?",
                (transaction_time, iso(utcnow()), job_id, worker)).rowcount
            if not mine:
                raise ExportCancelled(job_id)
            conn.executemany(
                "INSERT INTO fhir_export_outputs (export_id, resource_type, count)"
                " VALUES (?, ?, ?)", [(job_id, t, n) for t, n in counts.items() if n])
            audit.record_patient_reads(conn, actor, patients, via="fhir:export",
                                       detail={"export": job_id})
    except ExportCancelled:
        shutil.rmtree(folder, ignore_errors=True)
    except Exception as exc:
        # Type only: an exception's text can quote record values.
        log.error("FHIR export failed: %s", type(exc).__name__)
        shutil.rmtree(folder, ignore_errors=True)
        with db.write_transaction(conn):
            conn.execute(
                "UPDATE fhir_exports SET status = 'failed', finished_at = ?"
                " WHERE id = ? AND claimed_by = ?", (iso(utcnow()), job_id, worker))
    finally:
        data_conn.close()


class RequesterGone(Exception):
    """The user who asked for the export is no longer an active coordinator."""


def requester(conn: sqlite3.Connection, row: dict[str, Any]) -> Actor:
    """The requester as they are now (current teams), narrowed to the Group's team."""
    user = accounts.user_by_id(conn, row["user_id"])
    if user is None or not user.active or user.role != "coordinator":
        raise RequesterGone(row["user_id"])
    teams = frozenset(user.team_ids)
    if row["team_id"] is not None:
        teams &= {row["team_id"]}
    return Actor(user.id, user.role, row["client_id"], teams)
