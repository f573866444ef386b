"""Data for the nurse-screen browser tests (issue 14, Nurse): one nurse's day around a
fixed "now" (13:00 today, London), a patient with a falls and activation history, and
the two viewports the issue names."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from conftest import make_patient, make_record, make_team, make_user, migrated_app, test_config
from flask import Flask

LONDON = ZoneInfo("Europe/London")
PHONE_360 = {"width": 360, "height": 740}
TABLET_820 = {"width": 820, "height": 1180}
VIEWPORTS = {"phone": PHONE_360, "tablet": TABLET_820}


def today() -> date:
    return datetime.now(LONDON).date()


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), LONDON).isoformat()


def fake_now() -> datetime:
    """The browser's clock in these tests: 13:00 today, so overdue and missed are fixed."""
    return datetime.combine(today(), time(13, 0), LONDON)


def visit(app: Flask, patient: str, nurse: str, day: date, hour: int, minute: int = 0,
          length: int = 30, **fields: Any) -> str:
    start = datetime.combine(day, time(hour, minute), LONDON)
    body = {"patient_id": patient, "assigned_to": nurse, "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(minutes=length)).isoformat(),
            "visit_type": "review", "status": "scheduled", **fields}
    if body["status"] in ("completed", "no_access"):
        body.update(started_at=start.isoformat(), ended_at=body["scheduled_end"],
                    signed_at=body["scheduled_end"])
    return make_record(app, "visit", body)


def nurse_day_app(tmp_path: Path) -> tuple[Flask, dict[str, Any]]:
    """Nurse "nina" on team North: patients Edith (history, high falls risk), Arthur and
    Mabel; today's visits out of order, one of each state; yesterday and tomorrow."""
    app = migrated_app(test_config(tmp_path))
    team = make_team(app, "North")
    nina = make_user(app, "nurse", teams=(team,), username="nina").id
    other = make_user(app, "nurse", teams=(team,), username="omar").id
    edith = make_patient(app, team, given_name="Edith", family_name="Crawley",
                         date_of_birth="1941-03-02", nhs_number="9990000018",
                         care_coordinator_id=nina)
    arthur = make_patient(app, team, given_name="Arthur", family_name="Bell",
                          address="9 Church Row, Testtown", postcode="TE2 9CR",
                          access_notes="Park on the side road")
    mabel = make_patient(app, team, given_name="Mabel", family_name="Ames",
                         address="1 Station Road, Testtown", postcode="TE3 1SR",
                         access_notes="")
    day = today()
    ids = {
        "team": team, "nina": nina, "edith": edith, "arthur": arthur, "mabel": mabel,
        "todo": visit(app, edith, nina, day, 15, length=45, visit_type="wound_care"),
        "overdue": visit(app, arthur, nina, day, 12),
        "completed": visit(app, arthur, nina, day, 8, visit_type="medication",
                           status="completed", notes="Tablets taken."),
        "missed": visit(app, edith, nina, day, 10),
        "no_access": visit(app, mabel, nina, day, 9, length=45, status="no_access",
                           notes="No answer at the door."),
        "yesterday": visit(app, mabel, nina, day - timedelta(days=1), 11, status="completed"),
        "tomorrow": visit(app, edith, nina, day + timedelta(days=1), 9, 30,
                          visit_type="assessment"),
    }
    visit(app, mabel, other, day, 11)  # someone else's visit: not on nina's list
    visit(app, mabel, nina, day, 14, status="cancelled")  # cancelled: not listed
    ids["falls_before"] = make_record(app, "falls_assessment", {
        "patient_id": edith, "assessed_at": at(day - timedelta(days=60), 11),
        "falls_last_12_months": 0, "feels_unsteady": False, "worried_about_falling": True,
        "tug_seconds": 12.0})
    ids["falls_latest"] = make_record(app, "falls_assessment", {
        "patient_id": edith, "assessed_at": at(day - timedelta(days=3), 11),
        "falls_last_12_months": 2, "fall_injury": True, "unable_to_get_up": False,
        "lost_consciousness": False, "feels_unsteady": True, "worried_about_falling": True,
        "tug_seconds": 19.5})
    ids["score_before"] = make_record(app, "activation_score", {
        "patient_id": edith, "assessed_at": at(day - timedelta(days=42), 10), "score": 44.0,
        "source": "PAM 13 (licensed tool)"})
    ids["score_latest"] = make_record(app, "activation_score", {
        "patient_id": edith, "assessed_at": at(day - timedelta(days=2), 10), "score": 60.2,
        "source": "PAM 13 (licensed tool)"})
    ids["goal"] = make_record(app, "goal", {
        "patient_id": edith, "title": "Walk to the post box", "times_per_week": 5,
        "start_date": day.isoformat(), "review_date": (day + timedelta(days=28)).isoformat(),
        "status": "active"})
    return app, ids
