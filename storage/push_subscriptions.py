"""Browser push subscriptions: one per device, unique by endpoint (SPEC §6).

Invariants the implementations keep:
- one subscription per device (``client_id``): saving a new endpoint for a device drops
  the device's previous one;
- the endpoint is unique: saving a known endpoint updates that row (same id) and moves
  it to the given user and device;
- a subscription whose push service answered 404/410 is removed
  (:meth:`PushSubscriptions.prune_dead_subscriptions`), but only while it still has the
  endpoint that died: a row re-subscribed meanwhile keeps its id and stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SubscriptionInfo:
    """What a user may see of their own subscription (never the keys)."""

    id: str
    user_id: str
    client_id: str
    endpoint: str
    created_at: str
    updated_at: str
    last_http_status: int | None


@dataclass(frozen=True)
class PushTarget:
    """A subscription as the sender needs it: endpoint plus its encryption keys."""

    id: str
    endpoint: str
    p256dh: str
    auth: str
    user_id: str


@dataclass(frozen=True)
class SendHealth:
    """The outcome of one send to a live subscription, for its health columns."""

    subscription_id: str
    at: datetime
    http_status: int | None
    delivered: bool


class PushSubscriptions(Protocol):
    """Push subscriptions of users' devices."""

    def save_subscription(self, user_id: str, client_id: str, endpoint: str, p256dh: str,
                          auth: str, now: datetime) -> SubscriptionInfo:
        """Create or update the device's subscription (see the module invariants)."""
        ...

    def subscriptions_of_user(self, user_id: str) -> list[SubscriptionInfo]:
        """The user's own subscriptions, oldest first."""
        ...

    def delete_subscription_of_user(self, user_id: str, subscription_id: str) -> bool:
        """Delete it if it is this user's; False when not theirs (or not there)."""
        ...

    def push_targets_of_users(self, user_ids: Iterable[str]) -> list[PushTarget]:
        """Live targets of these users: the user is active and the device not revoked.
        Ordered by user id, then subscription age."""
        ...

    def get_push_target(self, subscription_id: str) -> PushTarget | None:
        """One subscription by id, whatever its user or device."""
        ...

    def record_send_health(self, results: Sequence[SendHealth]) -> None:
        """Stamp last attempt, last HTTP status and (when delivered) last success."""
        ...

    def prune_dead_subscriptions(self, dead: Sequence[tuple[str, str]]) -> int:
        """Delete each (subscription id, endpoint) pair still holding that endpoint."""
        ...
