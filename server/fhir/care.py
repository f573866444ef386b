"""Goals, escalations and the care plan as FHIR resources.

- goal -> Goal: the personal goal in the person's words, "times per week" as its
  target, the review date as the target's due date.
- escalation -> Flag: open and acknowledged escalations are ``active`` flags, resolved
  ones ``inactive`` (with the period's end), so a receiver sees a flag clear.
- the patient's goals and reminders -> one CarePlan per patient (id = the patient's id):
  goals as ``CarePlan.goal``, each reminder as an activity with its schedule.
"""

from __future__ import annotations

from collections.abc import Iterable

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

GOAL_LIFECYCLE = {"active": "active", "achieved": "completed", "paused": "on-hold",
                  "stopped": "cancelled"}
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO 1 = Monday


def goal(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    status = data.get("status") or "active"
    times = data.get("times_per_week")
    target = compact({
        "detailQuantity": {"value": times, "unit": "times per week",
                           "system": "http://unitsofmeasure.org", "code": "/wk"}
        if times is not None else None,
        "dueDate": data.get("review_date"),
    })
    return compact({
        **base("Goal", source),
        "lifecycleStatus": GOAL_LIFECYCLE.get(status, "active"),
        "achievementStatus": concept(coding(
            "http://terminology.hl7.org/CodeSystem/goal-achievement", "achieved", "Achieved"))
        if status == "achieved" else None,
        "description": {"text": data.get("title") or "Goal"},
        "subject": reference("Patient", data.get("patient_id")),
        "startDate": data.get("start_date"),
        "target": [target] if target else None,
        "note": [{"text": data["description"]}] if data.get("description") else None,
    })


def flag(source: Source, ctx: MappingContext) -> Resource:
    data = source.data
    resolved = data.get("status") == "resolved"
    rule = data.get("rule")
    severity = data.get("severity")
    return compact({
        **base("Flag", source),
        "status": "inactive" if resolved else "active",
        "category": [concept(
            coding(FLAG_CATEGORY, "clinical", "Clinical"),
            *([coding(ctx.system("escalation-severity"), severity, human(severity))]
              if severity else []))],
        "code": concept(*([coding(ctx.system("escalation-rule"), rule, human(rule))]
                          if rule else []), text=data.get("reason") or "Escalation"),
        "subject": reference("Patient", data.get("patient_id")),
        "period": compact({"start": ctx.created_at(source.entity, source.id),
                           "end": data.get("resolved_at") if resolved else None}),
        "author": ctx.user_reference(data.get("acknowledged_by")),
    })


def _activity(reminder: Source, ctx: MappingContext) -> Resource:
    data = reminder.data
    days = [DAY_CODES[d - 1] for d in data.get("days_of_week") or [] if 1 <= d <= 7]
    repeat = compact({
        "boundsPeriod": compact({"start": data.get("start_date"),
                                 "end": data.get("end_date")}),
        "frequency": 1, "period": 1, "periodUnit": "d",
        "dayOfWeek": days,
        "timeOfDay": [f"{data['time_of_day']}:00"] if data.get("time_of_day") else None,
    })
    words = " - ".join(part for part in (data.get("title"), data.get("body")) if part)
    zone = data.get("timezone")
    return {"detail": compact({
        "kind": "CommunicationRequest",
        "code": concept(text="Reminder"),
        "status": "scheduled" if data.get("active", True) else "stopped",
        "goal": [reference("Goal", data["goal_id"])] if data.get("goal_id") else None,
        "scheduledTiming": {"repeat": repeat},
        "description": f"{words} ({zone} time)" if zone and words else words or None,
    })}


def care_plan(patient: Source, goals: Iterable[Source], reminders: Iterable[Source],
              ctx: MappingContext) -> Resource:
    """The patient's personal care plan; ``meta`` follows the latest change in it."""
    goals, reminders = list(goals), list(reminders)
    latest = max([patient, *goals, *reminders], key=lambda s: s.updated_at)
    meta_source = Source("care_plan", patient.id, 1, latest.updated_at, {})
    resource = base("CarePlan", meta_source)
    del resource["meta"]["versionId"]  # made of several records: no single version
    return compact({
        **resource,
        "status": "active",
        "intent": "plan",
        "title": "Personal care plan: goals and reminders",
        "subject": reference("Patient", patient.id),
        "goal": [reference("Goal", g.id) for g in goals],
        "activity": [_activity(r, ctx) for r in reminders],
    })
