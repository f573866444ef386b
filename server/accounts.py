"""Users, teams and memberships, and argon2id password hashing.

Staff passwords are at least STAFF_PASSWORD_MIN_LENGTH characters (SPEC §7), not counting
spaces; patients' and carers' at least PUBLIC_PASSWORD_MIN_LENGTH, likewise. Usernames
are case-insensitive. Accounts are deactivated, never deleted: audit rows refer to them.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from server.clock import iso, utcnow

ROLES = ("nurse", "coordinator", "patient", "carer", "admin")
STAFF_ROLES = ("nurse", "coordinator", "admin")


class AccountError(Exception):
    """An account could not be created or changed; ``errors`` maps field to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("account error")
        self.errors = errors


@dataclass(frozen=True)
class User:
    id: str
    username: str
    role: str
    display_name: str
    patient_id: str | None
    active: bool
    team_ids: tuple[str, ...]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "display_name": self.display_name,
            "team_ids": list(self.team_ids),
        }


def hasher() -> PasswordHasher:
    # argon2id (the library default type) with cost from configuration.
    return PasswordHasher(
        time_cost=current_app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=current_app.config["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=1,
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(role: str, password: str) -> list[str]:
    """Length rules; spaces do not count towards the minimum (ten spaces are no password)."""
    key = "STAFF_PASSWORD_MIN_LENGTH" if role in STAFF_ROLES else "PUBLIC_PASSWORD_MIN_LENGTH"
    minimum = current_app.config[key]
    if len(password) < minimum:
        return [f"Must be at least {minimum} characters."]
    if len("".join(password.split())) < minimum:
        return [f"Must have at least {minimum} characters that are not spaces."]
    if len(password) > 1024:
        return ["Must be at most 1024 characters."]
    return []


def _team_ids(conn: sqlite3.Connection, user_id: str) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT team_id FROM team_members WHERE user_id = ? ORDER BY team_id", (user_id,)
    )
    return tuple(row[0] for row in rows)


def _user(conn: sqlite3.Connection, row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        display_name=row["display_name"],
        patient_id=row["patient_id"],
        active=bool(row["active"]),
        team_ids=_team_ids(conn, row["id"]),
    )


def user_by_id(conn: sqlite3.Connection, user_id: str) -> User | None:
    return _user(conn, conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())


def user_row_by_username(conn: sqlite3.Connection, username: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM users WHERE username = ?", (username,)
    ).fetchone()
    return row


def list_users(conn: sqlite3.Connection) -> list[User]:
    rows = conn.execute("SELECT * FROM users ORDER BY username").fetchall()
    return [u for u in (_user(conn, row) for row in rows) if u is not None]


def team_by_name(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT id, name FROM teams WHERE name = ?", (name,)).fetchone()
    return dict(row) if row else None


def list_teams(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute("SELECT id, name FROM teams ORDER BY name")]


def create_team(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError({"name": ["Give a team name of 1 to 100 characters."]})
    if team_by_name(conn, name):
        raise AccountError({"name": ["A team with this name exists."]})
    team = {"id": str(uuid.uuid4()), "name": name}
    conn.execute(
        "INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)",
        (team["id"], name, iso(utcnow())),
    )
    return team


def create_user(
    conn: sqlite3.Connection,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    team_ids: tuple[str, ...] = (),
    patient_id: str | None = None,
) -> User:
    """Create an account; the caller holds a write transaction."""
    errors: dict[str, list[str]] = {}
    team_ids = tuple(dict.fromkeys(team_ids))  # a team named twice is one membership
    username = username.strip()
    if not (3 <= len(username) <= 64) or not username.replace(".", "").replace(
        "_", ""
    ).replace("-", "").replace("@", "").isalnum():
        errors["username"] = ["Use 3 to 64 letters, digits, '.', '-', '_' or '@'."]
    elif user_row_by_username(conn, username):
        errors["username"] = ["This username is taken."]
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    else:
        problems = password_problems(role, password)
        if problems:
            errors["password"] = problems
    display_name = display_name.strip()
    if not display_name or len(display_name) > 100:
        errors["display_name"] = ["Give a name of 1 to 100 characters."]
    for team_id in team_ids:
        if not conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone():
            errors["team_ids"] = [f"Unknown team {team_id}."]
    if role in ("patient", "carer") and team_ids:
        errors["team_ids"] = ["Patients and carers do not belong to teams."]
    if errors:
        raise AccountError(errors)
    user_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO users (id, username, password_hash, role, display_name, patient_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, username, hash_password(password), role, display_name, patient_id,
         iso(utcnow())),
    )
    conn.executemany(
        "INSERT INTO team_members (team_id, user_id) VALUES (?, ?)",
        [(team_id, user_id) for team_id in team_ids],
    )
    user = user_by_id(conn, user_id)
    assert user is not None
    return user


def set_teams(conn: sqlite3.Connection, user_id: str, team_ids: tuple[str, ...]) -> None:
    team_ids = tuple(dict.fromkeys(team_ids))  # a team named twice is one membership
    conn.execute("DELETE FROM team_members WHERE user_id = ?", (user_id,))
    conn.executemany(
        "INSERT INTO team_members (team_id, user_id) VALUES (?, ?)",
        [(team_id, user_id) for team_id in team_ids],
    )


def set_active(conn: sqlite3.Connection, user_id: str, active: bool) -> None:
    conn.execute("UPDATE users SET active = ? WHERE id = ?", (int(active), user_id))
