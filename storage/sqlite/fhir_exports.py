"""Bulk export jobs on SQLite: tables ``fhir_exports`` and ``fhir_export_outputs``
(migration 0008). The statements both backends share are storage/fhir_exports_sql.py's."""

from __future__ import annotations

from storage.fhir_exports_sql import FhirExportsSql
from storage.sqlite.statements import SqliteStatements


class SqliteFhirExports(FhirExportsSql, SqliteStatements):
    def outputs(self, export_id: str) -> dict[str, int]:
        rows = self._tuples(
            "SELECT resource_type, count FROM fhir_export_outputs WHERE export_id = ?"
            " ORDER BY rowid", (export_id,))
        return {row[0]: row[1] for row in rows}

    def expire_finished_before(self, cutoff: str) -> list[str]:
        ids = [row[0] for row in self._tuples(
            "SELECT id FROM fhir_exports WHERE status IN ('done','failed')"
            " AND finished_at < ?", (cutoff,))]
        self._execute_many("UPDATE fhir_exports SET status = 'expired' WHERE id = ?",
                           [(i,) for i in ids])
        return ids
