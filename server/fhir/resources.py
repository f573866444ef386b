"""Which Doorstep records each FHIR resource type comes from, read as one actor sees them.

Every read goes through ``sync.get_record``/``list_records`` with the caller's actor:
the one scope (``server/records/access.py``) and redaction
(``server/records/permissions.py``) apply, so a record the caller may not see is
simply absent here, and the caller answers 404.
Resource ids are Doorstep record ids; the CarePlan's id is its patient's id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from server.fhir import care, clinical, patient
from server.fhir.common import Mapper, MappingContext, Resource, Source
from sync import Registry, get_record, list_records
from sync.registry import Actor
from sync.store import Store

# Resource type -> (Doorstep entity, mapper), for types made from one record each.
PER_RECORD: dict[str, tuple[str, Mapper]] = {
    "Patient": ("patient", patient.patient),
    "RelatedPerson": ("carer_link", patient.related_person),
    "Encounter": ("visit", clinical.encounter),
    "Provenance": ("visit", clinical.provenance),
    "QuestionnaireResponse": ("falls_assessment", clinical.questionnaire_response),
    "RiskAssessment": ("falls_assessment", clinical.risk_assessment),
    "Observation": ("activation_score", clinical.observation),
    "Goal": ("goal", care.goal),
    "Flag": ("escalation", care.flag),
}
RESOURCE_TYPES = (*PER_RECORD, "CarePlan")
PAGE = 500


@dataclass(frozen=True)
class RecordReader:
    """Records as one actor may see them (scoped and redacted by the sync engine)."""

    store: Store  # inside one read unit of work: one snapshot for the whole read
    registry: Registry
    actor: Actor

    def one(self, entity: str, record_id: str) -> Source | None:
        found = get_record(self.store, self.registry, self.actor, entity, record_id)
        return Source.of(found) if found is not None else None

    def of_patients(self, entity: str, patient_ids: Iterable[str]) -> Iterator[Source]:
        """Every live record of ``entity`` of these patients the actor may see, by id."""
        ids = list(patient_ids)
        after = None
        while True:
            page = list_records(self.store, self.registry, self.actor, entity,
                                patient_ids=ids, after=after, limit=PAGE)
            yield from (Source.of(item) for item in page.items)
            if page.next_after is None:
                return
            after = page.next_after


def read_resource(reader: RecordReader, ctx: MappingContext, resource_type: str,
                  resource_id: str) -> tuple[str, Resource] | None:
    """(patient id, resource) for one id, or None if absent or not visible."""
    if resource_type == "CarePlan":
        plans = list(care_plans(reader, ctx, [resource_id]))
        return plans[0] if plans else None
    entity, mapper = PER_RECORD[resource_type]
    source = reader.one(entity, resource_id)
    resource = mapper(source, ctx) if source is not None else None
    return (source.patient_id, resource) if source is not None and resource else None


def resources_of(reader: RecordReader, ctx: MappingContext, resource_type: str,
                 patient_ids: Iterable[str]) -> Iterator[tuple[str, Resource]]:
    """(patient id, resource) of one type for these patients, as the reader may see."""
    if resource_type == "CarePlan":
        yield from care_plans(reader, ctx, patient_ids)
        return
    entity, mapper = PER_RECORD[resource_type]
    for source in reader.of_patients(entity, patient_ids):
        resource = mapper(source, ctx)
        if resource:
            yield source.patient_id, resource


def care_plans(reader: RecordReader, ctx: MappingContext,
               patient_ids: Iterable[str]) -> Iterator[tuple[str, Resource]]:
    """One CarePlan per visible patient: their goals and reminders."""
    ids = list(patient_ids)
    goals: dict[str, list[Source]] = defaultdict(list)
    reminders: dict[str, list[Source]] = defaultdict(list)
    for entity, found in (("goal", goals), ("reminder", reminders)):
        for source in reader.of_patients(entity, ids):
            found[source.patient_id].append(source)
    for source in reader.of_patients("patient", ids):
        yield source.id, care.care_plan(source, goals[source.id], reminders[source.id], ctx)
