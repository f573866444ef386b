"""Invites on PostgreSQL: table ``invites`` (migration 0001). Using a code is one
conditional UPDATE: a second user of the same code waits on the row lock, then finds
``used_at`` set and updates nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.invites import Invite
from storage.timestamps import from_text, maybe, to_text


class PostgresInvites:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def create_invite(
        self,
        *,
        code_hash: str,
        patient_id: str,
        role: str,
        created_by: str,
        expires_at: datetime,
        relationship: str | None = None,
        consent_basis: str | None = None,
    ) -> Invite:
        self.conn.execute(
            "INSERT INTO invites (code_hash, patient_id, role, relationship, consent_basis,"
            " created_by, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (code_hash, patient_id, role, relationship, consent_basis, created_by,
             to_text(self.clock()), to_text(expires_at)),
        )
        made = self.invite(code_hash)
        assert made is not None
        return made

    def invite(self, code_hash: str) -> Invite | None:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(
                "SELECT * FROM invites WHERE code_hash = %s", (code_hash,)
            ).fetchone()
        if row is None:
            return None
        return Invite(
            code_hash=row["code_hash"],
            patient_id=row["patient_id"],
            role=row["role"],
            relationship=row["relationship"],
            consent_basis=row["consent_basis"],
            created_by=row["created_by"],
            created_at=from_text(row["created_at"]),
            expires_at=from_text(row["expires_at"]),
            used_at=maybe(row["used_at"]),
            used_by=row["used_by"],
        )

    def use_invite(self, code_hash: str) -> bool:
        cursor = self.conn.execute(
            "UPDATE invites SET used_at = %s WHERE code_hash = %s AND used_at IS NULL",
            (to_text(self.clock()), code_hash),
        )
        return cursor.rowcount == 1

    def record_invite_user(self, code_hash: str, user_id: str) -> None:
        self.conn.execute(
            "UPDATE invites SET used_by = %s WHERE code_hash = %s", (user_id, code_hash)
        )
