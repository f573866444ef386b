"""Devices, tokens, login throttling and the authentication of every API request.

- Tokens are opaque random strings; only their SHA-256 is stored.
- Access tokens live ACCESS_TOKEN_MINUTES; refresh tokens REFRESH_TOKEN_DAYS and rotate:
  each refresh kills the presented token. A dead refresh token presented again means it
  was copied, so the whole device is revoked (theft detection, SPEC §3.1) — except the
  immediately previous one within REFRESH_GRACE_SECONDS, a retry after a lost answer,
  which gets the same new pair (server/refresh_grace.py). A logged-out session's
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
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request

from server import accounts, audit, refresh_grace
from server.clock import iso, utcnow
from server.db import get_db, write_transaction
from server.errors import fail
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


def login_blocked(conn: sqlite3.Connection, username: str, address: str) -> str | None:
    """Why this attempt is throttled, or None: too many failures for this username from
    this address, or for any usernames from this address (guessing across accounts)."""
    config = current_app.config
    since = iso(utcnow() - timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]))
    (for_username, for_address) = conn.execute(
        "SELECT count(*) FILTER (WHERE username = ?), count(*) FROM login_failures"
        " WHERE address = ? AND failed_at > ?",
        (username, address, since),
    ).fetchone()
    wait = f"Try again in {config['LOGIN_WINDOW_MINUTES']} minutes."
    if for_username >= config["LOGIN_MAX_FAILURES"]:
        return f"Too many failed logins. {wait}"
    if for_address >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return f"Too many failed logins from this network address. {wait}"
    return None


def record_login_failure(conn: sqlite3.Connection, username: str, address: str) -> None:
    conn.execute(
        "INSERT INTO login_failures (username, address, failed_at) VALUES (?, ?, ?)",
        (username, address, iso(utcnow())),
    )
    # Keep the table small: failures older than a day no longer matter.
    conn.execute(
        "DELETE FROM login_failures WHERE failed_at < ?", (iso(utcnow() - timedelta(days=1)),)
    )


# -- tokens and devices -------------------------------------------------------------


def issue_tokens(conn: sqlite3.Connection, user_id: str, client_id: str) -> TokenPair:
    config = current_app.config
    now = utcnow()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    access_life = timedelta(minutes=config["ACCESS_TOKEN_MINUTES"])
    conn.executemany(
        "INSERT INTO tokens (token_hash, kind, client_id, user_id, expires_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [
            (token_hash(access), "access", client_id, user_id, iso(now + access_life), iso(now)),
            (
                token_hash(refresh),
                "refresh",
                client_id,
                user_id,
                iso(now + timedelta(days=config["REFRESH_TOKEN_DAYS"])),
                iso(now),
            ),
        ],
    )
    return TokenPair(access, refresh, int(access_life.total_seconds()))


def kill_device_tokens(conn: sqlite3.Connection, client_id: str, reason: str) -> None:
    """End every live token of a device; ``reason`` is rotated, logout or revoked."""
    conn.execute(
        "UPDATE tokens SET dead_at = ?, dead_reason = ? WHERE client_id = ? AND dead_at IS NULL",
        (iso(utcnow()), reason, client_id),
    )


def register_device(
    conn: sqlite3.Connection, user_id: str, device_name: str, client_id: str | None
) -> str:
    """Reuse the caller's own live client_id (a re-login keeps its outbox numbering),
    otherwise register a new device."""
    now = iso(utcnow())
    if client_id:
        row = conn.execute(
            "SELECT user_id, revoked_at FROM devices WHERE client_id = ?", (client_id,)
        ).fetchone()
        if row and row["user_id"] == user_id and row["revoked_at"] is None:
            conn.execute(
                "UPDATE devices SET name = ?, last_seen_at = ? WHERE client_id = ?",
                (device_name, now, client_id),
            )
            return client_id
    client_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO devices (client_id, user_id, name, created_at, last_seen_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (client_id, user_id, device_name, now, now),
    )
    return client_id


def revoke_device(conn: sqlite3.Connection, client_id: str, by: str, reason: str) -> None:
    conn.execute(
        "UPDATE devices SET revoked_at = ?, revoked_by = ?, revoked_reason = ?"
        " WHERE client_id = ? AND revoked_at IS NULL",
        (iso(utcnow()), by, reason, client_id),
    )
    kill_device_tokens(conn, client_id, "revoked")


def dummy_password_hash() -> str:
    """Made once per app (``init_app``) with the configured cost: an unknown username is
    verified against it, so it costs exactly what a known one does."""
    found: str = current_app.extensions["doorstep.dummy_password_hash"]
    return found


def login(
    conn: sqlite3.Connection,
    username: str,
    password: str,
    device_name: str,
    address: str,
    client_id: str | None = None,
) -> tuple[accounts.User, str, TokenPair]:
    """Check credentials and open (or reopen) a device session; call outside a transaction.

    Every attempt that is not throttled costs one argon2 verification, known username
    or not, and it runs without holding the database's write lock, so failed logins
    cannot queue everyone else's writes behind them.
    """
    blocked = login_blocked(conn, username, address)
    if blocked:
        raise AuthError(blocked, {"throttled": True})
    row = accounts.user_row_by_username(conn, username)
    stored_hash = row["password_hash"] if row is not None else dummy_password_hash()
    verified = accounts.verify_password(stored_hash, password)
    if row is None or not verified or not row["active"]:
        with write_transaction(conn):
            record_login_failure(conn, username, address)
        raise AuthError("Username or password is wrong.")
    with write_transaction(conn):
        # Attempts that raced past the first check are held to the limit here.
        blocked = login_blocked(conn, username, address)
        if blocked:
            raise AuthError(blocked, {"throttled": True})
        conn.execute(
            "DELETE FROM login_failures WHERE username = ? AND address = ?", (username, address)
        )
        user = accounts.user_by_id(conn, row["id"])
        assert user is not None
        client_id = register_device(conn, user.id, device_name, client_id)
        pair = issue_tokens(conn, user.id, client_id)
        audit.record(conn, None, "login", detail={"user_id": user.id, "client_id": client_id})
    return user, client_id, pair


def refresh(conn: sqlite3.Connection, refresh_token: str) -> tuple[str, str, TokenPair]:
    """Rotate a refresh token; returns (user_id, client_id, new pair)."""
    row = conn.execute(
        "SELECT t.*, d.revoked_at, u.active FROM tokens t"
        " JOIN devices d ON d.client_id = t.client_id JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.kind = 'refresh'",
        (token_hash(refresh_token),),
    ).fetchone()
    if row is None:
        raise AuthError("Refresh token not recognised.", {"refresh_token": ["Not recognised."]})
    if row["revoked_at"] is not None:
        raise AuthError("This device has been signed out.", {"device": "revoked"})
    if row["dead_reason"] == "rotated":
        replayed = _grace_replay(conn, row, refresh_token)
        if replayed is not None:
            return row["user_id"], row["client_id"], replayed
        # Only a copy of the token could still present it: revoke the whole device.
        revoke_device(conn, row["client_id"], "system", "refresh token reused")
        raise AuthError("This device has been signed out.", {"device": "revoked"})
    if row["dead_at"] is not None:
        raise AuthError("Signed out. Please log in again.", {"refresh_token": ["Expired."]})
    if row["expires_at"] <= iso(utcnow()) or not row["active"]:
        raise AuthError("Session expired. Please log in again.", {"refresh_token": ["Expired."]})
    kill_device_tokens(conn, row["client_id"], "rotated")
    pair = issue_tokens(conn, row["user_id"], row["client_id"])
    refresh_grace.remember_successor(
        conn, refresh_token, row["token_hash"], row["client_id"],
        pair.access_token, pair.refresh_token, token_hash(pair.refresh_token),
    )
    return row["user_id"], row["client_id"], pair


def _grace_replay(conn: sqlite3.Connection, row: Any, presented: str) -> TokenPair | None:
    """The same new pair for a retry within REFRESH_GRACE_SECONDS (a lost answer)."""
    now = utcnow()
    try:
        opened = refresh_grace.grace_replay(
            conn, row, presented, now, current_app.config["REFRESH_GRACE_SECONDS"]
        )
    except refresh_grace.SessionEnded:
        raise AuthError(
            "Signed out. Please log in again.", {"refresh_token": ["Expired."]}
        ) from None
    if opened is None:
        return None
    access = conn.execute(
        "SELECT expires_at FROM tokens WHERE token_hash = ?", (token_hash(opened["access_token"]),)
    ).fetchone()
    remaining = datetime.fromisoformat(access["expires_at"]) - now
    return TokenPair(
        opened["access_token"], opened["refresh_token"], max(0, int(remaining.total_seconds()))
    )


def actor_for_token(conn: sqlite3.Connection, access_token: str) -> Actor:
    row = conn.execute(
        "SELECT t.user_id, t.client_id, t.expires_at, t.dead_at, d.revoked_at, d.last_seen_at,"
        " u.role, u.active FROM tokens t"
        " JOIN devices d ON d.client_id = t.client_id JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.kind = 'access'",
        (token_hash(access_token),),
    ).fetchone()
    if row is None:
        raise AuthError("Not signed in.", {"token": ["Not recognised."]})
    if row["revoked_at"] is not None:
        raise AuthError("This device has been signed out.", {"device": "revoked"})
    if row["dead_at"] is not None or row["expires_at"] <= iso(utcnow()):
        raise AuthError("Session expired.", {"token": ["Expired."]})
    if not row["active"]:
        raise AuthError("This account is disabled.", {"token": ["Account disabled."]})
    team_ids = frozenset(
        r[0] for r in conn.execute(
            "SELECT team_id FROM team_members WHERE user_id = ?", (row["user_id"],)
        )
    )
    _touch_device(conn, row["client_id"], row["last_seen_at"])
    return Actor(row["user_id"], row["role"], row["client_id"], team_ids)


def _touch_device(conn: sqlite3.Connection, client_id: str, last_seen: str) -> None:
    # At most one write every five minutes per device: "last seen" is for the devices
    # screen, not worth an fsync on every request.
    now = utcnow()
    if last_seen > iso(now - timedelta(minutes=5)):
        return
    with write_transaction(conn):
        conn.execute(
            "UPDATE devices SET last_seen_at = ? WHERE client_id = ?", (iso(now), client_id)
        )


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
        g.actor = actor_for_token(get_db(), token.strip())
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
