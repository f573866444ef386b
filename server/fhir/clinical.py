"""Visits, falls assessments and activation scores as FHIR resources.

- visit -> Encounter (class "home health"); a signed visit also -> Provenance (the
  nurse's signature attests the record). Visit notes and interventions are not mapped:
  R4 Encounter has no element for free-text notes (see docs/fhir.md).
- falls_assessment -> QuestionnaireResponse (the answers, against Doorstep's published
  Questionnaire) and RiskAssessment (the World Falls Guidelines 2022 *stratification*,
  with its reasons and recommended actions — not a prediction: NICE NG249 advises
  against falls-prediction tools, so no probability is ever given).
- activation_score -> Observation: the score and level from the licensed PAM tool; the
  licensed items are never held, so never emitted.

Voided records (``entered_in_error``) keep their id and map to ``entered-in-error``, so
a receiver that already holds them learns they were withdrawn.
"""

from __future__ import annotations

from typing import Any

from server.fhir.common import (
    MappingContext,
    Resource,
    Source,
    base,
    coding,
    compact,
    concept,
    human,
    reference,
)
from server.fhir.definitions import (
    MULTIFACTORIAL,
    answer_items,
    falls_questionnaire_url,
    falls_version,
)

V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_STATUS = {
    "scheduled": "planned",
    "in_progress": "in-progress",
    "completed": "finished",
    # The nurse went but could not get in: no encounter took place.
    "no_access": "cancelled",
    "cancelled": "cancelled",
}
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
# World Falls Guidelines strata -> the nearest qualitative risk code; the stratum itself
# is given in Doorstep's own coding beside it.
STRATUM_RISK = {"low": "low", "intermediate": "moderate", "high": "high"}
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
STRATIFICATION_TEXT = (
    "Falls risk stratification (World Falls Guidelines 2022). A stratification to match "
    "the intensity of falls intervention to need, not a prediction of falls."
)


def encounter(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    started = data.get("started_at")
    period = (compact({"start": started, "end": data.get("ended_at")}) if started
              else compact({"start": data.get("scheduled_start"),
                            "end": data.get("scheduled_end")}))
    visit_type = data.get("visit_type")
    participant = ctx.user_reference(data.get("assigned_to"))
    return compact({
        **base("Encounter", source),
        "status": ENCOUNTER_STATUS.get(data.get("status") or "scheduled", "unknown"),
        "class": coding(V3_ACT_CODE, "HH", "home health"),
        "type": [concept(coding(ctx.system("visit-type"), visit_type, human(visit_type)))]
        if visit_type else None,
        "subject": reference("Patient", data.get("patient_id")),
        "participant": [{"individual": participant}] if participant else None,
        "period": period or None,
    })


def provenance(source: Source, ctx: MappingContext) -> Resource | None:
    """The signature of a signed visit; None while the visit is unsigned."""
    data = source.data
    if not data.get("signed_at"):
        return None
    signer = ctx.user_reference(data.get("signed_by")) or {"display": "Unknown signer"}
    return {
        **base("Provenance", source),
        "target": [reference("Encounter", source.id)],
        "occurredDateTime": data["signed_at"],
        "recorded": data["signed_at"],
        "activity": concept(text="Visit record signed"),
        "agent": [{
            "type": concept(coding(
                "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                "attester", "Attester")),
            "who": signer,
        }],
    }


def _answer(item_type: str, value: Any) -> Resource:
    key = {"integer": "valueInteger", "boolean": "valueBoolean", "decimal": "valueDecimal"}
    return {key[item_type]: value}


def questionnaire_response(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    items: list[Resource] = [
        {"linkId": link_id, "text": label, "answer": [_answer(item_type, data[link_id])]}
        for link_id, item_type, label in answer_items() if data.get(link_id) is not None
    ]
    findings = data.get(MULTIFACTORIAL) or {}
    if findings:
        system = ctx.system("multifactorial-finding")
        items.append({"linkId": MULTIFACTORIAL, "item": [
            {"linkId": f"{MULTIFACTORIAL}.{domain}", "answer": [
                {"valueCoding": coding(system, value, human(value))}]}
            for domain, value in findings.items()
        ]})
    return compact({
        **base("QuestionnaireResponse", source),
        "questionnaire": f"{falls_questionnaire_url(ctx.canonical_base)}|{falls_version()}",
        "status": "entered-in-error" if source.voided else "completed",
        "subject": reference("Patient", data.get("patient_id")),
        "encounter": reference("Encounter", data.get("visit_id")),
        "authored": data.get("assessed_at"),
        "item": items,
    })


def risk_assessment(source: Source, ctx: MappingContext) -> Resource | None:
    data = source.data
    level = data.get("risk_level")
    if level is None:
        return None
    reasons = [reason["text"] for reason in data.get("reasons") or []]
    actions = [action["text"] for action in data.get("recommended_actions") or []]
    prediction = compact({
        "outcome": concept(text="Falls"),
        "qualitativeRisk": concept(
            coding(RISK_PROBABILITY, STRATUM_RISK[level], human(STRATUM_RISK[level])),
            coding(ctx.system("falls-stratum"), level, f"{human(level)} (stratum)"),
            text=f"{human(level)} risk (World Falls Guidelines 2022 stratum)"),
        "rationale": "; ".join(reasons) or None,
    })
    return compact({
        **base("RiskAssessment", source),
        "status": "entered-in-error" if source.voided else "final",
        "method": concept(coding(ctx.system("falls-stratification"),
                                 data.get("rules_version") or "wfg2022"),
                          text=STRATIFICATION_TEXT),
        "code": concept(text="Falls risk stratification"),
        "subject": reference("Patient", data.get("patient_id")),
        "encounter": reference("Encounter", data.get("visit_id")),
        "occurrenceDateTime": data.get("assessed_at"),
        "basis": [reference("QuestionnaireResponse", source.id)],
        "prediction": [prediction],
        "mitigation": "; ".join(actions) or None,
        "note": [{"text": text} for text in reasons],
    })


def observation(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    system = ctx.system("patient-activation")
    components: list[Resource] = []
    if data.get("level") is not None:
        components.append({"code": concept(coding(system, "pam-level", "PAM level")),
                           "valueInteger": data["level"]})
    if data.get("source_level") is not None:
        components.append({"code": concept(coding(system, "pam-level-reported",
                                                  "PAM level as reported by the tool")),
                           "valueInteger": data["source_level"]})
    score = data.get("score")
    return compact({
        **base("Observation", source),
        "status": "entered-in-error" if source.voided else "final",
        "category": [concept(coding(OBSERVATION_CATEGORY, "survey", "Survey"))],
        "code": concept(coding(system, "pam-score", "Patient Activation Measure score"),
                        text="Patient Activation Measure (PAM) score"),
        "subject": reference("Patient", data.get("patient_id")),
        "effectiveDateTime": data.get("assessed_at"),
        "valueQuantity": {"value": score, "unit": "score"} if score is not None else None,
        "method": concept(text=data["source"]) if data.get("source") else None,
        "component": components,
    })
