"""Writing one Bulk Data export: a consistent snapshot as NDJSON, one file per type.

Invariants:
- ``transactionTime`` is read while holding the write lock (an empty write unit of work),
  so no write is in flight: every change committed later has ``updated_at`` at or after it.
  The records are then read in one read transaction (one WAL snapshot). A change that
  commits between the two is exported now *and* again by the next ``_since`` export —
  a duplicate a warehouse absorbs by id — but never lost.
- ``_since`` selects resources whose ``meta.lastUpdated`` (the server's ``updated_at``,
  never a device's clock) is at or after it.
- the export is read as the requesting coordinator (their scope and redaction), narrowed
  to one team for Group exports; patients with ``sharing_objection`` are left out whole,
  and the RiskAssessments of patients with ``risk_profiling_opt_out``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from server.fhir.common import MappingContext, Resource
from server.fhir.resources import RecordReader, resources_of
from server.records import engine as records
from storage import Storage
from sync.registry import Actor
from sync.scope import visible_patient_ids

# Left out of exports for patients who opted out of risk profiling (SPEC §1): a
# warehouse is where population risk profiling happens. Direct reads still show them.
RISK_TYPES = frozenset({"RiskAssessment"})
# How often (in resources written) the writer reports progress and checks for a cancel.
CHECK_EVERY = 500


class ExportCancelled(Exception):
    """The job was cancelled (DELETE) or taken over while it was being written."""


@dataclass(frozen=True)
class ExportPlan:
    actor: Actor
    types: tuple[str, ...]
    since: str | None
    canonical_base: str
    nhs_number_verification: str
    folder: Path


def snapshot_time(storage: Storage, now: Callable[[], str]) -> str:
    """The export's transactionTime, read with no write in flight."""
    with storage.write():
        return now()


def exportable_patients(reader: RecordReader) -> tuple[list[str], set[str]]:
    """Patients the reader may see who do not object to sharing (SPEC §1), and those of
    them who opted out of risk profiling."""
    ids = visible_patient_ids(reader.store, reader.registry, reader.actor)
    shared = [source for source in reader.of_patients("patient", ids)
              if not source.data.get("sharing_objection")]
    opted_out = {source.id for source in shared if source.data.get("risk_profiling_opt_out")}
    return sorted(source.id for source in shared), opted_out


def write_export(storage: Storage, plan: ExportPlan,
                 report: Callable[[str], None]) -> tuple[dict[str, int], set[str]]:
    """Write every file of the plan; returns (count per type, patients exported).

    Every record is read in one read unit of work (one snapshot). ``report(progress)``
    is called now and then (it writes in a unit of its own); it raises ExportCancelled
    to stop.
    """
    plan.folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    exported: set[str] = set()
    with storage.read() as uow:
        reader = RecordReader(uow.store, records.registry(), plan.actor)
        ctx = MappingContext(plan.canonical_base, plan.nhs_number_verification, uow.records)
        patients, risk_opted_out = exportable_patients(reader)
        for number, resource_type in enumerate(plan.types, start=1):
            report(f"{resource_type} ({number} of {len(plan.types)} types)")
            included = [p for p in patients if p not in risk_opted_out] \
                if resource_type in RISK_TYPES else patients
            counts[resource_type] = _write_type(
                plan.folder / f"{resource_type}.ndjson",
                resources_of(reader, ctx, resource_type, included),
                plan.since, exported, resource_type, report)
    return counts, exported


def _write_type(path: Path, found: Iterable[tuple[str, Resource]], since: str | None,
                exported: set[str], resource_type: str, report: Callable[[str], None]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for patient_id, resource in found:
            updated = resource.get("meta", {}).get("lastUpdated")
            if since is not None and (updated is None or updated < since):
                continue
            out.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            exported.add(patient_id)
            count += 1
            if count % CHECK_EVERY == 0:
                report(f"{resource_type}: {count} written")
    if count == 0:
        path.unlink()
    return count
