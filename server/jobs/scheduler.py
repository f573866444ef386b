"""Timed work in its own process (``doorstep scheduler``); web workers never start it.

One APScheduler interval job, the *tick*, runs every SCHEDULER_INTERVAL_SECONDS and calls
each function of the explicit list ``server.jobs.TICK_JOBS`` with ``(app, now)``. Job
functions are module-level and idempotent: they find due work in the database and claim
it atomically, so a second scheduler process (or a tick that overlaps a slow one) is
harmless.

- ``max_instances=1``: a slow tick is never run twice at once in one process;
- ``coalesce=True``: ticks missed while one was slow collapse into one;
- ``misfire_grace_time`` = one interval: a late tick still runs (APScheduler's default
  of 1 s would silently drop it), a tick later than that is dropped because the next
  one is about to run anyway. Due work is read from the database, not from the trigger
  time, so a dropped tick loses nothing.

Jobs share the tick, the clock and the app's Pusher. A new job is added to that list.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from server.clock import utcnow
from server.jobs import TICK_JOBS, prune_push_log, run_due_reminders
from server.notifications import vapid

__all__ = ["TICK_JOBS", "build_scheduler", "prune_push_log", "run_due_reminders",
           "run_scheduler", "tick"]

log = logging.getLogger("doorstep.scheduler")


def tick(app: Flask, now: datetime | None = None) -> dict[str, Any]:
    """Run every job of ``TICK_JOBS`` once; one failing job does not stop the others."""
    if now is None:
        with app.app_context():
            now = utcnow()  # honours app.config["CLOCK"] in tests
    results: dict[str, Any] = {}
    for job in TICK_JOBS:
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
