"""Devices, tokens, login throttling and the authentication of every API request.

- Tokens are opaque random strings; only their SHA-256 is stored.
- Access tokens live ACCESS_TOKEN_MINUTES; refresh tokens REFRESH_TOKEN_DAYS and rotate:
  each refresh kills the presented token. A dead refresh token presented again means it
  was copied, so the whole device is revoked (theft detection, SPEC §3.1) — except the
  immediately previous one within REFRESH_GRACE_SECONDS, a retry after a lost answer,
  which gets the same new pair (server/services/refresh_grace.py). A logged-out session's
  tokens fail without revoking the device.
- The login throttle counts failures in the database, so it holds across every worker:
  per username and address, and per address across usernames. A failed login costs one
  argon2 verification whether or not the username exists.
- A revoked device answers 401 with ``errors: {"device": "revoked"}``; the PWA ends the
  session (docs/pwa.md: unsent changes are kept until their author decides).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request

from server import database
from server.clock import utcnow
from server.http.errors import fail
from server.services import accounts, audit, refresh_grace
from storage import Storage, UnitOfWork
from storage.sessions import Token
from sync.registry import Actor

# Paths under /api/v1 that answer without a token.
PUBLIC_PATHS = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/enrol",
        "/api/v1/openapi.json",
    }
)

class AuthError(Exception):
    """Authentication failed; ``errors`` says why in machine-readable form."""

    def __init__(self, message: str, errors: dict[str, Any] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def device_revoked() -> AuthError:
    """The one answer for a revoked device: the PWA ends the session on ``device: revoked``."""
    return AuthError("This device has been signed out.", {"device": "revoked"})


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def body(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str:
    return request.remote_addr or "unknown"


# -- throttling ---------------------------------------------------------------------


def login_blocked(uow: UnitOfWork, username: str, address: str) -> str | None:
    """Why this attempt is throttled, or None: too many failures for this username from
    this address, or for any usernames from this address (guessing across accounts)."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    failures = uow.sessions.login_failures(username, address, since)
    wait = f"Try again in {config['LOGIN_WINDOW_MINUTES']} minutes."
    if failures.for_username >= config["LOGIN_MAX_FAILURES"]:
        return f"Too many failed logins. {wait}"
    if failures.for_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return f"Too many failed logins from this network address. {wait}"
    return None


def record_login_failure(uow: UnitOfWork, username: str, address: str) -> None:
    uow.sessions.record_login_failure(username, address)
    # Keep the table small: failures older than a day no longer matter.
    uow.sessions.forget_login_failures_before(utcnow() - timedelta(days=1))


# -- tokens and devices -------------------------------------------------------------


def issue_tokens(uow: UnitOfWork, user_id: str, client_id: str) -> TokenPair:
    config = current_app.config
    now = utcnow()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    access_life = timedelta(minutes=config["ACCESS_TOKEN_MINUTES"])
    uow.sessions.add_token(token_hash=token_hash(access), kind="access", client_id=client_id,
                           user_id=user_id, expires_at=now + access_life)
    uow.sessions.add_token(token_hash=token_hash(refresh), kind="refresh", client_id=client_id,
                           user_id=user_id,
                           expires_at=now + timedelta(days=config["REFRESH_TOKEN_DAYS"]))
    return TokenPair(access, refresh, int(access_life.total_seconds()))


def kill_device_tokens(uow: UnitOfWork, client_id: str, reason: str) -> None:
    """End every live token of a device; ``reason`` is rotated, logout or revoked."""
    uow.sessions.kill_device_tokens(client_id, reason)


def register_device(
    uow: UnitOfWork, user_id: str, device_name: str, client_id: str | None
) -> str:
    """Reuse the caller's own live client_id (a re-login keeps its outbox numbering),
    otherwise register a new device."""
    if client_id:
        device = uow.devices.device(client_id)
        if device and device.user_id == user_id and device.revoked_at is None:
            uow.devices.rename_device(client_id, device_name)
            return client_id
    client_id = str(uuid.uuid4())
    uow.devices.register_device(client_id, user_id, device_name)
    return client_id


def revoke_device(uow: UnitOfWork, client_id: str, by: str, reason: str) -> None:
    uow.devices.revoke_device(client_id, by, reason)
    kill_device_tokens(uow, client_id, "revoked")


def dummy_password_hash() -> str:
    """Made once per app (``init_app``) with the configured cost: an unknown username is
    verified against it, so it costs exactly what a known one does."""
    found: str = current_app.extensions["doorstep.dummy_password_hash"]
    return found


def login(
    storage: Storage,
    username: str,
    password: str,
    device_name: str,
    address: str,
    client_id: str | None = None,
) -> tuple[accounts.User, str, TokenPair]:
    """Check credentials and open (or reopen) a device session in units of work of its own.

    Every attempt that is not throttled costs one argon2 verification, known username
    or not, and it runs outside any unit of work, so failed logins cannot queue
    everyone else's writes behind them.
    """
    with storage.read() as uow:
        blocked = login_blocked(uow, username, address)
        row = None if blocked else uow.accounts.user_by_username(username)
    if blocked:
        raise AuthError(blocked, {"throttled": True})
    stored_hash = row.password_hash if row is not None else dummy_password_hash()
    verified = accounts.verify_password(stored_hash, password)
    if row is None or not verified or not row.active:
        with storage.write() as uow:
            record_login_failure(uow, username, address)
        raise AuthError("Username or password is wrong.")
    with storage.write() as uow:
        # Attempts that raced past the first check are held to the limit here.
        blocked = login_blocked(uow, username, address)
        if blocked:
            raise AuthError(blocked, {"throttled": True})
        uow.sessions.forget_login_failures(username, address)
        user = accounts.user_by_id(uow, row.id)
        assert user is not None
        client_id = register_device(uow, user.id, device_name, client_id)
        pair = issue_tokens(uow, user.id, client_id)
        audit.record(uow, None, "login",
                     detail={"user_id": user.id, "client_id": client_id})
    return user, client_id, pair


def refresh(uow: UnitOfWork, refresh_token: str) -> tuple[str, str, TokenPair]:
    """Rotate a refresh token; returns (user_id, client_id, new pair)."""
    held = uow.sessions.held_token(token_hash(refresh_token), "refresh")
    if held is None:
        raise AuthError("Refresh token not recognised.", {"refresh_token": ["Not recognised."]})
    token = held.token
    if held.device_revoked:
        raise device_revoked()
    if token.dead_reason == "rotated":
        replayed = _grace_replay(uow, token, refresh_token)
        if replayed is not None:
            return token.user_id, token.client_id, replayed
        # Only a copy of the token could still present it: revoke the whole device.
        revoke_device(uow, token.client_id, "system", "refresh token reused")
        raise device_revoked()
    if token.dead_at is not None:
        raise AuthError("Signed out. Please log in again.", {"refresh_token": ["Expired."]})
    if token.expires_at <= utcnow() or not held.user_active:
        raise AuthError("Session expired. Please log in again.", {"refresh_token": ["Expired."]})
    kill_device_tokens(uow, token.client_id, "rotated")
    pair = issue_tokens(uow, token.user_id, token.client_id)
    refresh_grace.remember_successor(
        uow, refresh_token, token.token_hash, token.client_id,
        pair.access_token, pair.refresh_token, token_hash(pair.refresh_token),
    )
    return token.user_id, token.client_id, pair


def _grace_replay(uow: UnitOfWork, token: Token, presented: str) -> TokenPair | None:
    """The same new pair for a retry within REFRESH_GRACE_SECONDS (a lost answer)."""
    now = utcnow()
    try:
        opened = refresh_grace.grace_replay(
            uow, token, presented, now, current_app.config["REFRESH_GRACE_SECONDS"]
        )
    except refresh_grace.SessionEnded:
        raise AuthError(
            "Signed out. Please log in again.", {"refresh_token": ["Expired."]}
        ) from None
    if opened is None:
        return None
    access = uow.sessions.token(token_hash(opened["access_token"]))
    assert access is not None
    remaining = access.expires_at - now
    return TokenPair(
        opened["access_token"], opened["refresh_token"], max(0, int(remaining.total_seconds()))
    )


def actor_for_token(storage: Storage, access_token: str) -> Actor:
    """Who holds this access token; marks the device seen (in a unit of work of its own,
    at most every five minutes)."""
    with storage.read() as uow:
        held = uow.sessions.held_token(token_hash(access_token), "access")
        if held is None:
            raise AuthError("Not signed in.", {"token": ["Not recognised."]})
        token = held.token
        if held.device_revoked:
            raise device_revoked()
        if token.dead_at is not None or token.expires_at <= utcnow():
            raise AuthError("Session expired.", {"token": ["Expired."]})
        if not held.user_active:
            raise AuthError("This account is disabled.", {"token": ["Account disabled."]})
        team_ids = frozenset(uow.accounts.team_ids_of(token.user_id))
    _touch_device(storage, token.client_id, held.device_last_seen_at)
    return Actor(token.user_id, held.user_role, token.client_id, team_ids)


def _touch_device(storage: Storage, client_id: str, last_seen: datetime) -> None:
    # At most one write every five minutes per device: "last seen" is for the devices
    # screen, not worth an fsync on every request.
    if last_seen > utcnow() - timedelta(minutes=5):
        return
    with storage.write() as uow:
        uow.devices.mark_seen(client_id)


# -- request authentication ---------------------------------------------------------


def authenticate_request() -> None:
    """before_request: every /api/v1 path except PUBLIC_PATHS needs a bearer token."""
    path = request.path
    if not path.startswith("/api/v1/") or path in PUBLIC_PATHS:
        return
    if path.startswith("/api/v1/docs") or request.method == "OPTIONS":
        return
    if request.routing_exception is not None:
        return  # unknown path or method: let routing answer 404/405
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "Not signed in.", {"token": ["Missing bearer token."]})
    try:
        g.actor = actor_for_token(database.storage(), token.strip())
    except AuthError as exc:
        fail(401, str(exc), exc.errors)


def current_actor() -> Actor:
    """The authenticated user and device of this request."""
    actor: Actor | None = g.get("actor")
    if actor is None:
        fail(401, "Not signed in.", {"token": ["Missing bearer token."]})
    return actor


def require_role(*roles: str) -> Actor:
    """The current actor, if their role may use this endpoint at all; else 403."""
    actor = current_actor()
    if actor.role not in roles:
        fail(403, "Your role cannot use this endpoint.")
    return actor


def init_app(app: Flask) -> None:
    with app.app_context():
        app.extensions["doorstep.dummy_password_hash"] = accounts.hash_password(
            secrets.token_urlsafe(16)
        )
    app.before_request(authenticate_request)
