"""Accounts' statements and row mapping, the same on both backends (tables ``teams``,
``users`` and ``team_members``; runners: storage/statements.py). What differs by dialect
is how names order (the ``*_ORDER`` attributes: PostgreSQL orders as SQLite does)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from storage.accounts import Team, TeamNameTaken, UsernameTaken, UserRow
from storage.statements import Statements
from storage.timestamps import to_text


class AccountsSql(Statements):
    """A backend's ``Accounts`` (storage/accounts.py), given its runner."""

    TEAM_ORDER = "name"
    USER_ORDER = "username"  # the column's NOCASE collation
    TEAM_ID_ORDER = "team_id"

    def create_team(self, name: str) -> Team:
        team = Team(id=str(uuid.uuid4()), name=name)
        if not self._inserted(
            "INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
            (team.id, team.name, to_text(self.clock())),
        ):
            raise TeamNameTaken(name)
        return team

    def team_by_name(self, name: str) -> Team | None:
        row = self._row("SELECT id, name FROM teams WHERE name = ?", (name,))
        return Team(row["id"], row["name"]) if row else None

    def unknown_team_ids(self, team_ids: Sequence[str]) -> list[str]:
        known = {row[0] for row in self._tuples(
            f"SELECT id FROM teams WHERE id{self.IN_IDS}", (self._id_list(team_ids),)
        )}
        return [team_id for team_id in team_ids if team_id not in known]

    def list_teams(self) -> list[Team]:
        rows = self._rows(f"SELECT id, name FROM teams ORDER BY {self.TEAM_ORDER}")
        return [Team(row["id"], row["name"]) for row in rows]

    def create_user(
        self,
        *,
        username: str,
        password_hash: str,
        role: str,
        display_name: str,
        patient_id: str | None = None,
        team_ids: Sequence[str] = (),
    ) -> UserRow:
        user_id = str(uuid.uuid4())
        if not self._inserted(
            "INSERT INTO users (id, username, password_hash, role, display_name,"
            " patient_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, username, password_hash, role, display_name, patient_id,
             to_text(self.clock())),
        ):
            raise UsernameTaken(username)
        self._add_members(user_id, team_ids)
        user = self.user_by_id(user_id)
        assert user is not None
        return user

    def user_by_id(self, user_id: str) -> UserRow | None:
        return self._user("id = ?", user_id)

    def user_by_username(self, username: str) -> UserRow | None:
        return self._user("username = ?", username)

    def list_users(self) -> list[UserRow]:
        rows = self._rows(f"SELECT * FROM users ORDER BY {self.USER_ORDER}")
        return [self._user_row(row) for row in rows]

    def team_ids_of(self, user_id: str) -> tuple[str, ...]:
        rows = self._tuples(
            f"SELECT team_id FROM team_members WHERE user_id = ? ORDER BY {self.TEAM_ID_ORDER}",
            (user_id,),
        )
        return tuple(row[0] for row in rows)

    def set_teams(self, user_id: str, team_ids: Sequence[str]) -> None:
        self._execute("DELETE FROM team_members WHERE user_id = ?", (user_id,))
        self._add_members(user_id, team_ids)

    def set_active(self, user_id: str, active: bool) -> None:
        self._execute("UPDATE users SET active = ? WHERE id = ?", (self._flag(active), user_id))

    def patient_has_active_account(self, patient_id: str) -> bool:
        return bool(self._tuples(
            "SELECT 1 FROM users WHERE patient_id = ? AND active = ?",
            (patient_id, self._flag(True)),
        ))

    def _add_members(self, user_id: str, team_ids: Sequence[str]) -> None:
        self._execute_many(
            "INSERT INTO team_members (team_id, user_id) VALUES (?, ?)",
            [(team_id, user_id) for team_id in dict.fromkeys(team_ids)],
        )

    def _user(self, where: str, value: str) -> UserRow | None:
        row = self._row(f"SELECT * FROM users WHERE {where}", (value,))
        return None if row is None else self._user_row(row)

    def _user_row(self, row: dict[str, Any]) -> UserRow:
        return UserRow(
            id=row["id"],
            username=row["username"],
            password_hash=row["password_hash"],
            role=row["role"],
            display_name=row["display_name"],
            patient_id=row["patient_id"],
            active=bool(row["active"]),
            team_ids=self.team_ids_of(row["id"]),
        )
