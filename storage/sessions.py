"""Sessions: access and refresh tokens, the refresh grace seal, the login throttle.

Tokens are stored by their SHA-256 only (``token_hash``); the server makes and hashes
them. A token is *live* until it dies (``dead_at``) for a reason: ``rotated`` (a refresh
replaced it), ``logout`` or ``revoked``; a rotated refresh token stays stored so its reuse
can be recognised. The login throttle counts failures, so it holds across every worker
sharing the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Token:
    token_hash: str
    kind: str  # access | refresh
    client_id: str
    user_id: str
    expires_at: datetime
    dead_at: datetime | None
    dead_reason: str | None  # rotated | logout | revoked
    successor_hash: str | None  # a rotated refresh token: the one that replaced it
    successor_sealed: bytes | None  # … and the new pair, sealed (server/services/refresh_grace.py)


@dataclass(frozen=True)
class HeldToken:
    """A token with what decides whether it still works: its device and its user."""

    token: Token
    device_revoked: bool
    device_last_seen_at: datetime
    user_role: str
    user_active: bool


@dataclass(frozen=True)
class LoginFailures:
    """Failed logins from one address since a moment."""

    for_username: int  # with this username (compared without regard to case)
    for_address: int  # with any username


class Sessions(Protocol):
    def add_token(
        self, *, token_hash: str, kind: str, client_id: str, user_id: str, expires_at: datetime
    ) -> None:
        """Store a new live token of a registered device."""
        ...

    def token(self, token_hash: str) -> Token | None: ...

    def held_token(self, token_hash: str, kind: str) -> HeldToken | None:
        """The token of this kind with this hash, with its device and user."""
        ...

    def kill_device_tokens(self, client_id: str, reason: str) -> None:
        """End every live token of the device now, for ``reason``; dead ones stay as
        they died."""
        ...

    def remember_successor(
        self, *, client_id: str, rotated_hash: str, successor_hash: str, sealed: bytes
    ) -> None:
        """Keep on the rotated refresh token which token replaced it and the sealed new
        pair; clear every other seal of the device (only the newest rotation keeps one)."""
        ...

    def record_login_failure(self, username: str, address: str) -> None:
        """Count one failed attempt now."""
        ...

    def login_failures(self, username: str, address: str, since: datetime) -> LoginFailures:
        """Failures from ``address`` strictly after ``since``."""
        ...

    def forget_login_failures(self, username: str, address: str) -> None:
        """A successful login clears that username's failures from that address."""
        ...

    def forget_login_failures_before(self, moment: datetime) -> None:
        """Drop failures too old to matter (keeps the table small)."""
        ...
