"""Browser push subscriptions: validated, bound to one user and one device.

Invariants:
- one subscription per device (``client_id``): a browser holds one push subscription per
  service worker, so a device that subscribes again replaces its old endpoint;
- the endpoint is unique: re-subscribing the same endpoint updates that row (same id),
  and moves it to the current user and device if a shared tablet changed hands;
- endpoints are https URLs on the configured push-service hosts (PUSH_ENDPOINT_HOSTS):
  the server POSTs to them, so an arbitrary URL would let any user aim the server at
  internal systems. ``http://127.0.0.1`` is allowed only when testing or when
  PUSH_ALLOW_LOOPBACK_HTTP is set (the local push service of the tests and benchmark);
- ``p256dh`` must be an uncompressed point on P-256 (65 bytes), ``auth`` 16 bytes, both
  base64url: anything else could never be encrypted to;
- users see and delete only their own subscriptions; another user's id answers 404.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from server.clock import iso
from sync.registry import Actor

MAX_ENDPOINT_LENGTH = 2048
LOOPBACK = "127.0.0.1"
COLUMNS = "id, user_id, client_id, endpoint, created_at, updated_at, last_http_status"


class SubscriptionInvalid(ValueError):
    """The subscription cannot be used; ``errors`` maps field to messages."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("invalid push subscription")
        self.errors = errors


def _unb64url(text: str) -> bytes:
    if not isinstance(text, str) or not text or "=" in text.rstrip("="):
        raise ValueError("not base64url")
    stripped = text.rstrip("=")
    if any(c in stripped for c in "+/"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))


def host_allowed(host: str, allowed: str) -> bool:
    """``allowed`` is comma-separated; ``.example.com`` also matches its subdomains."""
    entries = [e.strip().lower() for e in allowed.split(",") if e.strip()]
    if not entries:
        return True
    host = host.lower()
    return any(host == e or (e.startswith(".") and host.endswith(e)) for e in entries)


def check_subscription(endpoint: str, p256dh: str, auth: str, config: Mapping[str, Any]) -> None:
    """Raise SubscriptionInvalid unless this is a usable subscription (see invariants)."""
    errors: dict[str, list[str]] = {}
    parts = urlsplit(endpoint or "")
    loopback_ok = bool(config.get("TESTING")) or bool(config.get("PUSH_ALLOW_LOOPBACK_HTTP"))
    if len(endpoint or "") > MAX_ENDPOINT_LENGTH or not parts.hostname or parts.username:
        errors["endpoint"] = ["Not a push service URL."]
    elif parts.scheme == "http" and parts.hostname == LOOPBACK and loopback_ok:
        pass
    elif parts.scheme != "https":
        errors["endpoint"] = ["Must be an https URL."]
    elif not host_allowed(parts.hostname, config.get("PUSH_ENDPOINT_HOSTS", "")):
        errors["endpoint"] = ["Not a known push service."]
    try:
        raw = _unb64url(p256dh)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("length")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except (ValueError, binascii.Error):
        errors.setdefault("keys", []).append(
            "p256dh must be a base64url uncompressed P-256 public key (65 bytes).")
    try:
        if len(_unb64url(auth)) != 16:
            raise ValueError("length")
    except (ValueError, binascii.Error):
        errors.setdefault("keys", []).append("auth must be a base64url 16-byte secret.")
    if errors:
        raise SubscriptionInvalid(errors)


def save_subscription(
    conn: sqlite3.Connection,
    actor: Actor,
    endpoint: str,
    p256dh: str,
    auth: str,
    now: datetime,
) -> dict[str, Any]:
    """Create or update the device's subscription; call inside a write transaction."""
    stamp = iso(now)
    # The device's previous endpoint is dead once it subscribes anew.
    conn.execute(
        "DELETE FROM push_subscriptions WHERE client_id = ? AND endpoint != ?",
        (actor.client_id, endpoint),
    )
    existing = conn.execute(
        "SELECT id FROM push_subscriptions WHERE endpoint = ?", (endpoint,)
    ).fetchone()
    if existing is not None:
        sub_id = existing["id"]
        conn.execute(
            "UPDATE push_subscriptions SET user_id = ?, client_id = ?, p256dh = ?, auth = ?,"
            " updated_at = ? WHERE id = ?",
            (actor.user_id, actor.client_id, p256dh, auth, stamp, sub_id),
        )
    else:
        sub_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO push_subscriptions (id, user_id, client_id, endpoint, p256dh, auth,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (sub_id, actor.user_id, actor.client_id, endpoint, p256dh, auth, stamp, stamp),
        )
    row = conn.execute(f"SELECT {COLUMNS} FROM push_subscriptions WHERE id = ?",
                       (sub_id,)).fetchone()
    return dict(row)


def own_subscriptions(conn: sqlite3.Connection, user_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = ? ORDER BY created_at",
        (user_id,),
    )
    return [dict(r) for r in rows]


def delete_own_subscription(conn: sqlite3.Connection, user_id: str, sub_id: str) -> bool:
    """True if it was the user's and is now gone; False if not theirs (answer 404)."""
    cursor = conn.execute(
        "DELETE FROM push_subscriptions WHERE id = ? AND user_id = ?", (sub_id, user_id)
    )
    return cursor.rowcount == 1
