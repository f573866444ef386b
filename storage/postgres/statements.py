"""The PostgreSQL runner of the statements both backends share (storage/statements.py):
their ``?`` placeholders become psycopg's ``%s``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from storage.statements import Statements

Connection = psycopg.Connection[tuple[Any, ...]]


def _pyformat(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresStatements(Statements):
    IN_IDS = " = ANY(?::text[])"
    ID_ROWS = "unnest(?::text[]) WITH ORDINALITY AS ids(value, key)"
    JSON_PARAM = "?::jsonb"

    def __init__(self, conn: Connection, clock: Callable[[], datetime]) -> None:
        self.conn = conn
        self.clock = clock

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.conn.execute(_pyformat(sql), tuple(params)).rowcount

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(_pyformat(sql), rows)

    def _inserted(self, sql: str, params: Sequence[Any] = ()) -> bool:
        try:
            with self.conn.transaction():  # a savepoint: a refusal leaves the unit usable
                self.conn.execute(_pyformat(sql), tuple(params))
        except psycopg.errors.UniqueViolation:
            return False
        return True

    def _id_list(self, values: Iterable[str]) -> list[str]:
        return list(values)

    def _json_value(self, value: Any) -> Any:
        return value  # psycopg decodes json and jsonb

    def _flag(self, value: bool) -> bool:
        return value

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(_pyformat(sql), tuple(params)).fetchall()

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(_pyformat(sql), tuple(params)).fetchall()
