"""Push subscriptions on PostgreSQL (table ``push_subscriptions``, migration 0003).

Saving is a delete of the device's other endpoint and one upsert on the endpoint, under
the changelog lock (storage/postgres/serial.py): two devices saving at once, or one device
twice, are serial as on SQLite, so neither trips the UNIQUE client_id or endpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.notifications import iso
from storage.postgres.serial import SerialRepository
from storage.push_subscriptions import PushTarget, SendHealth, SubscriptionInfo

_INFO = "id, user_id, client_id, endpoint, created_at, updated_at, last_http_status"
_TARGET = "s.id, s.endpoint, s.p256dh, s.auth, s.user_id"


def _info(row: Any) -> SubscriptionInfo:
    return SubscriptionInfo(row[0], row[1], row[2], row[3], row[4], row[5], row[6])


class PostgresPushSubscriptions(SerialRepository):
    def save_subscription(self, user_id: str, client_id: str, endpoint: str, p256dh: str,
                          auth: str, now: datetime) -> SubscriptionInfo:
        stamp = iso(now)
        self._write("DELETE FROM push_subscriptions WHERE client_id = %s AND endpoint != %s",
                    (client_id, endpoint))
        row = self.conn.execute(
            "INSERT INTO push_subscriptions (id, user_id, client_id, endpoint, p256dh, auth,"
            " created_at, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)"
            " ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id,"
            " client_id = EXCLUDED.client_id, p256dh = EXCLUDED.p256dh,"
            f" auth = EXCLUDED.auth, updated_at = EXCLUDED.updated_at RETURNING {_INFO}",
            (str(uuid.uuid4()), user_id, client_id, endpoint, p256dh, auth, stamp, stamp),
        ).fetchone()
        return _info(row)

    def subscriptions_of_user(self, user_id: str) -> list[SubscriptionInfo]:
        rows = self.conn.execute(
            f"SELECT {_INFO} FROM push_subscriptions WHERE user_id = %s ORDER BY created_at",
            (user_id,),
        )
        return [_info(row) for row in rows]

    def delete_subscription_of_user(self, user_id: str, subscription_id: str) -> bool:
        return self._write("DELETE FROM push_subscriptions WHERE id = %s AND user_id = %s",
                           (subscription_id, user_id)) == 1

    def push_targets_of_users(self, user_ids: Iterable[str]) -> list[PushTarget]:
        rows = self.conn.execute(
            f"SELECT {_TARGET} FROM push_subscriptions s"
            " JOIN users u ON u.id = s.user_id AND u.active"
            " JOIN devices d ON d.client_id = s.client_id AND d.revoked_at IS NULL"
            ' WHERE s.user_id = ANY(%s) ORDER BY s.user_id COLLATE "C", s.created_at',
            (sorted(set(user_ids)),),
        )
        return [PushTarget(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def get_push_target(self, subscription_id: str) -> PushTarget | None:
        row = self.conn.execute(
            f"SELECT {_TARGET} FROM push_subscriptions s WHERE s.id = %s", (subscription_id,),
        ).fetchone()
        return PushTarget(row[0], row[1], row[2], row[3], row[4]) if row else None

    def record_send_health(self, results: Sequence[SendHealth]) -> None:
        self._write_many(
            "UPDATE push_subscriptions SET last_attempt_at = %s, last_http_status = %s,"
            " last_success_at = CASE WHEN %s THEN %s ELSE last_success_at END WHERE id = %s",
            [(iso(r.at), r.http_status, r.delivered, iso(r.at), r.subscription_id)
             for r in results],
        )

    def prune_dead_subscriptions(self, dead: Sequence[tuple[str, str]]) -> int:
        if not dead:
            return 0
        return self._write(
            "DELETE FROM push_subscriptions s USING unnest(%s::text[], %s::text[])"
            " AS dead(id, endpoint) WHERE s.id = dead.id AND s.endpoint = dead.endpoint",
            ([sub_id for sub_id, _ in dead], [endpoint for _, endpoint in dead]),
        )
