"""A report as CSV: one row per week, a header row of column names.

Cells are written with ``defusedcsv``, which prefixes any text cell a spreadsheet would
run as a formula (starting ``=``, ``+``, ``-``, ``@``, ``|`` or ``%``) with a quote, so a
team named ``=HYPERLINK(…)`` stays text when the file is opened in Excel or LibreOffice.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from defusedcsv import csv as safe_csv

Row = list[Any]


def _teams(report: dict[str, Any]) -> str:
    return "; ".join(team["name"] for team in report["teams"])


def _caseload_rows(report: dict[str, Any]) -> Iterator[Row]:
    falls, activation = report["falls_risk"], report["activation"]
    yield (["teams", "week", "start", "end", "as_of"]
           + [f"falls_risk_{c}" for c in falls["categories"]]
           + [f"activation_level_{c}" for c in activation["categories"]])
    for fall_week, activation_week in zip(falls["weeks"], activation["weeks"], strict=True):
        yield ([_teams(report), fall_week["week"], fall_week["start"], fall_week["end"],
                fall_week["as_of"]]
               + [fall_week["counts"][c] for c in falls["categories"]]
               + [activation_week["counts"][c] for c in activation["categories"]])


def _escalation_rows(report: dict[str, Any]) -> Iterator[Row]:
    severities = report["severities"]
    yield (["teams", "week", "start", "end", "raised_total"]
           + [f"raised_{s}" for s in severities]
           + [f"median_minutes_to_acknowledge_{s}" for s in severities])
    for week in report["weeks"]:
        yield ([_teams(report), week["week"], week["start"], week["end"],
                week["raised"]["total"]]
               + [week["raised"][s] for s in severities]
               + ["" if week["median_minutes_to_acknowledge"][s] is None
                  else week["median_minutes_to_acknowledge"][s] for s in severities])


def _visit_rows(report: dict[str, Any]) -> Iterator[Row]:
    yield ["teams", "week", "start", "end", "completed", "no_access", "late_synced"]
    for week in report["weeks"]:
        yield [_teams(report), week["week"], week["start"], week["end"], week["completed"],
               week["no_access"], week["late_synced"]]


ROWS = {"caseload": _caseload_rows, "escalations": _escalation_rows, "visits": _visit_rows}


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = safe_csv.writer(out)
    writer.writerows(ROWS[report["report"]](report))
    return out.getvalue()
