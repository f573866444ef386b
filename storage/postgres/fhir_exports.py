"""Bulk export jobs on PostgreSQL: tables ``fhir_exports`` and ``fhir_export_outputs``
(migration 0008). The statements both backends share, and why a claim is safe between
workers, are storage/fhir_exports_sql.py's."""

from __future__ import annotations

from storage.fhir_exports_sql import FhirExportsSql
from storage.postgres.statements import PostgresStatements


class PostgresFhirExports(FhirExportsSql, PostgresStatements):
    def outputs(self, export_id: str) -> dict[str, int]:
        """In the order of the job's types — the order its worker writes the files (the
        table keeps no insertion order); a type the job did not list comes last."""
        rows = self._tuples(
            "SELECT o.resource_type, o.count FROM fhir_export_outputs o"
            " JOIN fhir_exports e ON e.id = o.export_id WHERE o.export_id = ?"
            " ORDER BY array_position(ARRAY(SELECT jsonb_array_elements_text(e.types)),"
            " o.resource_type) NULLS LAST, o.resource_type COLLATE \"C\"", (export_id,))
        return {row[0]: row[1] for row in rows}

    def expire_finished_before(self, cutoff: str) -> list[str]:
        rows = self._tuples(
            "UPDATE fhir_exports SET status = 'expired'"
            " WHERE status IN ('done', 'failed') AND finished_at < ? RETURNING id",
            (cutoff,))
        return [str(row[0]) for row in rows]
