"""Users, teams and memberships, and argon2id password hashing.

Staff passwords are at least STAFF_PASSWORD_MIN_LENGTH characters (SPEC §7), not counting
spaces; patients' and carers' at least PUBLIC_PASSWORD_MIN_LENGTH, likewise. Usernames
are case-insensitive. Accounts are deactivated, never deleted: audit rows refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from storage import UnitOfWork
from storage.accounts import Team, TeamNameTaken, UsernameTaken, UserRow

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


def hash_ahead(role: str, password: str) -> str | None:
    """The hash ``create_user`` will store, made before the caller opens its write unit of
    work (argon2 must not hold the write lock); None when the rules refuse the password,
    which ``create_user`` then reports."""
    return None if password_problems(role, password) else hash_password(password)


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


def _user(row: UserRow | None) -> User | None:
    if row is None:
        return None
    return User(
        id=row.id,
        username=row.username,
        role=row.role,
        display_name=row.display_name,
        patient_id=row.patient_id,
        active=row.active,
        team_ids=row.team_ids,
    )


def _team(team: Team) -> dict[str, Any]:
    return {"id": team.id, "name": team.name}


def user_by_id(uow: UnitOfWork, user_id: str) -> User | None:
    return _user(uow.accounts.user_by_id(user_id))


def list_users(uow: UnitOfWork) -> list[User]:
    return [u for u in (_user(row) for row in uow.accounts.list_users()) if u is not None]


def team_by_name(uow: UnitOfWork, name: str) -> dict[str, Any] | None:
    team = uow.accounts.team_by_name(name)
    return _team(team) if team else None


def list_teams(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [_team(team) for team in uow.accounts.list_teams()]


def create_team(uow: UnitOfWork, name: str) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError({"name": ["Give a team name of 1 to 100 characters."]})
    if uow.accounts.team_by_name(name):
        raise AccountError({"name": ["A team with this name exists."]})
    try:
        return _team(uow.accounts.create_team(name))
    except TeamNameTaken as exc:
        raise AccountError({"name": ["A team with this name exists."]}) from exc


def create_user(
    uow: UnitOfWork,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    team_ids: tuple[str, ...] = (),
    patient_id: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create an account; the caller holds a write unit of work.

    ``password_hash`` is ``hash_ahead(role, password)``, made before the caller opened the
    unit of work so the write lock is not held while argon2 works; without it the
    password is hashed here.
    """
    errors: dict[str, list[str]] = {}
    team_ids = tuple(dict.fromkeys(team_ids))  # a team named twice is one membership
    username = username.strip()
    if not (3 <= len(username) <= 64) or not username.replace(".", "").replace(
        "_", ""
    ).replace("-", "").replace("@", "").isalnum():
        errors["username"] = ["Use 3 to 64 letters, digits, '.', '-', '_' or '@'."]
    elif uow.accounts.user_by_username(username):
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
    unknown = uow.accounts.unknown_team_ids(team_ids)
    if unknown:
        errors["team_ids"] = [f"Unknown team {unknown[-1]}."]
    if role in ("patient", "carer") and team_ids:
        errors["team_ids"] = ["Patients and carers do not belong to teams."]
    if errors:
        raise AccountError(errors)
    try:
        row = uow.accounts.create_user(
            username=username,
            password_hash=password_hash or hash_password(password),
            role=role,
            display_name=display_name,
            patient_id=patient_id,
            team_ids=team_ids,
        )
    except UsernameTaken as exc:
        raise AccountError({"username": ["This username is taken."]}) from exc
    user = _user(row)
    assert user is not None
    return user


def set_teams(uow: UnitOfWork, user_id: str, team_ids: tuple[str, ...]) -> None:
    uow.accounts.set_teams(user_id, tuple(dict.fromkeys(team_ids)))


def set_active(uow: UnitOfWork, user_id: str, active: bool) -> None:
    uow.accounts.set_active(user_id, active)
