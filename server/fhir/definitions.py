"""Definitions Doorstep publishes: the falls-assessment Questionnaire and the
CapabilityStatement.

The Questionnaire is built from ``instruments/falls.json`` and ``short_fes_i.json`` —
the same files the server scores with and the PWA shows — so its items, labels and
ranges cannot drift from what nurses answer. Its ``linkId``s are Doorstep's field
names, which QuestionnaireResponse items use.
"""

from __future__ import annotations

from typing import Any

from server.clinical import instruments
from server.fhir.common import FHIR_JSON, FHIR_NDJSON, FHIR_VERSION, Resource, human

FALLS_QUESTIONNAIRE_ID = "falls-assessment"
ITEM_TYPES = {"integer": "integer", "boolean": "boolean", "number": "decimal"}
MULTIFACTORIAL = "multifactorial"

# Resource type -> search parameters it supports (besides _id).
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    "Patient": ("identifier",),
    "RelatedPerson": ("patient",),
    "Encounter": ("patient",),
    "Provenance": ("patient",),
    "QuestionnaireResponse": ("patient",),
    "RiskAssessment": ("patient",),
    "Observation": ("patient",),
    "Goal": ("patient",),
    "Flag": ("patient",),
    "CarePlan": ("patient",),
}


def falls_version() -> str:
    return f"{instruments.load('falls')['version']}+{instruments.load('short_fes_i')['version']}"


def falls_questionnaire_url(canonical_base: str) -> str:
    return f"{canonical_base}/Questionnaire/{FALLS_QUESTIONNAIRE_ID}"


def answer_items() -> list[tuple[str, str, str]]:
    """(linkId, FHIR item type, label) of each scalar answer, in instrument order."""
    falls = instruments.load("falls")
    fes = instruments.load("short_fes_i")
    items = [(name, ITEM_TYPES[spec["type"]], spec["label"])
             for name, spec in falls["answers"].items()]
    items.append(("short_fes_i", "integer", f"{fes['title']}: total score"))
    return items


def multifactorial_domains() -> tuple[list[str], list[str]]:
    spec = instruments.load("falls")["multifactorial"]
    return list(spec["domains"]), list(spec["values"])


def falls_questionnaire(canonical_base: str) -> Resource:
    falls = instruments.load("falls")
    domains, values = multifactorial_domains()
    finding_system = f"{canonical_base}/CodeSystem/multifactorial-finding"
    items: list[dict[str, Any]] = []
    for link_id, item_type, label in answer_items():
        spec = falls["answers"].get(link_id, {})
        item: dict[str, Any] = {"linkId": link_id, "text": label, "type": item_type}
        if spec.get("required"):
            item["required"] = True
        items.append(item)
    items.append({
        "linkId": MULTIFACTORIAL, "text": "Multifactorial assessment", "type": "group",
        "item": [{
            "linkId": f"{MULTIFACTORIAL}.{domain}", "text": human(domain), "type": "choice",
            "answerOption": [{"valueCoding": {"system": finding_system, "code": value,
                                              "display": human(value)}}
                             for value in values],
        } for domain in domains],
    })
    return {
        "resourceType": "Questionnaire",
        "id": FALLS_QUESTIONNAIRE_ID,
        "url": falls_questionnaire_url(canonical_base),
        "version": falls_version(),
        "name": "DoorstepFallsAssessment",
        "title": falls["title"],
        "status": "active",
        "subjectType": ["Patient"],
        "purpose": falls["purpose"],
        "item": items,
    }


def capability_statement(base_url: str, date: str) -> Resource:
    """What this server does: reads and searches, $everything, Bulk Data export."""
    resources = []
    for resource_type, params in SEARCH_PARAMS.items():
        entry: dict[str, Any] = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": "_id", "type": "token"}] + [
                {"name": name, "type": "reference" if name == "patient" else "token"}
                for name in params
            ],
        }
        if resource_type == "Patient":
            entry["profile"] = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"
            entry["operation"] = [{"name": "everything",
                                   "definition": "http://hl7.org/fhir/OperationDefinition/"
                                                 "Patient-everything"}]
        resources.append(entry)
    resources.append({"type": "Questionnaire", "interaction": [{"code": "read"}]})
    resources.append({"type": "Group", "operation": [{
        "name": "export",
        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}]})
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Doorstep",
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"],
        "software": {"name": "Doorstep"},
        "implementation": {"description": "Doorstep FHIR read API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, FHIR_NDJSON],
        "rest": [{
            "mode": "server",
            "security": {"description": "Bearer access token from POST /api/v1/auth/login "
                                        "(refresh with /api/v1/auth/refresh)."},
            "resource": resources,
            "operation": [{"name": "export",
                           "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
                                         "export"}],
        }],
    }
