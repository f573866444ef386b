"""Record queries the same on both backends: the changelog, and the names of users,
devices and teams (runners: storage/statements.py). Queries that read record fields stay
in each backend's module: SQLite's ``json_extract`` and PostgreSQL's ``data->>`` differ,
and each backend's expression indexes are written for its own form."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from storage.records import TeamName, VersionData, VersionMade
from storage.statements import Statements


class RecordQueriesSql(Statements):
    """The shared part of a backend's ``RecordQueries`` (storage/records.py)."""

    NAME_ORDER = "name"
    ID_ORDER = "u.id"

    def _ids(self, values: Iterable[str]) -> Any:
        """An id list parameter (:attr:`IN_IDS`), each id once, sorted."""
        return self._id_list(sorted(set(values)))

    def versions_of(self, entity: str, record_ids: Iterable[str]) -> list[VersionData]:
        rows = self._tuples(
            f"SELECT id, data, at FROM changelog WHERE entity = ? AND id{self.IN_IDS}"
            " ORDER BY id, version", (entity, self._id_list(record_ids)))
        return [VersionData(row[0], self._json_value(row[1]), row[2]) for row in rows]

    def version_made(self, entity: str, record_id: str, version: Any) -> VersionMade | None:
        rows = self._tuples(
            "SELECT author_id, client_id, at FROM changelog WHERE entity = ? AND id = ?"
            " AND version = ?", (entity, record_id, version))
        return VersionMade(*rows[0]) if rows else None

    def first_version_at(self, entity: str, record_id: str) -> str | None:
        found: str | None = self._value(
            "SELECT at FROM changelog WHERE entity = ? AND id = ? AND version = 1",
            (entity, record_id))
        return found

    def user_display_name(self, user_id: str) -> str | None:
        found: str | None = self._value("SELECT display_name FROM users WHERE id = ?",
                                        (user_id,))
        return found

    def device_name(self, client_id: str) -> str | None:
        found: str | None = self._value("SELECT name FROM devices WHERE client_id = ?",
                                        (client_id,))
        return found

    def team_names(self, team_ids: Collection[str]) -> list[TeamName]:
        rows = self._tuples(
            f"SELECT id, name FROM teams WHERE id{self.IN_IDS} ORDER BY {self.NAME_ORDER}",
            (self._ids(team_ids),))
        return [TeamName(row[0], row[1]) for row in rows]

    def active_coordinators_of_team(self, team_id: str) -> list[str]:
        return [row[0] for row in self._tuples(
            "SELECT u.id FROM users u JOIN team_members m ON m.user_id = u.id"
            f" WHERE m.team_id = ? AND u.role = 'coordinator' AND u.active = ?"
            f" ORDER BY {self.ID_ORDER}", (team_id, self._flag(True)))]
