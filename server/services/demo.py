"""Realistic synthetic demo data (``doorstep demo``): never real people.

Two community teams with nurses and co-ordinators, an admin, and patients with NHS *test*
numbers (999…, Modulus 11 valid) — a few weeks of visits, falls assessments across every
risk level, activation scores over time, goals with logs, reminders, and carers linked to
some patients. Everything is written through the sync engine as the server, so validation,
derived fields, audit and escalation rules apply exactly as for real data.
Deterministic (seeded), so screenshots and demos look the same each time.

The history is written at once, so the rules that judge *when* data arrived would take
every past visit as synced weeks late: the late-sync rule is held off while history is
written, and a few genuinely late visits follow. Older findings are then resolved by the
team's co-ordinator, so the inbox starts with a handful of open escalations of each kind.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from server import database
from server.clinical.nhs_number import check_digit
from server.clock import utcnow
from server.escalation import scans as escalation_jobs
from server.records import engine as records
from server.services import accounts
from storage import UnitOfWork
from sync.apply import apply_mutation
from sync.protocol import Mutation
from sync.registry import SYSTEM, Actor

PASSWORD = "doorstep-demo"  # demo only; staff passwords need ≥ 10 characters
LONDON = ZoneInfo("Europe/London")

GIVEN = ["Edith", "Arthur", "Margaret", "George", "Joan", "Harold", "Dorothy", "Ronald",
         "Betty", "Kenneth", "Irene", "Dennis", "Sheila", "Derek", "Pauline", "Roy",
         "Mavis", "Stanley", "Brenda", "Norman", "Hilda", "Leonard", "Olive", "Clifford",
         "Amrit", "Gurdev", "Nasreen", "Yusuf", "Winston", "Gloria"]
FAMILY = ["Crawley", "Hughes", "Patel", "Okafor", "Thompson", "Begum", "Walsh", "Evans",
          "Kowalski", "Ahmed", "Roberts", "Campbell", "Singh", "Murphy", "Clarke", "Lewis",
          "Khan", "Wright", "Green", "Baker", "Morris", "Ali", "Jones", "Edwards"]
STREETS = ["Mill Lane", "Church Road", "Station Street", "Park View", "Orchard Close",
           "Victoria Terrace", "Elm Grove", "High Street", "Meadow Way", "Canal Side"]
PRACTICES = ["Riverside Medical Centre", "Eastgate Surgery", "Hillview Practice",
             "Market Square Health Centre"]
GPS = ["Dr Okafor", "Dr Lindqvist", "Dr Mensah", "Dr Chaudhry", "Dr Byrne"]
GOALS = [("Walk to the post box", 5), ("Do my chair exercises", 7),
         ("Drink 6 glasses of water", 14), ("Check my feet", 7),
         ("Phone my daughter", 3), ("Go to the lunch club", 2)]
VISIT_TYPES = ["wound_care", "medication", "assessment", "review", "continence", "palliative"]

STAFF = [
    ("admin", "admin", None, "Alex Admin"),
    ("nurse.north1", "nurse", "North Locality", "Nina Patel"),
    ("nurse.north2", "nurse", "North Locality", "Tom Evans"),
    ("nurse.north3", "nurse", "North Locality", "Grace Mensah"),
    ("coord.north", "coordinator", "North Locality", "Chloe Walsh"),
    ("nurse.south1", "nurse", "South Locality", "Omar Khan"),
    ("nurse.south2", "nurse", "South Locality", "Ruth Byrne"),
    ("coord.south", "coordinator", "South Locality", "Sam Okafor"),
]


def nhs_test_number(n: int) -> str:
    """The n-th valid NHS test number in the 999 range."""
    while True:
        first_nine = f"999{n:06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"
        n += 1_000_000 // 7  # jump to another candidate deterministically


# Patients 1 and 2 (North Locality, nurse.north1's team) get their own account and a carer.
FAMILY_PATIENTS = (1, 2)
OPEN_PER_RULE = 3  # open escalations left per team and rule; older ones are resolved


def seed(patients: int = 200, rng_seed: int = 20261124) -> list[tuple[str, str, str]] | None:
    """Fill an empty database; returns the demo logins, or None if users exist already."""
    with database.read() as uow:
        if accounts.list_users(uow):
            return None
    rng = random.Random(rng_seed)
    today = utcnow().astimezone(LONDON).date()
    with database.write() as uow:
        teams = {name: accounts.create_team(uow, name)["id"]
                 for name in ("North Locality", "South Locality")}
        staff: dict[str, accounts.User] = {}
        for username, role, team, display in STAFF:
            staff[username] = accounts.create_user(
                uow, username=username, password=PASSWORD, role=role,
                display_name=display, team_ids=(teams[team],) if team else ())
        logins = [(u, role, PASSWORD) for u, role, _, _ in STAFF]
        writer = _Writer(uow)
        team_patients: dict[str, list[str]] = {name: [] for name in teams}
        late_sync_hours = current_app.config["ESCALATION_LATE_SYNC_HOURS"]
        current_app.config["ESCALATION_LATE_SYNC_HOURS"] = 10 ** 6  # history is not late
        try:
            for n in range(patients):
                team_name = _team_of(n)
                coordinator = next(u for u in staff.values() if u.role == "coordinator"
                                   and teams[team_name] in u.team_ids)
                patient_id = _patient(writer, rng, n, teams[team_name], coordinator.id)
                _history(writer, rng, patient_id, _nurses(staff, teams[team_name]), today)
                team_patients[team_name].append(patient_id)
                if n in FAMILY_PATIENTS:
                    logins += _family(uow, writer, n, patient_id, staff["nurse.north1"], today)
        finally:
            current_app.config["ESCALATION_LATE_SYNC_HOURS"] = late_sync_hours
        for team_name, ids in team_patients.items():
            if ids:
                _recent_events(writer, rng, ids, _nurses(staff, teams[team_name]), today)
    now = utcnow()
    escalation_jobs.run_escalation_rules(current_app, now)  # missed visits, lapsed goals
    with database.write() as uow:
        for coordinator in (u for u in staff.values() if u.role == "coordinator"):
            _triaged_before(uow, coordinator)
    return logins


def login_lines(uow: UnitOfWork) -> list[str]:
    """The demo logins still in the database, with each one's team and patient: printed
    by ``doorstep demo`` every time, so the demo never needs the first run's output."""
    demo_names = {u for u, _, _, _ in STAFF}
    lines = []
    users = sorted(accounts.list_users(uow), key=lambda u: (u.role, u.username))
    for user in users:
        role, username, patient_id = user.role, user.username, user.patient_id
        if username not in demo_names and not (
                role in ("patient", "carer") and username.startswith(role)):
            continue
        teams = [team.name for team in uow.records.team_names(user.team_ids)]
        if role == "carer":
            patient_id = next(iter(uow.records.carer_linked_patients(user.id)), None)
        about = ", ".join(teams) or ("all teams" if role == "admin" else "")
        if patient_id:
            about = _patient_words(uow, patient_id, role)
        lines.append(f"  {username:<13} {role:<12} {about}")
    return lines


def _patient_words(uow: UnitOfWork, patient_id: str, role: str) -> str:
    data = uow.records.patient_data(patient_id)
    if data is None:
        return ""
    team = uow.records.team_names([data["team_id"]])
    who = "is" if role == "patient" else "cares for"
    return f"{who} {data['given_name']} {data['family_name']} ({team[0].name if team else '-'})"


def _team_of(n: int) -> str:
    return "North Locality" if n % 3 else "South Locality"


def _nurses(staff: dict[str, accounts.User], team_id: str) -> list[accounts.User]:
    return [u for u in staff.values() if u.role == "nurse" and team_id in u.team_ids]


def _as(user: accounts.User) -> Actor:
    return Actor(user_id=user.id, role=user.role, client_id=f"demo-{user.username}",
                 team_ids=frozenset(user.team_ids))


def _write_as(uow: UnitOfWork, user: accounts.User, entity: str, record_id: str, op: str,
              fields: dict[str, Any]) -> None:
    """A change made by a person (their stamps, their audit trail), as if synced."""
    apply_mutation(uow.store, records.registry(), _as(user),
                   Mutation(entity, record_id, op, fields, base_version=None))


def _recent_events(write: _Writer, rng: random.Random, patient_ids: list[str],
                   nurses: list[accounts.User], today: date) -> None:
    """What gives a co-ordinator something to do: upcoming visits for every nurse, a visit
    synced late, one not recorded (missed), a goal not logged for 10 days, falls reported
    by patients' households, and addenda on signed visits."""
    for i, nurse in enumerate(nurses):
        for offset, hour in ((0, 9 + i), (0, 13 + i), (1, 10 + i), (2, 11 + i)):
            day = today + timedelta(days=offset)
            write("visit", {
                "patient_id": patient_ids[(i * 4 + offset + hour) % len(patient_ids)],
                "assigned_to": nurse.id, "scheduled_start": _at(day, hour),
                "scheduled_end": _at(day, hour, 45), "visit_type": rng.choice(VISIT_TYPES),
                "status": "scheduled"})
    two_days_ago, yesterday = today - timedelta(days=2), today - timedelta(days=1)
    write("visit", {
        "patient_id": patient_ids[0], "assigned_to": nurses[0].id,
        "scheduled_start": _at(two_days_ago, 9), "scheduled_end": _at(two_days_ago, 9, 45),
        "visit_type": "wound_care", "status": "completed", "started_at": _at(two_days_ago, 9, 5),
        "ended_at": _at(two_days_ago, 9, 40), "notes": "Dressing changed.",
        "interventions": ["wound_care"], "signed_at": _at(two_days_ago, 9, 42)})
    write("visit", {
        "patient_id": patient_ids[-1], "assigned_to": nurses[-1].id,
        "scheduled_start": _at(yesterday, 14), "scheduled_end": _at(yesterday, 14, 45),
        "visit_type": "medication", "status": "scheduled"})
    goal_id = write("goal", {
        "patient_id": patient_ids[1 % len(patient_ids)], "title": "Walk to the garden gate",
        "times_per_week": 3, "start_date": (today - timedelta(days=21)).isoformat(),
        "review_date": (today + timedelta(days=21)).isoformat(), "status": "active"})
    write("goal_log", {"patient_id": patient_ids[1 % len(patient_ids)], "goal_id": goal_id,
                       "date": (today - timedelta(days=10)).isoformat(), "done": True})
    for n, patient_id in enumerate(patient_ids[2:4]):
        write("self_report", {
            "patient_id": patient_id, "kind": "fall", "happened_at": _at(yesterday, 18 + n),
            "injured": n == 0, "unable_to_get_up": False,
            "details": "Slipped getting out of the chair." if n == 0 else "Tripped on the rug."})
    for visit_id, patient_id in write.uow.records.signed_visits(
            [patient_ids[0], patient_ids[-1]], limit=3):
        write("visit_addendum", {"visit_id": visit_id, "patient_id": patient_id,
                                 "text": "GP informed by phone after the visit."})


class _Writer:
    """Writes records through the engine as the server, in the caller's transaction."""

    def __init__(self, uow: UnitOfWork):
        self.uow = uow

    def __call__(self, entity: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        return records.write_as_system(self.uow, SYSTEM, entity, fields,
                                       record_id or str(uuid.uuid4()))


def _at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), LONDON).isoformat()


def _patient(write: _Writer, rng: random.Random, n: int, team_id: str, coordinator: str) -> str:
    age = rng.randint(68, 97)
    birth = date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
    return write("patient", {
        "nhs_number": nhs_test_number(n + 1),
        "given_name": rng.choice(GIVEN),
        "family_name": rng.choice(FAMILY),
        "date_of_birth": birth.isoformat(),
        "sex": rng.choice(["female", "male", "female", "male", "unknown"]),
        "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}, Testtown",
        "postcode": f"TE{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFG')}"
                    f"{rng.choice('HJLNPQ')}",
        "phone": f"01632 960{rng.randint(0, 999):03d}",
        "team_id": team_id,
        "gp_practice": rng.choice(PRACTICES),
        "named_gp": rng.choice(GPS),
        "care_coordinator_id": coordinator,
        "complexity_tier": rng.choice(["well", "moderate", "moderate", "significant"]),
        "risk_profiling_opt_out": rng.random() < 0.03,
        "sharing_objection": rng.random() < 0.03 and n > 1,
        "access_notes": rng.choice(["Key safe by back door, code with co-ordinator.",
                                    "Friendly dog; knock loudly.", "Park on the side road.",
                                    ""]),
    })


def _history(write: _Writer, rng: random.Random, patient_id: str,
             nurses: list[accounts.User], today: date) -> None:
    # Visits: three weeks back (completed and signed, the odd no-access), one week ahead,
    # and about a quarter of patients visited today, so every nurse has a day list.
    offsets = sorted(rng.sample([o for o in range(-21, 8) if o != 0], 4))
    if rng.random() < 0.25:
        offsets.append(0)
    for offset in offsets:
        day = today + timedelta(days=offset)
        hour = rng.randint(8, 16)
        nurse = rng.choice(nurses)
        fields: dict[str, Any] = {
            "patient_id": patient_id, "assigned_to": nurse.id,
            "scheduled_start": _at(day, hour), "scheduled_end": _at(day, hour, 45),
            "visit_type": rng.choice(VISIT_TYPES), "status": "scheduled",
        }
        if offset < 0:
            no_access = rng.random() < 0.05
            fields.update(
                status="no_access" if no_access else "completed",
                started_at=_at(day, hour, 5), ended_at=_at(day, hour, 40),
                notes="" if no_access else rng.choice([
                    "Dressing changed, wound edges healthy.", "Medication reviewed, no changes.",
                    "Reports better sleep. Discussed hydration.", "Mobilising with frame."]),
                interventions=[] if no_access else ["observations"],
                signed_at=_at(day, hour, 42),
            )
        write("visit", fields)
    # Falls: one or two assessments; spread across every risk level.
    for days_ago in sorted(rng.sample(range(1, 60), rng.randint(1, 2)), reverse=True):
        falls = rng.choice([0, 0, 0, 1, 1, 2, 3])
        write("falls_assessment", {
            "patient_id": patient_id, "assessed_at": _at(today - timedelta(days=days_ago), 11),
            "falls_last_12_months": falls,
            "fall_injury": rng.random() < 0.3 if falls else None,
            "unable_to_get_up": rng.random() < 0.15 if falls else None,
            "lost_consciousness": False if falls else None,
            "feels_unsteady": rng.random() < 0.5, "worried_about_falling": rng.random() < 0.5,
            "frailty_cfs": rng.randint(2, 7),
            "tug_seconds": round(rng.uniform(8, 24), 1),
            "short_fes_i": rng.randint(7, 24),
        })
    # Activation: scores every few weeks, drifting.
    score = rng.uniform(35, 80)
    for days_ago in (84, 42, 7):
        score = min(100.0, max(0.0, score + rng.uniform(-9, 9)))
        write("activation_score", {
            "patient_id": patient_id, "assessed_at": _at(today - timedelta(days=days_ago), 10),
            "score": round(score, 1), "source": "PAM 13 (licensed tool)"})
    # Goals with logs.
    for title, per_week in rng.sample(GOALS, rng.randint(1, 2)):
        goal_id = write("goal", {
            "patient_id": patient_id, "title": title, "times_per_week": per_week,
            "start_date": (today - timedelta(days=28)).isoformat(),
            "review_date": (today + timedelta(days=28)).isoformat(), "status": "active"})
        for days_ago in range(14, 0, -1):
            if rng.random() < 0.6:
                write("goal_log", {"patient_id": patient_id, "goal_id": goal_id,
                                   "date": (today - timedelta(days=days_ago)).isoformat(),
                                   "done": rng.random() < 0.85})


def _triaged_before(uow: UnitOfWork, coordinator: accounts.User) -> None:
    """Resolve all but the newest few open escalations per rule of the co-ordinator's
    team: earlier weeks' work, done (their name on it, through the engine)."""
    rows = uow.records.open_escalations_of_teams(coordinator.team_ids)
    kept: dict[str, int] = {}
    for escalation_id, rule in rows:
        kept[rule] = kept.get(rule, 0) + 1
        if kept[rule] > OPEN_PER_RULE:
            _write_as(uow, coordinator, "escalation", escalation_id, "update", {
                "status": "resolved", "resolution_note": "Reviewed at the team meeting."})


def _family(uow: UnitOfWork, write: _Writer, n: int, patient_id: str, nurse: accounts.User,
            today: date) -> list[tuple[str, str, str]]:
    """A patient account and a carer account with an active link, and visits from the
    team's first nurse (today and later this week)."""
    person = uow.records.patient_data(patient_id)
    assert person is not None
    patient_user = accounts.create_user(  # their own name in the app's header
        uow, username=f"patient{n}", password=PASSWORD, role="patient",
        display_name=f"{person['given_name']} {person['family_name']}", patient_id=patient_id)
    carer = accounts.create_user(
        uow, username=f"carer{n}", password=PASSWORD, role="carer",
        display_name=f"{('Susan', 'Janet')[n % 2]} {person['family_name']}")
    write("carer_link", {"patient_id": patient_id, "carer_user_id": carer.id,
                         "relationship": "daughter", "consent_basis": "patient_consent",
                         "active": True})
    write("reminder", {
        "patient_id": patient_id, "recipient_ids": [patient_user.id, carer.id],
        "title": "Chair exercises", "body": "Time for your chair exercises.",
        "time_of_day": "10:30", "days_of_week": [1, 2, 3, 4, 5, 6, 7],
        "timezone": "Europe/London", "start_date": utcnow().date().isoformat(),
        "active": True})
    for offset, hour in ((0, 15), (3, 10)):
        day = today + timedelta(days=offset)
        write("visit", {"patient_id": patient_id, "assigned_to": nurse.id,
                        "scheduled_start": _at(day, hour + n),
                        "scheduled_end": _at(day, hour + n, 45),
                        "visit_type": "review", "status": "scheduled"})
    if n == FAMILY_PATIENTS[1]:  # patient1 stays without one: tests report its first fall
        yesterday = today - timedelta(days=1)
        _write_as(uow, carer, "self_report", str(uuid.uuid4()), "create", {
            "patient_id": patient_id, "kind": "fall", "happened_at": _at(yesterday, 20),
            "injured": False, "unable_to_get_up": False,
            "details": "Found on the floor by the bed."})
    return [(patient_user.username, "patient", PASSWORD), (carer.username, "carer", PASSWORD)]
