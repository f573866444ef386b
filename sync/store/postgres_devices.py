"""The PostgreSQL store's per-device sync state: each device's last accepted mutation id
(row-locked in write transactions) and the stored results of its mutations.

A mixin for :class:`sync.store.postgres.PostgresStore`, which provides the connection,
the query helpers and ``_serialise`` (the changelog lock, taken before these writes).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sync.store.postgres_transactions import StoreParts


class PostgresDevices(StoreParts):
    """``sync_clients`` and ``sync_results`` over ``self.conn``."""

    def last_mutation_id(self, client_id: str) -> int:
        """In a write transaction the device's row stays locked (``FOR UPDATE``) until
        commit, so two pushes of one device never both accept the same mutation."""
        sql = "SELECT last_mutation_id FROM sync_clients WHERE client_id = %s"
        if self._serialise():
            sql += " FOR UPDATE"
        row = self._row(sql, (client_id,), lock=False)
        return int(row[0]) if row else 0

    def set_last_mutation_id(self, client_id: str, user_id: str, last: int) -> None:
        self._exec(
            "INSERT INTO sync_clients (client_id, user_id, last_mutation_id, updated_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (client_id) DO UPDATE SET"
            " last_mutation_id = excluded.last_mutation_id, updated_at = excluded.updated_at",
            (client_id, user_id, last, self.now()),
        )

    def stored_results(self, client_id: str, mutation_ids: Collection[int]) -> dict[int, str]:
        if not mutation_ids:
            return {}
        rows = self._rows(
            "SELECT mutation_id, result FROM sync_results WHERE client_id = %s"
            " AND mutation_id = ANY(%s)",
            (client_id, sorted(mutation_ids)),
        )
        return {int(row[0]): row[1] for row in rows}

    def store_results(self, client_id: str, results: Sequence[tuple[int, str]]) -> None:
        self._serialise()
        with self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sync_results (client_id, mutation_id, result) VALUES (%s, %s, %s)",
                [(client_id, mutation_id, result) for mutation_id, result in results],
            )
