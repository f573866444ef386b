"""Plain factories for push and reminder tests: a migrated database, users, devices,
subscriptions, and synced records (patients, reminders, goal logs, carer links).

Records are inserted straight into the shared ``records`` table (the storage contract);
reminders and goal logs are the sync engine's, we only read them. Tests hold a raw
connection to inspect rows; the server's code gets the same file as a ``Storage``
(:func:`storage_for`).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dbtools as db
from push_service import BrowserSubscription

from server.clock import iso
from server.config import DEFAULTS
from server.notifications import reminders, vapid
from server.notifications import webpush as notify
from server.services import push_subscriptions
from storage import Storage, open_storage
from storage.sqlite import migrations
from sync.registry import Actor

_counter = itertools.count(1)
_storages: dict[str, Storage] = {}


def storage_for(conn: sqlite3.Connection) -> Storage:
    """The storage over the database file ``conn`` is open on (one per file)."""
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    if path not in _storages:
        _storages[path] = open_storage(path)
    return _storages[path]


def run_due(conn: sqlite3.Connection, pusher: notify.Pusher, now: datetime,
            settings: reminders.ReminderSettings | None = None,
            instance: str | None = None) -> reminders.TickReport:
    """``reminders.run_due`` on the database ``conn`` is open on."""
    return reminders.run_due(storage_for(conn), pusher, now, settings, instance)


def make_db(path: Path) -> sqlite3.Connection:
    """A fresh database with every migration (the sync engine's ``records`` included)."""
    conn = db.connect(path)
    migrations.migrate(conn)
    return conn


def make_pusher(tmp_path: Path, sleeps: list[float] | None = None,
                clock: Callable[[], datetime] | None = None, **kw: Any) -> notify.Pusher:
    """A Pusher with a fresh VAPID key whose sleep only records (tests never wait)."""
    instance = tmp_path / "instance"
    vapid.ensure_vapid_keys(instance)
    recorded = sleeps if sleeps is not None else []
    extra: dict[str, Any] = {"sleep": recorded.append,
                             "subject": DEFAULTS["VAPID_SUBJECT"]}
    if clock is not None:
        extra["clock"] = clock
    extra.update(kw)
    return notify.Pusher(vapid=vapid.load_vapid(instance), **extra)


def now_iso() -> str:
    return iso(datetime.now(UTC))


def make_user(conn: sqlite3.Connection, role: str = "patient", *, patient_id: str | None = None,
              active: bool = True) -> str:
    user_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO users (id, username, password_hash, role, display_name, patient_id,"
        " active, created_at) VALUES (?,?,?,?,?,?,?,?)",
        (user_id, f"{role}{next(_counter)}-{user_id[:6]}", "x", role, "Test", patient_id,
         int(active), now_iso()),
    )
    return user_id


def make_device(conn: sqlite3.Connection, user_id: str, *, revoked: bool = False) -> str:
    client_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at, revoked_at)"
        " VALUES (?,?,?,?,?,?)",
        (client_id, user_id, "tablet", now_iso(), now_iso(), now_iso() if revoked else None),
    )
    return client_id


def subscribe(conn: sqlite3.Connection, user_id: str, browser: BrowserSubscription, *,
              revoked: bool = False) -> str:
    """A device for the user with this browser subscription; returns the subscription id."""
    client_id = make_device(conn, user_id, revoked=revoked)
    actor = Actor(user_id, "patient", client_id)
    with storage_for(conn).write() as uow:
        row = push_subscriptions.save_subscription(uow, actor, browser.endpoint,
                                                   browser.p256dh, browser.auth,
                                                   datetime.now(UTC))
    return str(row["id"])


def subscription_of(conn: sqlite3.Connection, sub_id: str) -> notify.Subscription | None:
    row = conn.execute("SELECT * FROM push_subscriptions WHERE id = ?", (sub_id,)).fetchone()
    if row is None:
        return None
    return notify.Subscription(row["id"], row["endpoint"], row["p256dh"], row["auth"],
                               row["user_id"])


def make_record(conn: sqlite3.Connection, entity: str, data: dict[str, Any], *,
                record_id: str | None = None, deleted: bool = False) -> str:
    record_id = record_id or str(uuid.uuid4())
    patient_id = record_id if entity == "patient" else data.get("patient_id")
    # seq is the sync engine's changelog position: unique, so take the next one.
    conn.execute(
        "INSERT INTO records (entity, id, version, deleted, updated_at, patient_id, data, seq)"
        " VALUES (?,?,?,?,?,?,?, (SELECT coalesce(max(seq), 0) + 1 FROM records))",
        (entity, record_id, 1, int(deleted), now_iso(), patient_id, json.dumps(data)),
    )
    return record_id


def make_patient(conn: sqlite3.Connection, **overrides: Any) -> str:
    data = {"nhs_number": "9990000018", "given_name": "Test", "family_name": "Patient",
            "sharing_objection": False, **overrides}
    return make_record(conn, "patient", data)


def make_reminder(conn: sqlite3.Connection, patient_id: str, recipient_ids: list[str],
                  **overrides: Any) -> str:
    data: dict[str, Any] = {
        "patient_id": patient_id,
        "recipient_ids": recipient_ids,
        "title": "Walk to the post box",
        "body": "Your daily walk, as planned with your nurse.",
        "time_of_day": "09:00",
        "days_of_week": [1, 2, 3, 4, 5, 6, 7],
        "timezone": "Europe/London",
        "start_date": "2026-01-01",
        "end_date": None,
        "active": True,
    }
    deleted = overrides.pop("deleted", False)
    data.update(overrides)
    return make_record(conn, "reminder", data, deleted=deleted)


def make_goal_log(conn: sqlite3.Connection, patient_id: str, goal_id: str, day: str, *,
                  done: bool = True, **extra: Any) -> str:
    return make_record(conn, "goal_log", {"goal_id": goal_id, "patient_id": patient_id,
                                          "date": day, "done": done, **extra})


def make_carer_link(conn: sqlite3.Connection, patient_id: str, carer_id: str, *,
                    active: bool = True) -> str:
    return make_record(conn, "carer_link", {
        "patient_id": patient_id, "carer_user_id": carer_id, "relationship": "daughter",
        "consent_basis": "patient_consent", "active": active})


def patient_with_browser(conn: sqlite3.Connection, browser: BrowserSubscription
                         ) -> tuple[str, str, str]:
    """A live patient, their account, and that account subscribed with ``browser``."""
    patient_id = make_patient(conn)
    user_id = make_user(conn, "patient", patient_id=patient_id)
    sub_id = subscribe(conn, user_id, browser)
    return patient_id, user_id, sub_id
