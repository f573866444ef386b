"""Sessions' statements and row mapping, the same on both backends (tables ``tokens`` and
``login_failures``; runners: storage/statements.py). PostgreSQL compares throttle
usernames under its ``nocase`` collation, as SQLite's NOCASE column does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.sessions import HeldToken, LoginFailures, Token
from storage.statements import Statements
from storage.timestamps import from_text, maybe, to_text


class SessionsSql(Statements):
    """A backend's ``Sessions`` (storage/sessions.py), given its runner."""

    def add_token(
        self, *, token_hash: str, kind: str, client_id: str, user_id: str, expires_at: datetime
    ) -> None:
        self._execute(
            "INSERT INTO tokens (token_hash, kind, client_id, user_id, expires_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, kind, client_id, user_id, to_text(expires_at), to_text(self.clock())),
        )

    def token(self, token_hash: str) -> Token | None:
        row = self._row("SELECT * FROM tokens WHERE token_hash = ?", (token_hash,))
        return None if row is None else _token(row)

    def held_token(self, token_hash: str, kind: str) -> HeldToken | None:
        row = self._row(
            "SELECT t.*, d.revoked_at, d.last_seen_at, u.role, u.active FROM tokens t"
            " JOIN devices d ON d.client_id = t.client_id JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.kind = ?",
            (token_hash, kind),
        )
        if row is None:
            return None
        return HeldToken(
            token=_token(row),
            device_revoked=row["revoked_at"] is not None,
            device_last_seen_at=from_text(row["last_seen_at"]),
            user_role=row["role"],
            user_active=bool(row["active"]),
        )

    def kill_device_tokens(self, client_id: str, reason: str) -> None:
        self._execute(
            "UPDATE tokens SET dead_at = ?, dead_reason = ?"
            " WHERE client_id = ? AND dead_at IS NULL",
            (to_text(self.clock()), reason, client_id),
        )

    def remember_successor(
        self, *, client_id: str, rotated_hash: str, successor_hash: str, sealed: bytes
    ) -> None:
        self._execute(
            "UPDATE tokens SET successor_sealed = NULL WHERE client_id = ?"
            " AND successor_sealed IS NOT NULL",
            (client_id,),
        )
        self._execute(
            "UPDATE tokens SET successor_hash = ?, successor_sealed = ? WHERE token_hash = ?",
            (successor_hash, sealed, rotated_hash),
        )

    def record_login_failure(self, username: str, address: str) -> None:
        self._execute(
            "INSERT INTO login_failures (username, address, failed_at) VALUES (?, ?, ?)",
            (username, address, to_text(self.clock())),
        )

    def login_failures(self, username: str, address: str, since: datetime) -> LoginFailures:
        (for_username, for_address), = self._tuples(
            "SELECT count(*) FILTER (WHERE username = ?), count(*) FROM login_failures"
            " WHERE address = ? AND failed_at > ?",
            (username, address, to_text(since)),
        )
        return LoginFailures(for_username=int(for_username), for_address=int(for_address))

    def forget_login_failures(self, username: str, address: str) -> None:
        self._execute(
            "DELETE FROM login_failures WHERE username = ? AND address = ?", (username, address)
        )

    def forget_login_failures_before(self, moment: datetime) -> None:
        self._execute("DELETE FROM login_failures WHERE failed_at < ?", (to_text(moment),))


def _token(row: dict[str, Any]) -> Token:
    sealed = row["successor_sealed"]
    return Token(
        token_hash=row["token_hash"],
        kind=row["kind"],
        client_id=row["client_id"],
        user_id=row["user_id"],
        expires_at=from_text(row["expires_at"]),
        dead_at=maybe(row["dead_at"]),
        dead_reason=row["dead_reason"],
        successor_hash=row["successor_hash"],
        successor_sealed=None if sealed is None else bytes(sealed),
    )
