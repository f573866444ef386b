"""The SQLite runner of the statements both backends share (storage/statements.py)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from storage.statements import Statements


class SqliteStatements(Statements):
    IN_IDS = " IN (SELECT value FROM json_each(?))"
    ID_ROWS = "json_each(?) AS ids"
    JSON_PARAM = "?"

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(sql, tuple(params)).rowcount

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def _inserted(self, sql: str, params: Sequence[Any] = ()) -> bool:
        try:
            self.conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError:
            return False
        return True

    def _id_list(self, values: Iterable[str]) -> str:
        return json.dumps(list(values))

    def _json_value(self, value: Any) -> Any:
        return json.loads(value)

    def _flag(self, value: bool) -> int:
        return int(value)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.conn.cursor()
        cursor.row_factory = sqlite3.Row
        return [dict(row) for row in cursor.execute(sql, tuple(params))]

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, tuple(params)).fetchall()
