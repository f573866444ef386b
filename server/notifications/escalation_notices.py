"""Escalation notices as a delivery policy (SPEC §5, §6), and the sends that run it.

- a notice is sent only after the unit of work that queued it committed, never under
  the write lock: a sender claims due notices (``due`` → ``claimed``, one conditional
  write each, so two senders never both own one), sends, then records the outcome;
- notices of an escalation that is no longer open (acknowledged, resolved, deleted, or
  its patient gone) are cancelled, not sent; several due notices of one escalation are
  sent as one;
- recipients are the team's coordinators and the patient's care co-ordinator (if an
  active staff member of the patient's team), found at send time;
- the payload is ``{type: "escalation", title, body, url: "/escalations/<id>", id}``:
  severity words only, never a patient identifier or clinical detail;
- at least once: a send that reached no subscription is retried on later passes up to
  ESCALATION_SEND_ATTEMPTS tries, and a claim older than ESCALATION_CLAIM_LEASE_MINUTES
  (its sender died) is sent again. A duplicate notice, collapsed by its Topic, is a
  smaller harm than a lost escalation (the opposite choice to reminders);
- a notice that reached someone stamps ``notified_at`` on the escalation record, so
  the inbox shows "notified 20 minutes ago" offline.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask

from server.clock import iso, utcnow
from server.database import storage as app_storage
from server.escalation.rules import Settings, live_data
from server.notifications import vapid
from server.notifications import webpush as notify
from server.notifications.pipeline import Message, PassReport, Tally, run_pass
from server.notifications.reminders import default_instance_name
from storage import Storage, UnitOfWork
from storage.notifications import FinishedNotice
from sync import SYSTEM, Mutation, Registry, apply_mutation

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
# Notices claimed per pass; the rest wait for the next pass.
CLAIM_BATCH = 500
# The prompt send after a web request: one quick round. Whatever it cannot deliver is
# left to the scheduler's full retry policy, so a slow push service never holds a worker.
PROMPT_POLICY = notify.RetryPolicy(max_tries=2, backoff_seconds=0.5, max_wait_seconds=2.0)


@dataclass
class Claimed:
    """The due notices of one open escalation, sent as one notice."""

    escalation_id: str
    data: dict[str, Any]
    team_id: str
    care_coordinator_id: str | None
    row_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    attempts: int = 0


@dataclass
class SendReport(PassReport):
    """What one pass over the due notices did; ``sent_ids`` are escalation ids."""

    cancelled: int = 0
    retrying: int = 0
    no_recipients: int = 0


def payload_for(escalation_id: str, severity: str, kinds: Sequence[str]) -> dict[str, str]:
    """What a lock screen may show: severity words, never who or what."""
    kind = next((k for k in ("severity_raised", "opened") if k in kinds), "renotify")
    return {"type": "escalation", "title": TITLES[severity], "body": BODIES[kind],
            "url": f"/escalations/{escalation_id}", "id": escalation_id}


def claim_due(uow: UnitOfWork, now: datetime, settings: Settings, instance: str,
              report: SendReport, only: Collection[str] | None = None) -> list[Claimed]:
    """Claim due notices of open escalations (``only``: just these); cancel the rest."""
    if only is None:
        uow.notifications.release_stale_escalation_claims(now - settings.claim_lease)
    claimed: dict[str, Claimed] = {}
    for notice in uow.notifications.due_escalation_notices(now, CLAIM_BATCH, only):
        data = live_data(uow.store, "escalation", notice.escalation_id)
        patient = live_data(uow.store, "patient", data["patient_id"]) if data else None
        if data is None or data.get("status") != "open" or patient is None:
            if uow.notifications.cancel_escalation_notice(notice.id, now):
                report.cancelled += 1
            continue
        if not uow.notifications.claim_escalation_notice(notice.id, instance, now):
            continue  # another sender has it
        entry = claimed.setdefault(notice.escalation_id, Claimed(
            notice.escalation_id, data, patient["team_id"], patient.get("care_coordinator_id")))
        entry.row_ids.append(notice.id)
        entry.kinds.append(notice.kind)
        entry.attempts = max(entry.attempts, notice.attempts + 1)
        report.claimed += 1
    return list(claimed.values())


@dataclass
class EscalationDelivery:
    """Escalation notices as a delivery policy (see the module docstring)."""

    settings: Settings
    registry: Registry
    report: SendReport
    only: Collection[str] | None = None
    notification_type: str = "escalation"

    def claim(self, storage: Storage, now: datetime, instance: str) -> list[Claimed]:
        with storage.write() as uow:
            return claim_due(uow, now, self.settings, instance, self.report, self.only)

    def key(self, claim: Claimed) -> str:
        return claim.escalation_id

    def recipients(self, uow: UnitOfWork, claim: Claimed) -> list[str]:
        return uow.notifications.escalation_recipients(claim.team_id,
                                                       claim.care_coordinator_id)

    def message(self, claim: Claimed) -> Message:
        severity = claim.data.get("severity", "urgent")
        return Message(payload_for(claim.escalation_id, severity, claim.kinds),
                       self.settings.ttl, notify.urgency_for(severity),
                       notify.topic_for("escalation", claim.escalation_id))

    def finish(self, uow: UnitOfWork, ended: Sequence[tuple[Claimed, Tally]], now: datetime,
               instance: str) -> None:
        finished = []
        for entry, tally in ended:
            if tally.delivered:
                status = "sent"
                # The inbox shows when it was last notified, offline: on the record.
                apply_mutation(uow.store, self.registry, SYSTEM, Mutation(
                    "escalation", entry.escalation_id, "update", {"notified_at": iso(now)},
                    base_version=None))
            elif not tally.tried:
                status = "no_recipients"
            elif entry.attempts < self.settings.send_attempts:
                status = "due"  # the next pass tries again
            else:
                status = "failed"
            self.report.ended(entry.escalation_id, tally,
                              "retrying" if status == "due" else status)
            finished += [FinishedNotice(row_id, status, tally.tried, tally.delivered)
                         for row_id in entry.row_ids]
        uow.notifications.finish_escalation_notices(finished, instance, now)


def app_registry() -> Registry:
    """The app's registry inside an app context, else the default one."""
    from flask import has_app_context

    from server.records import engine as records
    from server.records.entities import build_registry

    return records.registry() if has_app_context() else build_registry()


def send_due(storage: Storage, pusher: notify.Pusher, now: datetime, settings: Settings, *,
             only: Collection[str] | None = None, instance: str | None = None,
             registry: Registry | None = None) -> SendReport:
    """One pass: claim the due notices (or just ``only``), send them, record outcomes."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    report = SendReport()
    policy = EscalationDelivery(settings, registry or app_registry(), report, only)
    run_pass(storage, pusher, policy, now, instance or default_instance_name())
    return report


def send_escalation_notices(app: Flask, now: datetime) -> SendReport:
    """Tick job: send first notices left over, re-notifications and retries due at ``now``."""
    return send_due(app_storage(app), notify.pusher_for_app(app), now,
                    Settings.from_config(app.config))


def prompt_pusher(app: Flask) -> notify.Pusher:
    """The Pusher for sends right after a request: the app's settings, one quick round."""
    pusher: notify.Pusher | None = app.extensions.get("doorstep_escalation_pusher")
    if pusher is None:
        pusher = notify.Pusher.from_config(app.config, vapid.load_vapid(app.config["INSTANCE"]),
                                           policy=PROMPT_POLICY)
        app.extensions["doorstep_escalation_pusher"] = pusher
    return pusher


def send_prompt_notices(app: Flask, notice_ids: Sequence[str]) -> SendReport | None:
    """Send the notices a request queued, after it committed; never raises.

    Anything not delivered here stays due for the scheduler's next pass.
    """
    try:
        with app.app_context():
            return send_due(app_storage(app), prompt_pusher(app), utcnow(),
                            Settings.from_config(app.config), only=notice_ids)
    except Exception:  # the scheduler sends what this could not; the response is out
        log.exception("prompt escalation notice failed; the scheduler will send it")
        return None
