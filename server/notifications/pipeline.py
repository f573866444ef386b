"""The one notification pipeline: claim → send → record, shaped by a delivery policy.

A pass (:func:`run_pass`):

1. ``policy.claim`` takes the due work in write units of work, with the atomic claims
   of ``storage.notifications`` (a second scheduler, or a web worker beside it, gets
   other work or none);
2. the recipients, checked now rather than when the work was scheduled, and their live
   subscriptions are read in one snapshot;
3. each claim's message goes to each subscription, outside any transaction, and every
   delivery is logged (``delivery.deliver``);
4. ``policy.finish`` records, in one write unit of work, how each claim ended given how
   many subscriptions were tried and reached.

What differs between reminders and escalation notices is the policy: who receives it,
the payload and Web Push headers, and what a failed send becomes (retry, re-notify, or
give up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from server.notifications.delivery import deliver, subscriptions_for_users
from server.notifications.webpush import Pusher, PushJob, Subscription
from storage import Storage, UnitOfWork

C = TypeVar("C")


@dataclass(frozen=True)
class Message:
    """What one claim sends to each of its recipients' subscriptions."""

    payload: dict[str, str]
    ttl: int
    urgency: str
    topic: str


@dataclass(frozen=True)
class Tally:
    """How one claim's sends went: subscriptions tried, and how many accepted it."""

    tried: int
    delivered: int


@dataclass
class PassReport:
    """What one pass did; each policy's report adds the outcomes of its own."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deliveries: int = 0  # subscriptions tried
    delivered: int = 0  # subscriptions that accepted
    sent_ids: list[str] = field(default_factory=list)  # notification ids that reached someone

    def ended(self, key: str, tally: Tally, status: str) -> None:
        """Count one claim that ended with ``status`` after ``tally``."""
        self.deliveries += tally.tried
        self.delivered += tally.delivered
        setattr(self, status, getattr(self, status) + 1)
        if status == "sent":
            self.sent_ids.append(key)


class DeliveryPolicy(Protocol[C]):
    """What one kind of notification decides; the pipeline does the rest."""

    notification_type: str  # the delivery log's notification_type

    def claim(self, storage: Storage, now: datetime, instance: str) -> Sequence[C]:
        """Claim the work due at ``now`` for ``instance`` (its own units of work)."""
        ...

    def key(self, claim: C) -> str:
        """The notification id: the payload's ``id`` and the delivery log's."""
        ...

    def recipients(self, uow: UnitOfWork, claim: C) -> list[str]:
        """The user ids who may receive it now."""
        ...

    def message(self, claim: C) -> Message: ...

    def finish(self, uow: UnitOfWork, ended: Sequence[tuple[C, Tally]], now: datetime,
               instance: str) -> None:
        """Record how each claim ended, in the pipeline's last unit of work."""
        ...


def run_pass(storage: Storage, pusher: Pusher, policy: DeliveryPolicy[C], now: datetime,
             instance: str) -> None:
    """One pass of the pipeline for one policy (see the module docstring)."""
    claimed = list(policy.claim(storage, now, instance))
    if not claimed:
        return
    with storage.read() as uow:
        wanted = {policy.key(c): policy.recipients(uow, c) for c in claimed}
        by_user: dict[str, list[Subscription]] = {}
        for sub in subscriptions_for_users(uow, {u for ids in wanted.values() for u in ids}):
            by_user.setdefault(sub.user_id or "", []).append(sub)
    jobs = []
    for claim in claimed:
        key, message = policy.key(claim), policy.message(claim)
        jobs += [PushJob(policy.notification_type, key, sub, message.payload, message.ttl,
                         message.urgency, message.topic)
                 for user_id in wanted[key] for sub in by_user.get(user_id, [])]
    tried = dict.fromkeys(wanted, 0)
    delivered = dict.fromkeys(wanted, 0)
    for job, outcome in deliver(storage, pusher, jobs):
        tried[job.notification_id] += 1
        delivered[job.notification_id] += outcome.delivered
    with storage.write() as uow:
        policy.finish(uow, [(c, Tally(tried[policy.key(c)], delivered[policy.key(c)]))
                            for c in claimed], now, instance)
