"""Teams, users and their memberships: the accounts repository's interface.

Usernames are unique without regard to case, team names exactly. Accounts are never
deleted (audit rows refer to them); ``set_active`` disables one. Passwords arrive here
already hashed: hashing is the server's, and it runs outside any write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True)
class UserRow:
    """An account as stored, with its teams (sorted by id)."""

    id: str
    username: str
    password_hash: str
    role: str
    display_name: str
    patient_id: str | None
    active: bool
    team_ids: tuple[str, ...]


class UsernameTaken(Exception):
    """Another account has this username (compared without regard to case)."""


class TeamNameTaken(Exception):
    """Another team has this name."""


class Accounts(Protocol):
    def create_team(self, name: str) -> Team:
        """A new team with a fresh id; raises ``TeamNameTaken``."""
        ...

    def team_by_name(self, name: str) -> Team | None: ...

    def unknown_team_ids(self, team_ids: Sequence[str]) -> list[str]:
        """Those of ``team_ids`` no team has, in the order given."""
        ...

    def list_teams(self) -> list[Team]:
        """Every team, by name."""
        ...

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
        """A new, active account with a fresh id, member of ``team_ids`` (each once);
        raises ``UsernameTaken``."""
        ...

    def user_by_id(self, user_id: str) -> UserRow | None: ...

    def user_by_username(self, username: str) -> UserRow | None:
        """The account with this username, compared without regard to case."""
        ...

    def list_users(self) -> list[UserRow]:
        """Every account, by username."""
        ...

    def team_ids_of(self, user_id: str) -> tuple[str, ...]:
        """The teams the user belongs to, sorted by id."""
        ...

    def set_teams(self, user_id: str, team_ids: Sequence[str]) -> None:
        """Replace the user's memberships with ``team_ids`` (each once)."""
        ...

    def set_active(self, user_id: str, active: bool) -> None: ...

    def patient_has_active_account(self, patient_id: str) -> bool:
        """Whether an active account is linked to this patient record."""
        ...
