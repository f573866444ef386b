"""Tick jobs for reminders and the push delivery log."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from server.database import storage as app_storage
from server.notifications import reminders
from server.notifications import webpush as notify
from storage import Storage

# app.extensions key: when this app last pruned the delivery log.
LAST_PRUNE = "doorstep.jobs.last_prune"


def run_due_reminders(
    app_or_storage: Flask | Storage,
    now: datetime,
    *,
    pusher: notify.Pusher | None = None,
    settings: reminders.ReminderSettings | None = None,
    instance: str | None = None,
) -> reminders.TickReport:
    """Send the reminders due at ``now`` (with an app, its config and Pusher are used)."""
    if isinstance(app_or_storage, Flask):
        app = app_or_storage
        return reminders.run_due(
            app_storage(app),
            pusher or notify.pusher_for_app(app),
            now,
            settings or reminders.ReminderSettings.from_config(app.config),
            instance,
        )
    if pusher is None:
        raise TypeError("run_due_reminders(storage, …) needs pusher=")
    return reminders.run_due(app_or_storage, pusher, now, settings, instance)


def prune_push_log(app: Flask, now: datetime) -> int:
    """Drop delivery-log rows and finished occurrences past retention (at most hourly)."""
    last: datetime | None = app.extensions.get(LAST_PRUNE)
    if last is not None and now - last < timedelta(hours=1):
        return 0
    app.extensions[LAST_PRUNE] = now
    cutoff = now - timedelta(days=app.config["PUSH_LOG_RETENTION_DAYS"])
    with app_storage(app).write() as uow:
        # Occurrences are the send-once claims: retention is well past the lookback.
        return uow.notifications.prune_delivery_log(cutoff)
