"""Accounts on PostgreSQL: tables ``teams``, ``users`` and ``team_members`` (migration
0001; usernames under the case-insensitive ``nocase`` collation, as SQLite's NOCASE)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.accounts import Team, TeamNameTaken, UsernameTaken, UserRow
from storage.timestamps import to_text

# SQLite's NOCASE orders by ASCII lower case; usernames are ASCII.
_BY_USERNAME = 'lower(username) COLLATE "C"'


class PostgresAccounts:
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]],
                 clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def create_team(self, name: str) -> Team:
        team = Team(id=str(uuid.uuid4()), name=name)
        try:
            with self.conn.transaction():  # a savepoint: a refusal leaves the unit usable
                self.conn.execute(
                    "INSERT INTO teams (id, name, created_at) VALUES (%s, %s, %s)",
                    (team.id, team.name, to_text(self.clock())),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise TeamNameTaken(name) from exc
        return team

    def team_by_name(self, name: str) -> Team | None:
        row = self.conn.execute("SELECT id, name FROM teams WHERE name = %s", (name,)).fetchone()
        return Team(row[0], row[1]) if row else None

    def unknown_team_ids(self, team_ids: Sequence[str]) -> list[str]:
        known = {
            row[0]
            for row in self.conn.execute(
                "SELECT id FROM teams WHERE id = ANY(%s)", (list(team_ids),)
            )
        }
        return [team_id for team_id in team_ids if team_id not in known]

    def list_teams(self) -> list[Team]:
        rows = self.conn.execute('SELECT id, name FROM teams ORDER BY name COLLATE "C"')
        return [Team(row[0], row[1]) for row in rows]

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
        try:
            with self.conn.transaction():
                self.conn.execute(
                    "INSERT INTO users (id, username, password_hash, role, display_name,"
                    " patient_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (user_id, username, password_hash, role, display_name, patient_id,
                     to_text(self.clock())),
                )
        except psycopg.errors.UniqueViolation as exc:
            raise UsernameTaken(username) from exc
        self._add_members(user_id, team_ids)
        user = self.user_by_id(user_id)
        assert user is not None
        return user

    def user_by_id(self, user_id: str) -> UserRow | None:
        return self._user("id = %s", user_id)

    def user_by_username(self, username: str) -> UserRow | None:
        return self._user("username = %s", username)

    def list_users(self) -> list[UserRow]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(f"SELECT * FROM users ORDER BY {_BY_USERNAME}").fetchall()
        return [self._row(row) for row in rows]

    def team_ids_of(self, user_id: str) -> tuple[str, ...]:
        rows = self.conn.execute(
            'SELECT team_id FROM team_members WHERE user_id = %s ORDER BY team_id COLLATE "C"',
            (user_id,),
        )
        return tuple(row[0] for row in rows)

    def set_teams(self, user_id: str, team_ids: Sequence[str]) -> None:
        self.conn.execute("DELETE FROM team_members WHERE user_id = %s", (user_id,))
        self._add_members(user_id, team_ids)

    def set_active(self, user_id: str, active: bool) -> None:
        self.conn.execute("UPDATE users SET active = %s WHERE id = %s", (active, user_id))

    def patient_has_active_account(self, patient_id: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM users WHERE patient_id = %s AND active", (patient_id,)
        ).fetchone()
        return row is not None

    def _add_members(self, user_id: str, team_ids: Sequence[str]) -> None:
        members = [(team_id, user_id) for team_id in dict.fromkeys(team_ids)]
        if members:
            with self.conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO team_members (team_id, user_id) VALUES (%s, %s)", members
                )

    def _user(self, where: str, value: str) -> UserRow | None:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            row = cursor.execute(f"SELECT * FROM users WHERE {where}", (value,)).fetchone()
        return None if row is None else self._row(row)

    def _row(self, row: dict[str, Any]) -> UserRow:
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
