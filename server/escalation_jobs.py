"""Escalation work done after commit: the scheduler's rules, and sending notices.

Scheduler rules (SPEC §5), found by scanning at each tick:
- ``missed_visit``: a visit still ``scheduled`` ESCALATION_MISSED_VISIT_HOURS after its
  ``scheduled_end`` (urgent);
- ``goal_not_logged``: an active goal with no non-voided log for
  ESCALATION_GOAL_NOT_LOGGED_DAYS days, counted from its last log or, before any, its
  start date (routine).
Each finding is claimed by its ``escalation_findings`` row (rule, source, marker) in the
same transaction that raises it, so it raises once, also with two schedulers; the
marker (the visit's scheduled_end, the goal's last log date) makes a rescheduled visit
or a goal that lapses again a new finding.

Sending (the one sender, for web requests and the scheduler alike):
- a notice is sent only after the transaction that made it committed, never under the
  write lock: a sender claims due rows (``due`` → ``claimed``, inside ``BEGIN
  IMMEDIATE``, so two senders never both own a row), sends, then records the outcome;
- rows of an escalation that is no longer open (acknowledged, resolved, deleted, or its
  patient gone) are cancelled, not sent; several due rows of one escalation are sent as
  one notice;
- recipients are the team's coordinators and the patient's care co-ordinator (if an
  active staff member of the patient's team), found at send time;
- the payload is ``{type: "escalation", title, body, url: "/escalations/<id>", id}``:
  severity words only, never a patient identifier or clinical detail;
- at least once: a send that reached no subscription is retried on later ticks up to
  ESCALATION_SEND_ATTEMPTS tries, and a claim older than ESCALATION_CLAIM_LEASE_MINUTES
  (its sender died) is sent again. A duplicate notice, collapsed by its Topic, is a
  smaller harm than a lost escalation (the opposite choice to reminders).

Every function takes ``now`` (an aware UTC datetime), so tests control the clock.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, has_app_context

from server import access, db, notify, records, vapid
from server.clock import iso, utcnow
from server.escalation import (
    SERVICE_ZONE,
    Finding,
    Settings,
    local_time,
    raise_escalation,
)
from server.reminders import default_instance_name
from sync import SYSTEM, Mutation, MutationResult, Registry, SqliteStore, apply_mutation

log = logging.getLogger("doorstep.escalations")

TITLES = {
    "emergency": "Emergency: a patient needs help now",
    "urgent": "Urgent: a patient needs attention",
    "routine": "Routine: a patient needs a review",
}
BODIES = {
    "opened": "A new escalation. Open Doorstep to see and acknowledge it.",
    "severity_raised": "An escalation became more serious. Open Doorstep to see it.",
    "renotify": "Still not acknowledged. Open Doorstep to see and acknowledge it.",
}
# Rows claimed per pass; the rest wait for the next pass.
CLAIM_BATCH = 500
# The prompt send after a web request: one quick round. Whatever it cannot deliver is
# left to the scheduler's full retry policy, so a slow push service never holds a worker.
PROMPT_POLICY = notify.RetryPolicy(max_tries=2, backoff_seconds=0.5, max_wait_seconds=2.0)


class SystemWriter:
    """Writes server-made records as SYSTEM in the caller's transaction (scheduler rules)."""

    def __init__(self, store: SqliteStore, registry: Registry):
        self.store, self.registry = store, registry

    def apply(self, mutation: Mutation) -> MutationResult:
        return apply_mutation(self.store, self.registry, SYSTEM, mutation)


# -- scheduler rules ---------------------------------------------------------------------


_MISSED_VISITS = (
    "SELECT v.id, v.patient_id, json_extract(v.data, '$.scheduled_start'),"
    " json_extract(v.data, '$.scheduled_end') FROM records v"
    " WHERE v.entity = 'visit' AND v.deleted = 0"
    " AND json_extract(v.data, '$.status') = 'scheduled'"
    " AND json_extract(v.data, '$.scheduled_end') <= ?"
    " AND json_extract(v.data, '$.scheduled_end') > ?"
    " AND NOT EXISTS (SELECT 1 FROM escalation_findings f WHERE f.rule = 'missed_visit'"
    "   AND f.source_id = v.id AND f.marker = json_extract(v.data, '$.scheduled_end'))"
    " AND EXISTS (SELECT 1 FROM records p WHERE p.entity = 'patient'"
    "   AND p.id = v.patient_id AND p.deleted = 0)"
    " ORDER BY v.id"
)
# Active goals whose latest live log (or, never logged, start date) is on or before the
# cutoff date, not yet raised for that date. The latest log is one seek in
# records_goal_log_live (0005): the WHERE terms match that partial index's, and ``+g.id``
# drops the column's text affinity, without which SQLite cannot use an index on an
# expression and would scan every log of every goal.
_LAPSED_GOALS = (
    "WITH goals AS MATERIALIZED ("
    "  SELECT g.id, g.patient_id, json_extract(g.data, '$.start_date') AS start,"
    "   (SELECT json_extract(l.data, '$.date') FROM records l"
    "    WHERE l.entity = 'goal_log' AND l.deleted = 0"
    "    AND coalesce(json_extract(l.data, '$.entered_in_error'), 0) = 0"
    "    AND json_extract(l.data, '$.goal_id') = +g.id"
    "    ORDER BY json_extract(l.data, '$.date') DESC LIMIT 1) AS last_log"
    "  FROM records g WHERE g.entity = 'goal' AND g.deleted = 0"
    "  AND json_extract(g.data, '$.status') = 'active'),"
    " counted AS (SELECT id, patient_id, max(start, coalesce(last_log, start)) AS since,"
    "  last_log IS NOT NULL AS logged FROM goals)"
    " SELECT id, patient_id, since, logged FROM counted WHERE since <= ?"
    " AND NOT EXISTS (SELECT 1 FROM escalation_findings f WHERE f.rule = 'goal_not_logged'"
    "   AND f.source_id = counted.id AND f.marker = counted.since)"
    " AND EXISTS (SELECT 1 FROM records p WHERE p.entity = 'patient'"
    "   AND p.id = counted.patient_id AND p.deleted = 0)"
    " ORDER BY id"
)


def _raise_findings(conn: sqlite3.Connection, registry: Registry, now: datetime,
                    settings: Settings, rule: str, scan: str, params: Sequence[Any],
                    finding_for: Callable[[sqlite3.Row], tuple[Finding, str]]) -> list[str]:
    """Raise each new finding of ``scan`` once, recording it in escalation_findings.

    The scan runs first without the write lock (the common case finds nothing); if it
    finds something it runs again inside the write transaction, so what is raised is
    what holds now, and a second scheduler that got there first has already recorded it.
    """
    if not conn.execute(scan, params).fetchone():
        return []
    raised = []
    writer = SystemWriter(SqliteStore(conn, clock=lambda: now), registry)
    with db.write_transaction(conn):
        for row in conn.execute(scan, params).fetchall():
            finding, marker = finding_for(row)
            escalation_id = raise_escalation(writer, finding, now, settings)
            if escalation_id is None:
                continue
            conn.execute(
                "INSERT INTO escalation_findings (rule, source_id, marker, escalation_id,"
                " found_at) VALUES (?,?,?,?,?)",
                (rule, finding.source_id, marker, escalation_id, iso(now)),
            )
            raised.append(escalation_id)
    return raised


def find_missed_visits(conn: sqlite3.Connection, registry: Registry, now: datetime,
                       settings: Settings) -> list[str]:
    """Raise ``missed_visit`` for visits still scheduled long after their end."""
    cutoff = now - settings.missed_visit_after
    oldest = cutoff - settings.missed_visit_lookback

    def finding_for(row: sqlite3.Row) -> tuple[Finding, str]:
        visit_id, patient_id, start, end = row
        reason = (f"The visit scheduled for {local_time(start)} to {local_time(end)} is "
                  "still not started or recorded.")
        return Finding(patient_id, "missed_visit", "urgent", reason, "visit", visit_id), end

    return _raise_findings(conn, registry, now, settings, "missed_visit", _MISSED_VISITS,
                           (iso(cutoff), iso(oldest)), finding_for)


def find_goals_not_logged(conn: sqlite3.Connection, registry: Registry, now: datetime,
                          settings: Settings) -> list[str]:
    """Raise ``goal_not_logged`` for active goals with no log for the configured days."""
    days = settings.goal_not_logged_days
    cutoff = now.astimezone(SERVICE_ZONE).date() - timedelta(days=days)

    def finding_for(row: sqlite3.Row) -> tuple[Finding, str]:
        goal_id, patient_id, since, logged = row
        reason = (f"No log of this goal for {days} days "
                  f"({'last logged' if logged else 'started'} {since}).")
        return Finding(patient_id, "goal_not_logged", "routine", reason, "goal", goal_id), since

    return _raise_findings(conn, registry, now, settings, "goal_not_logged", _LAPSED_GOALS,
                           (cutoff.isoformat(),), finding_for)


# -- sending -----------------------------------------------------------------------------


@dataclass
class Claimed:
    """The due rows of one open escalation, sent as one notice."""

    escalation_id: str
    data: dict[str, Any]
    team_id: str
    care_coordinator_id: str | None
    row_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    attempts: int = 0


@dataclass
class SendReport:
    claimed: int = 0
    cancelled: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    no_recipients: int = 0
    deliveries: int = 0
    delivered: int = 0
    sent_ids: list[str] = field(default_factory=list)  # escalation ids notified


def payload_for(escalation_id: str, severity: str, kinds: Sequence[str]) -> dict[str, str]:
    """What a lock screen may show: severity words, never who or what."""
    kind = next((k for k in ("severity_raised", "opened") if k in kinds), "renotify")
    return {"type": "escalation", "title": TITLES[severity], "body": BODIES[kind],
            "url": f"/escalations/{escalation_id}", "id": escalation_id}


def recipients(conn: sqlite3.Connection, claimed: Claimed) -> list[str]:
    """The team's coordinators, and the patient's care co-ordinator if in the team."""
    users = set(access.coordinator_ids_for_team(conn, claimed.team_id))
    named = claimed.care_coordinator_id
    if named and conn.execute(
        "SELECT 1 FROM users u JOIN team_members m ON m.user_id = u.id"
        " WHERE u.id = ? AND m.team_id = ? AND u.active = 1"
        " AND u.role IN ('nurse', 'coordinator')", (named, claimed.team_id),
    ).fetchone():
        users.add(named)
    return sorted(users)


def _recover_stale_claims(conn: sqlite3.Connection, now: datetime, settings: Settings) -> None:
    conn.execute(
        "UPDATE escalation_notifications SET status = 'due', claimed_by = NULL"
        " WHERE status = 'claimed' AND claimed_at < ?",
        (iso(now - settings.claim_lease),),
    )


def claim_due(conn: sqlite3.Connection, now: datetime, settings: Settings, instance: str,
              report: SendReport, only: Iterable[str] | None = None) -> list[Claimed]:
    """Claim due notices of open escalations (``only``: just these rows); cancel the rest."""
    sql = ("SELECT n.id, n.escalation_id, n.kind, n.attempts, r.data, r.deleted"
           " FROM escalation_notifications n LEFT JOIN records r"
           "   ON r.entity = 'escalation' AND r.id = n.escalation_id"
           " WHERE n.status = 'due' AND n.due_at <= ?")
    params: list[Any] = [iso(now)]
    if only is not None:
        sql += " AND n.id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(sorted(only)))
    stamp = iso(now)
    claimed: dict[str, Claimed] = {}
    with db.write_transaction(conn):
        if only is None:
            _recover_stale_claims(conn, now, settings)
        rows = conn.execute(sql + " ORDER BY n.due_at, n.id LIMIT ?",
                            [*params, CLAIM_BATCH]).fetchall()
        for row_id, escalation_id, kind, attempts, raw, deleted in rows:
            data = json.loads(raw) if raw else None
            patient = access.patient_data(conn, data["patient_id"]) if data else None
            if data is None or deleted or data.get("status") != "open" or patient is None:
                conn.execute("UPDATE escalation_notifications SET status = 'cancelled',"
                             " finished_at = ? WHERE id = ?", (stamp, row_id))
                report.cancelled += 1
                continue
            conn.execute(
                "UPDATE escalation_notifications SET status = 'claimed', claimed_by = ?,"
                " claimed_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'due'",
                (instance, stamp, row_id),
            )
            entry = claimed.setdefault(escalation_id, Claimed(
                escalation_id, data, patient["team_id"], patient.get("care_coordinator_id")))
            entry.row_ids.append(row_id)
            entry.kinds.append(kind)
            entry.attempts = max(entry.attempts, attempts + 1)
            report.claimed += 1
    return list(claimed.values())


def send_claimed(conn: sqlite3.Connection, pusher: notify.Pusher, claimed: Sequence[Claimed],
                 now: datetime, settings: Settings, instance: str, report: SendReport) -> None:
    """Send each escalation's notice to its recipients' subscriptions; close the claims."""
    by_user: dict[str, list[notify.Subscription]] = {}
    wanted = {c.escalation_id: recipients(conn, c) for c in claimed}
    for sub in notify.subscriptions_for_users(conn, {u for ids in wanted.values() for u in ids}):
        by_user.setdefault(sub.user_id or "", []).append(sub)
    jobs = []
    for entry in claimed:
        severity = entry.data.get("severity", "urgent")
        payload = payload_for(entry.escalation_id, severity, entry.kinds)
        for user_id in wanted[entry.escalation_id]:
            for sub in by_user.get(user_id, []):
                jobs.append(notify.PushJob(
                    "escalation", entry.escalation_id, sub, payload, settings.ttl,
                    notify.urgency_for(severity), notify.topic_for("escalation",
                                                                   entry.escalation_id)))
    tally = {entry.escalation_id: [0, 0] for entry in claimed}
    for job, outcome in notify.deliver(conn, pusher, jobs):
        tally[job.notification_id][0] += 1
        tally[job.notification_id][1] += outcome.delivered
    updates = []
    for entry in claimed:
        tried, delivered = tally[entry.escalation_id]
        report.deliveries += tried
        report.delivered += delivered
        if delivered:
            status = "sent"
            report.sent_ids.append(entry.escalation_id)
        elif not tried:
            status = "no_recipients"
        elif entry.attempts < settings.send_attempts:
            status = "due"  # the next tick tries again
        else:
            status = "failed"
        report_key = "retrying" if status == "due" else status
        setattr(report, report_key, getattr(report, report_key) + 1)
        finished = None if status == "due" else iso(now)
        updates += [(status, finished, tried, delivered, row_id, instance)
                    for row_id in entry.row_ids]
    with db.write_transaction(conn):
        conn.executemany(
            "UPDATE escalation_notifications SET status = ?, finished_at = ?,"
            " subscriptions = ?, delivered = ?"
            " WHERE id = ? AND status = 'claimed' AND claimed_by = ?",
            updates,
        )
        _stamp_notified(conn, [e for e in claimed if tally[e.escalation_id][1]], now)


def _stamp_notified(conn: sqlite3.Connection, notified: Sequence[Claimed], now: datetime) -> None:
    """``notified_at`` on each escalation a notice reached: the inbox shows "notified 20
    minutes ago" offline (the delivery log itself never leaves the server)."""
    if not notified:
        return
    from server.entities import build_registry  # the app's registry needs an app context

    registry = records.registry() if has_app_context() else build_registry()
    writer = SystemWriter(SqliteStore(conn, clock=lambda: now), registry)
    for entry in notified:
        writer.apply(Mutation("escalation", entry.escalation_id, "update",
                              {"notified_at": iso(now)}, base_version=None))


def send_due(conn: sqlite3.Connection, pusher: notify.Pusher, now: datetime,
             settings: Settings, *, only: Iterable[str] | None = None,
             instance: str | None = None) -> SendReport:
    """One pass: claim the due notices (or just ``only``), send them, record outcomes."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    instance = instance or default_instance_name()
    report = SendReport()
    claimed = claim_due(conn, now, settings, instance, report, only)
    if claimed:
        send_claimed(conn, pusher, claimed, now, settings, instance, report)
    return report


# -- entry points: the scheduler's tick, and a web request after its response ------------


def run_escalation_rules(app: Flask, now: datetime) -> dict[str, int]:
    """Tick job: raise the scheduler-found escalations due at ``now``."""
    settings = Settings.from_config(app.config)
    conn = db.connect(app.config["DATABASE"])
    try:
        registry = records.registry()
        missed = find_missed_visits(conn, registry, now, settings)
        lapsed = find_goals_not_logged(conn, registry, now, settings)
    finally:
        conn.close()
    return {"missed_visit": len(missed), "goal_not_logged": len(lapsed)}


def send_escalation_notices(app: Flask, now: datetime) -> SendReport:
    """Tick job: send first notices left over, re-notifications and retries due at ``now``."""
    conn = db.connect(app.config["DATABASE"])
    try:
        return send_due(conn, notify.pusher_for_app(app), now,
                        Settings.from_config(app.config))
    finally:
        conn.close()


def prompt_pusher(app: Flask) -> notify.Pusher:
    """The Pusher for sends right after a request: the app's settings, one quick round."""
    pusher: notify.Pusher | None = app.extensions.get("doorstep_escalation_pusher")
    if pusher is None:
        pusher = notify.Pusher.from_config(app.config, vapid.load_vapid(app.config["INSTANCE"]),
                                           policy=PROMPT_POLICY)
        app.extensions["doorstep_escalation_pusher"] = pusher
    return pusher


def send_prompt_notices(app: Flask, row_ids: Sequence[str]) -> SendReport | None:
    """Send the notices a request made, after it committed; never raises.

    Anything not delivered here stays due for the scheduler's next tick.
    """
    try:
        with app.app_context():
            now = utcnow()
            conn = db.connect(app.config["DATABASE"])
            try:
                return send_due(conn, prompt_pusher(app), now, Settings.from_config(app.config),
                                only=row_ids)
            finally:
                conn.close()
    except Exception:  # the scheduler sends what this could not; the response is out
        log.exception("prompt escalation notice failed; the scheduler will send it")
        return None
