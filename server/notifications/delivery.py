"""Send push jobs and record what happened: the delivery log, subscription health, and
subscriptions whose push service says they are gone (404/410) pruned.

Sending happens outside any transaction (a push service may be slow); outcomes are
written afterwards in batched write units of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from server.notifications.webpush import GONE, Outcome, Pusher, PushJob, Subscription, check_payload
from storage import Storage, UnitOfWork
from storage.notifications import DeliveryRecord
from storage.push_subscriptions import SendHealth

WRITE_BATCH = 500


def subscriptions_for_users(uow: UnitOfWork, user_ids: Iterable[str]) -> list[Subscription]:
    """Live subscriptions of active users on devices that are not revoked."""
    return [Subscription(t.id, t.endpoint, t.p256dh, t.auth, t.user_id)
            for t in uow.push_subscriptions.push_targets_of_users(user_ids)]


def record_outcomes(storage: Storage, results: Sequence[tuple[PushJob, Outcome]]) -> None:
    """One unit of work: delivery-log rows, subscription health, gone subscriptions pruned."""
    if not results:
        return
    with storage.write() as uow:
        uow.notifications.record_deliveries([
            DeliveryRecord(job.notification_type, job.notification_id, out.subscription_id,
                           job.subscription.user_id, out.status, out.http_status,
                           out.attempts, out.error, out.started_at, out.finished_at)
            for job, out in results])
        uow.push_subscriptions.record_send_health([
            SendHealth(out.subscription_id, out.finished_at, out.http_status, out.delivered)
            for _, out in results if out.status != GONE])
        # Match the endpoint too: a row re-subscribed meanwhile keeps its id but is alive.
        uow.push_subscriptions.prune_dead_subscriptions([
            (out.subscription_id, job.subscription.endpoint)
            for job, out in results if out.status == GONE])


def deliver(storage: Storage, pusher: Pusher, jobs: Sequence[PushJob]
            ) -> list[tuple[PushJob, Outcome]]:
    """Send every job on the pusher's pool and record the outcomes in batches."""
    results: list[tuple[PushJob, Outcome]] = []
    batch: list[tuple[PushJob, Outcome]] = []
    for pair in pusher.send_many(jobs):
        results.append(pair)
        batch.append(pair)
        if len(batch) >= WRITE_BATCH:
            record_outcomes(storage, batch)
            batch = []
    record_outcomes(storage, batch)
    return results


def notify_users(storage: Storage, pusher: Pusher, user_ids: Iterable[str],
                 payload: Mapping[str, Any], *, notification_type: str, ttl: int,
                 urgency: str = "normal", topic: str | None = None
                 ) -> list[tuple[PushJob, Outcome]]:
    """Send one payload to every live subscription of these users."""
    check_payload(payload)
    with storage.read() as uow:
        subscriptions = subscriptions_for_users(uow, user_ids)
    jobs = [PushJob(notification_type, str(payload["id"]), sub, payload, ttl, urgency, topic)
            for sub in subscriptions]
    return deliver(storage, pusher, jobs)
