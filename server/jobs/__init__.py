"""The scheduler's jobs: an explicit list, in the order each tick runs them.

Each job is ``job(app, now)``: it finds due work in the database and claims it
atomically, so a second scheduler process (or a tick overlapping a slow one) is
harmless. Nothing registers itself on import and no job keeps state in this module:
what a job remembers between ticks lives in the app (``app.extensions``) or the
database. Only ``doorstep scheduler`` imports this package; web workers never do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from server.escalation.scans import run_escalation_rules
from server.jobs.push import prune_push_log, run_due_reminders
from server.notifications.escalation_notices import send_escalation_notices

TickJob = Callable[[Flask, Any], Any]

# Scheduler-found escalations before sending, so a missed visit is notified in one tick.
TICK_JOBS: tuple[TickJob, ...] = (
    run_due_reminders,
    prune_push_log,
    run_escalation_rules,
    send_escalation_notices,
)

__all__ = ["TICK_JOBS", "TickJob", "prune_push_log", "run_due_reminders",
           "run_escalation_rules", "send_escalation_notices"]
