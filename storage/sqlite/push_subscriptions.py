"""Push subscriptions on SQLite (table ``push_subscriptions``, migration 0003)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from storage.push_subscriptions import PushTarget, SendHealth, SubscriptionInfo

_INFO = "id, user_id, client_id, endpoint, created_at, updated_at, last_http_status"
# Stay under SQLite's bound-parameter limit.
_CHUNK = 500


def iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC text, so text comparison orders times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _info(row: sqlite3.Row) -> SubscriptionInfo:
    return SubscriptionInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


class SqlitePushSubscriptions:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def save_subscription(self, user_id: str, client_id: str, endpoint: str, p256dh: str,
                          auth: str, now: datetime) -> SubscriptionInfo:
        stamp = iso(now)
        self.conn.execute(
            "DELETE FROM push_subscriptions WHERE client_id = ? AND endpoint != ?",
            (client_id, endpoint),
        )
        existing = self.conn.execute(
            "SELECT id FROM push_subscriptions WHERE endpoint = ?", (endpoint,)
        ).fetchone()
        if existing is not None:
            sub_id = str(existing[0])
            self.conn.execute(
                "UPDATE push_subscriptions SET user_id = ?, client_id = ?, p256dh = ?,"
                " auth = ?, updated_at = ? WHERE id = ?",
                (user_id, client_id, p256dh, auth, stamp, sub_id),
            )
        else:
            sub_id = str(uuid.uuid4())
            self.conn.execute(
                "INSERT INTO push_subscriptions (id, user_id, client_id, endpoint, p256dh,"
                " auth, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                (sub_id, user_id, client_id, endpoint, p256dh, auth, stamp, stamp),
            )
        row = self.conn.execute(f"SELECT {_INFO} FROM push_subscriptions WHERE id = ?",
                                (sub_id,)).fetchone()
        return _info(row)

    def subscriptions_of_user(self, user_id: str) -> list[SubscriptionInfo]:
        rows = self.conn.execute(
            f"SELECT {_INFO} FROM push_subscriptions WHERE user_id = ? ORDER BY created_at",
            (user_id,),
        )
        return [_info(row) for row in rows]

    def delete_subscription_of_user(self, user_id: str, subscription_id: str) -> bool:
        cursor = self.conn.execute(
            "DELETE FROM push_subscriptions WHERE id = ? AND user_id = ?",
            (subscription_id, user_id),
        )
        return cursor.rowcount == 1

    def push_targets_of_users(self, user_ids: Iterable[str]) -> list[PushTarget]:
        ids = sorted(set(user_ids))
        found: list[PushTarget] = []
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT s.id, s.endpoint, s.p256dh, s.auth, s.user_id FROM push_subscriptions s"
                " JOIN users u ON u.id = s.user_id AND u.active = 1"
                " JOIN devices d ON d.client_id = s.client_id AND d.revoked_at IS NULL"
                f" WHERE s.user_id IN ({marks}) ORDER BY s.user_id, s.created_at",
                chunk,
            )
            found.extend(PushTarget(r[0], r[1], r[2], r[3], r[4]) for r in rows)
        return found

    def get_push_target(self, subscription_id: str) -> PushTarget | None:
        row = self.conn.execute(
            "SELECT id, endpoint, p256dh, auth, user_id FROM push_subscriptions WHERE id = ?",
            (subscription_id,),
        ).fetchone()
        return PushTarget(row[0], row[1], row[2], row[3], row[4]) if row else None

    def record_send_health(self, results: Sequence[SendHealth]) -> None:
        self.conn.executemany(
            "UPDATE push_subscriptions SET last_attempt_at = ?, last_http_status = ?,"
            " last_success_at = CASE WHEN ? THEN ? ELSE last_success_at END WHERE id = ?",
            [(iso(r.at), r.http_status, r.delivered, iso(r.at), r.subscription_id)
             for r in results],
        )

    def prune_dead_subscriptions(self, dead: Sequence[tuple[str, str]]) -> int:
        gone = 0
        for sub_id, endpoint in dead:
            gone += self.conn.execute(
                "DELETE FROM push_subscriptions WHERE id = ? AND endpoint = ?",
                (sub_id, endpoint),
            ).rowcount
        return gone
