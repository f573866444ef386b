"""Caseload by falls risk and by activation level, week by week (pure: no I/O).

Invariants:
- a patient with ``risk_profiling_opt_out`` is left out of both mixes (SPEC §1: the NHS
  opt-out for risk stratification); :func:`in_risk_reports` is that rule's one
  definition on the server (the PWA's dashboard has its own: ``inRiskReports`` in
  ``pwa/src/lib/reports.js``);
- each week's mix is a snapshot at the week's end (now, for the current week): per
  patient, the latest assessment *assessed* by then counts, whenever it reached the
  server; a patient with none by then is ``not_assessed``;
- the loader hands over only live, not voided assessments, ordered by assessed time and
  then by write order, so a later write wins a tie.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.reports.weeks import Week

FALLS_RISK_CATEGORIES = ("high", "intermediate", "low")
ACTIVATION_CATEGORIES = ("1", "2", "3", "4")
NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True)
class Assessment:
    """A falls risk level or an activation level (as text), when it was assessed."""

    patient_id: str
    assessed_at: datetime
    value: str


def in_risk_reports(patient: Mapping[str, Any]) -> bool:
    """SPEC §1: patients who opted out of risk stratification are left out of risk reports."""
    return patient.get("risk_profiling_opt_out") is not True


def mix_by_week(patient_ids: Iterable[str], assessments: Sequence[Assessment],
                categories: Sequence[str], weeks: Sequence[Week],
                now: datetime) -> list[dict[str, Any]]:
    """Per week, how many of these patients were in each category at its end."""
    ids = sorted(set(patient_ids))
    history: dict[str, list[Assessment]] = defaultdict(list)
    for item in sorted(assessments, key=lambda a: a.assessed_at):  # stable: ties keep order
        history[item.patient_id].append(item)
    rows = []
    for week in weeks:
        cut = week.as_of(now)
        counts = dict.fromkeys((*categories, NOT_ASSESSED), 0)
        for patient_id in ids:
            latest = None
            for item in history.get(patient_id, ()):
                if item.assessed_at > cut:
                    break
                latest = item
            counts[latest.value if latest and latest.value in categories else NOT_ASSESSED] += 1
        rows.append({**week.describe(), "as_of": cut.isoformat(), "counts": counts})
    return rows
