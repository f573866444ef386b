"""What every mapped resource shares: context, references, codings and metadata.

A mapper takes one record as the caller may see it (``Source``: the wire form of
``sync.RecordChange``) and a ``MappingContext``, and returns a resource dict or None
(nothing to emit, e.g. an unsigned visit has no Provenance). Fields a role may not see
are simply absent from ``Source.data``, so mappers treat every field as optional.

Doorstep's own codes (visit types, escalation rules, PAM) are published under
``FHIR_CANONICAL_BASE`` (configuration), because no national code system holds them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from storage.records import RecordQueries
from sync import RecordChange

Resource = dict[str, Any]
FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"
UK_CORE_PATIENT = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"


@dataclass(frozen=True)
class Source:
    """One Doorstep record as the caller may see it."""

    entity: str
    id: str
    version: int
    updated_at: str
    data: dict[str, Any]

    @classmethod
    def of(cls, change: RecordChange) -> Source:
        return cls(change.entity, change.id, change.version, change.updated_at,
                   dict(change.data))

    @property
    def patient_id(self) -> str:
        return self.id if self.entity == "patient" else str(self.data.get("patient_id"))

    @property
    def voided(self) -> bool:
        """Append-only records marked entered in error (SPEC §2) map to entered-in-error."""
        return bool(self.data.get("entered_in_error"))


@dataclass
class MappingContext:
    """Settings and look-ups a mapper needs beyond the record itself."""

    canonical_base: str
    nhs_number_verification: str
    records: RecordQueries  # the reading unit of work's (names, first versions)
    _names: dict[str, str | None] = field(default_factory=dict)

    def system(self, name: str) -> str:
        """The URL of one of Doorstep's own code systems."""
        return f"{self.canonical_base}/CodeSystem/{name}"

    def user_display(self, user_id: str | None) -> str | None:
        """A staff member's or carer's display name (cached for one mapping run)."""
        if not user_id:
            return None
        if user_id not in self._names:
            self._names[user_id] = self.records.user_display_name(user_id)
        return self._names[user_id]

    def created_at(self, entity: str, record_id: str) -> str | None:
        """When the server stored a record's first version (escalations: when raised)."""
        return self.records.first_version_at(entity, record_id)

    def user_reference(self, user_id: str | None) -> Resource | None:
        """A reference to a Doorstep user by identifier (Doorstep publishes no Practitioner)."""
        if not user_id:
            return None
        ref: Resource = {"identifier": {"system": self.system("user-id"), "value": user_id}}
        display = self.user_display(user_id)
        if display:
            ref["display"] = display
        return ref


Mapper = Callable[[Source, MappingContext], Resource | None]


def reference(resource_type: str, resource_id: str | None) -> Resource | None:
    return {"reference": f"{resource_type}/{resource_id}"} if resource_id else None


def coding(system: str, code: str, display: str | None = None) -> Resource:
    found: Resource = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: Resource, text: str | None = None) -> Resource:
    found: Resource = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


def base(resource_type: str, source: Source, *, resource_id: str | None = None,
         profile: str | None = None) -> Resource:
    """resourceType, id and meta (version and last update from the server's record)."""
    meta: Resource = {"versionId": str(source.version), "lastUpdated": source.updated_at}
    if profile:
        meta["profile"] = [profile]
    return {"resourceType": resource_type, "id": resource_id or source.id, "meta": meta}


def compact(resource: Resource) -> Resource:
    """Drop keys whose value is None or empty: FHIR forbids empty elements."""
    return {k: v for k, v in resource.items() if v is not None and v != [] and v != {}}


def human(code: str) -> str:
    """A Doorstep code as words for a display text ("wound_care" -> "Wound care")."""
    return code.replace("_", " ").capitalize()
