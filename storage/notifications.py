"""The notification queue: reminder occurrences and escalation notices, the delivery log,
and who may receive a notification now (SPEC §5, §6).

Claiming is what makes a second scheduler (or a web worker beside the scheduler)
harmless. Both kinds of work are claimed by one conditional write whose row count says
who won, inside the caller's write unit of work:

- an escalation notice is a row scheduled with the escalation (status ``due``); a sender
  owns it only if its UPDATE moved it ``due`` → ``claimed``
  (:meth:`Notifications.claim_escalation_notice`);
- a reminder occurrence is owned by whoever INSERTed its (reminder, local date) row
  (:meth:`Notifications.claim_reminder_occurrence`): at most one per day, ever.

Finishing a claim (:meth:`finish_escalation_notices`, :meth:`finish_reminder_occurrences`)
only touches rows still claimed, so a claim recovered meanwhile is not overwritten.
Times are aware datetimes; implementations store them so that they order correctly.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# Escalation notice kinds, and what a finished notice or occurrence may become.
NOTICE_KINDS = ("opened", "severity_raised", "renotify")
NOTICE_OUTCOMES = ("due", "sent", "failed", "no_recipients")
OCCURRENCE_OUTCOMES = ("sent", "failed", "no_subscribers")


@dataclass(frozen=True)
class ScheduledNotice:
    """A notice to queue: its kind and when it falls due."""

    kind: str
    due_at: datetime


@dataclass(frozen=True)
class DueNotice:
    """A queued escalation notice that is due; ``attempts`` counts earlier claims."""

    id: str
    escalation_id: str
    kind: str
    attempts: int


@dataclass(frozen=True)
class FinishedNotice:
    """How a claimed notice or occurrence ended. For a notice, status ``due`` means
    "try again on a later pass" (the claim is released, not finished)."""

    id: str
    status: str
    subscriptions: int
    delivered: int


@dataclass(frozen=True)
class ReminderOccurrence:
    """One reminder's occurrence on one local date, due at a UTC instant."""

    id: str
    reminder_id: str
    local_date: date
    due_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One notification sent to one subscription: a row of the delivery log."""

    notification_type: str
    notification_id: str
    subscription_id: str
    user_id: str | None
    status: str
    http_status: int | None
    attempts: int
    error: str | None
    started_at: datetime
    finished_at: datetime


class Notifications(Protocol):
    """One queue for reminders and escalation notices (see the module docstring)."""

    # -- escalation notices ----------------------------------------------------------

    def schedule_escalation_notices(self, escalation_id: str, severity: str,
                                    notices: Sequence[ScheduledNotice],
                                    now: datetime) -> list[str]:
        """Queue these notices (status ``due``); returns their ids, in the order given."""
        ...

    def escalation_notified_before(self, escalation_id: str) -> bool:
        """Some notice of this escalation was claimed or finished other than by
        cancellation (somebody has been, or is being, told)."""
        ...

    def cancel_escalation_notices(self, escalation_id: str, now: datetime) -> int:
        """Cancel this escalation's notices still due; returns how many."""
        ...

    def release_stale_escalation_claims(self, claimed_before: datetime) -> int:
        """Claims older than this (their sender died) become due again: at least once."""
        ...

    def due_escalation_notices(self, now: datetime, limit: int,
                               only: Collection[str] | None = None) -> list[DueNotice]:
        """Notices due at ``now`` (``only``: just these ids), oldest due first, then id."""
        ...

    def claim_escalation_notice(self, notice_id: str, instance: str, now: datetime) -> bool:
        """Take a due notice for ``instance`` (counting the attempt); False when it was
        no longer due (another sender claimed or it was cancelled)."""
        ...

    def cancel_escalation_notice(self, notice_id: str, now: datetime) -> bool:
        """Cancel one notice if still due (its escalation is closed or gone)."""
        ...

    def finish_escalation_notices(self, finished: Sequence[FinishedNotice], instance: str,
                                  now: datetime) -> None:
        """Record how ``instance``'s claims ended; rows it no longer holds are left."""
        ...

    # -- reminder occurrences ----------------------------------------------------------

    def reminder_occurrences_since(self, local_date: date) -> set[tuple[str, date]]:
        """(reminder id, local date) of every occurrence recorded on or after this date."""
        ...

    def claim_reminder_occurrence(self, occurrence: ReminderOccurrence, status: str,
                                  instance: str, now: datetime) -> bool:
        """Record the occurrence as ``claimed`` (to send) or, finished at once, ``missed``
        or ``skipped``. True only for the caller whose write made the row: the one
        occurrence per reminder per local date."""
        ...

    def finish_reminder_occurrences(self, finished: Sequence[FinishedNotice],
                                    now: datetime) -> None:
        """Record how claimed occurrences ended (rows no longer claimed are left)."""
        ...

    def has_stale_reminder_claims(self, claimed_before: datetime) -> bool:
        """Some occurrence is still claimed since before this (its sender died)."""
        ...

    def abandon_stale_reminder_claims(self, claimed_before: datetime, now: datetime) -> int:
        """Close those claims as ``abandoned``: never re-sent (at most once)."""
        ...

    # -- the delivery log ------------------------------------------------------------------

    def record_deliveries(self, deliveries: Sequence[DeliveryRecord]) -> None:
        """Append to the delivery log (it outlives the subscriptions it names)."""
        ...

    def prune_delivery_log(self, before: datetime) -> int:
        """Drop log rows finished, and reminder occurrences due, before this (claimed
        occurrences are kept); returns how many rows went."""
        ...

    # -- recipients, checked at send time -----------------------------------------------------

    def escalation_recipients(self, team_id: str, care_coordinator_id: str | None) -> list[str]:
        """The team's active coordinators, and the patient's care co-ordinator when an
        active nurse or coordinator of that team; sorted user ids."""
        ...

    def reminder_recipients(self, patient_id: str, user_ids: Sequence[str],
                            sharing_objection: bool) -> list[str]:
        """Of ``user_ids`` (in order, once each): active patient accounts of this patient,
        and active carers with an active, live carer link to them unless the patient
        objects to sharing."""
        ...
