"""How a repository runs a statement that SQLite and PostgreSQL share, written once.

A shared statement is written with ``?`` placeholders; each backend's runner
(storage/sqlite/statements.py, storage/postgres/statements.py) says how to run it
(PostgreSQL turns ``?`` into ``%s``). A repository whose statements are partly the same on
both backends keeps those, and its row mapping, in ``storage/<name>_sql.py`` on top of
:class:`Statements`; each backend's class adds its runner and what differs by dialect
(JSON, id lists, collations, error types). Shared statements contain no ``%`` and no ``?``
but their placeholders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any


class Statements:
    """The runner interface of a repository over one unit of work's connection."""

    clock: Callable[[], datetime]

    IN_IDS: str
    """``column`` + this: the column's value is one of :meth:`_id_list`'s (one parameter,
    so a statement's text never depends on a count)."""

    def _id_list(self, values: Iterable[str]) -> Any:
        """The one parameter of :attr:`IN_IDS`, in the order given."""
        raise NotImplementedError

    ID_ROWS: str
    """A FROM item: :meth:`_id_list`'s one parameter as rows ``ids(value, key)``, ``key``
    giving the order of the list."""

    JSON_PARAM: str
    """The placeholder of a JSON column's value, given as JSON text."""

    def _json_value(self, value: Any) -> Any:
        """A JSON column's value as read, decoded (SQLite gives the text)."""
        raise NotImplementedError

    def _flag(self, value: bool) -> Any:
        """A boolean column's value (SQLite stores 1/0)."""
        raise NotImplementedError

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; its row count."""
        raise NotImplementedError

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (none: nothing runs)."""
        raise NotImplementedError

    def _inserted(self, sql: str, params: Sequence[Any] = ()) -> bool:
        """Run one INSERT; False when a unique key refused it (the unit of work stays
        usable)."""
        raise NotImplementedError

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A query's rows, each a dict by column name."""
        raise NotImplementedError

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A query's rows, each a tuple of its columns."""
        raise NotImplementedError

    def _row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        """A query's first row by column name, or None."""
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """A query's first column of its first row, or None."""
        rows = self._tuples(sql, params)
        return rows[0][0] if rows else None
