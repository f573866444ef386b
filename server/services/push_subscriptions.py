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
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from storage import UnitOfWork
from sync.registry import Actor

MAX_ENDPOINT_LENGTH = 2048
LOOPBACK = "127.0.0.1"


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


def save_subscription(uow: UnitOfWork, actor: Actor, endpoint: str, p256dh: str, auth: str,
                      now: datetime) -> dict[str, Any]:
    """Create or update the device's subscription, in the caller's write unit of work."""
    saved = uow.push_subscriptions.save_subscription(actor.user_id, actor.client_id, endpoint,
                                                     p256dh, auth, now)
    return asdict(saved)


def own_subscriptions(uow: UnitOfWork, user_id: str) -> list[dict[str, Any]]:
    return [asdict(sub) for sub in uow.push_subscriptions.subscriptions_of_user(user_id)]


def delete_own_subscription(uow: UnitOfWork, user_id: str, sub_id: str) -> bool:
    """True if it was the user's and is now gone; False if not theirs (answer 404)."""
    return uow.push_subscriptions.delete_subscription_of_user(user_id, sub_id)
