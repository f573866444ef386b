"""Invites' statements and row mapping, the same on both backends (table ``invites``;
runners: storage/statements.py). Using a code is one conditional UPDATE: on PostgreSQL a
second user of the same code waits on the row lock, then finds ``used_at`` set and
updates nothing."""

from __future__ import annotations

from datetime import datetime

from storage.invites import Invite
from storage.statements import Statements
from storage.timestamps import from_text, maybe, to_text


class InvitesSql(Statements):
    """A backend's ``Invites`` (storage/invites.py), given its runner."""

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
        self._execute(
            "INSERT INTO invites (code_hash, patient_id, role, relationship, consent_basis,"
            " created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (code_hash, patient_id, role, relationship, consent_basis, created_by,
             to_text(self.clock()), to_text(expires_at)),
        )
        made = self.invite(code_hash)
        assert made is not None
        return made

    def invite(self, code_hash: str) -> Invite | None:
        row = self._row("SELECT * FROM invites WHERE code_hash = ?", (code_hash,))
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
        return self._execute(
            "UPDATE invites SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
            (to_text(self.clock()), code_hash),
        ) == 1

    def record_invite_user(self, code_hash: str, user_id: str) -> None:
        self._execute("UPDATE invites SET used_by = ? WHERE code_hash = ?", (user_id, code_hash))
