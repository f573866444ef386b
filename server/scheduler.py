"""Timed work in its own process (``doorstep scheduler``); web workers never start it.

One APScheduler interval job, the *tick*, runs every SCHEDULER_INTERVAL_SECONDS and calls
each function in ``TICK_JOBS`` with ``(app, now)``. Job functions are module-level and
idempotent: they find due work in the database and claim it atomically, so a second
scheduler process (or a tick that overlaps a slow one) is harmless.

- ``max_instances=1``: a slow tick is never run twice at once in one process;
- ``coalesce=True``: ticks missed while one was slow collapse into one;
- ``misfire_grace_time`` = one interval: a late tick still runs (APScheduler's default
  of 1 s would silently drop it), a tick later than that is dropped because the next
  one is about to run anyway. Due work is read from the database, not from the trigger
  time, so a dropped tick loses nothing.

Other engines add their due-work function with ``register_tick_job`` (escalation
re-notification does), and they share the tick, the clock and the Pusher.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from server import db, escalation_jobs, notify, reminders, vapid
from server.clock import iso, utcnow

log = logging.getLogger("doorstep.scheduler")

TickJob = Callable[[Flask, datetime], Any]
TICK_JOBS: list[TickJob] = []


def register_tick_job(job: TickJob) -> TickJob:
    """Run ``job(app, now)`` on every tick (usable as a decorator; idempotent)."""
    if job not in TICK_JOBS:
        TICK_JOBS.append(job)
    return job


def run_due_reminders(
    app_or_conn: Flask | sqlite3.Connection,
    now: datetime,
    *,
    pusher: notify.Pusher | None = None,
    settings: reminders.ReminderSettings | None = None,
    instance: str | None = None,
) -> reminders.TickReport:
    """Send the reminders due at ``now`` (with an app, its config and Pusher are used)."""
    if isinstance(app_or_conn, Flask):
        app = app_or_conn
        conn = db.connect(app.config["DATABASE"])
        try:
            return reminders.run_due(
                conn,
                pusher or notify.pusher_for_app(app),
                now,
                settings or reminders.ReminderSettings.from_config(app.config),
                instance,
            )
        finally:
            conn.close()
    if pusher is None:
        raise TypeError("run_due_reminders(conn, …) needs pusher=")
    return reminders.run_due(app_or_conn, pusher, now, settings, instance)


_last_prune: dict[str, datetime] = {}


def prune_push_log(app: Flask, now: datetime) -> int:
    """Drop delivery-log rows and finished occurrences past retention (at most hourly)."""
    key = app.config["DATABASE"]
    last = _last_prune.get(key)
    if last is not None and now - last < timedelta(hours=1):
        return 0
    _last_prune[key] = now
    cutoff = now - timedelta(days=app.config["PUSH_LOG_RETENTION_DAYS"])
    conn = db.connect(app.config["DATABASE"])
    try:
        with db.write_transaction(conn):
            gone = conn.execute("DELETE FROM push_deliveries WHERE finished_at < ?",
                                (iso(cutoff),)).rowcount
            # Occurrences are the send-once claims; keep them well past the lookback.
            gone += conn.execute(
                "DELETE FROM reminder_occurrences WHERE status != 'claimed' AND due_at < ?",
                (iso(cutoff),),
            ).rowcount
    finally:
        conn.close()
    return gone


register_tick_job(run_due_reminders)
register_tick_job(prune_push_log)
# Scheduler-found escalations first, so a missed visit is notified in the same tick.
register_tick_job(escalation_jobs.run_escalation_rules)
register_tick_job(escalation_jobs.send_escalation_notices)


def tick(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    """Run every registered job once; one failing job does not stop the others."""
    if now is None:
        with app.app_context():
            now = utcnow()  # honours app.config["CLOCK"] in tests
    results: dict[str, Any] = {}
    for job in list(TICK_JOBS):
        name = getattr(job, "__name__", repr(job))
        try:
            with app.app_context():
                results[name] = job(app, now)
        except Exception:
            log.exception("scheduler job %s failed", name)
            results[name] = None
    return results


def build_scheduler(app: Flask) -> BlockingScheduler:
    """A BlockingScheduler with the tick job, first run at once."""
    interval = app.config["SCHEDULER_INTERVAL_SECONDS"]
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "interval",
        seconds=interval,
        args=[app],
        id="doorstep-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=interval,
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_scheduler(app: Flask, *, scheduler: BlockingScheduler | None = None) -> None:
    """Block running the tick until SIGTERM/SIGINT (``doorstep scheduler``)."""
    vapid.load_vapid(app.config["INSTANCE"])  # fail at start, not at the first reminder
    scheduler = scheduler or build_scheduler(app)
    if threading.current_thread() is threading.main_thread():
        def stop(signum: int, _frame: Any) -> None:
            log.info("scheduler stopping (signal %d)", signum)
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: every %ss", app.config["SCHEDULER_INTERVAL_SECONDS"])
    try:
        scheduler.start()
    finally:
        pusher = app.extensions.pop("doorstep_pusher", None)
        if pusher is not None:
            pusher.close()
