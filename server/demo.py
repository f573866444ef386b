"""Realistic synthetic demo data (``doorstep demo``): never real people.

Two community teams with nurses and co-ordinators, an admin, and patients with NHS *test*
numbers (999…, Modulus 11 valid) — a few weeks of visits, falls assessments across every
risk level, activation scores over time, goals with logs, reminders, and carers linked to
some patients. Everything is written through the sync engine as the server, so validation,
derived fields, audit and escalation rules apply exactly as for real data.
Deterministic (seeded), so screenshots and demos look the same each time.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import accounts, db, records
from server.clinical.nhs_number import check_digit
from server.clock import utcnow
from sync.registry import SYSTEM

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


def seed(patients: int = 200, rng_seed: int = 20261124) -> list[tuple[str, str, str]] | None:
    """Fill an empty database; returns the demo logins, or None if users exist already."""
    conn = db.get_db()
    if conn.execute("SELECT 1 FROM users LIMIT 1").fetchone():
        return None
    rng = random.Random(rng_seed)
    today = utcnow().astimezone(LONDON).date()
    with db.write_transaction(conn):
        teams = {name: accounts.create_team(conn, name)["id"]
                 for name in ("North Locality", "South Locality")}
        staff: dict[str, accounts.User] = {}
        for username, role, team, display in STAFF:
            staff[username] = accounts.create_user(
                conn, username=username, password=PASSWORD, role=role, display_name=display,
                team_ids=(teams[team],) if team else ())
        logins = [(u, role, PASSWORD) for u, role, _, _ in STAFF]
        writer = _Writer(conn)
        for n in range(patients):
            team_name = "North Locality" if n % 3 else "South Locality"
            nurses = [u for u in staff.values()
                      if u.role == "nurse" and teams[team_name] in u.team_ids]
            coordinator = next(u for u in staff.values()
                               if u.role == "coordinator" and teams[team_name] in u.team_ids)
            patient_id = _patient(writer, rng, n, teams[team_name], coordinator.id)
            _history(writer, rng, patient_id, nurses, today)
            if n in (0, 1):  # two patients with their own accounts and a carer
                logins += _family(conn, writer, n, patient_id)
    return logins


class _Writer:
    """Writes records through the engine as the server, in the caller's transaction."""

    def __init__(self, conn: Any):
        self.conn = conn

    def __call__(self, entity: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        return records.write_as_system(self.conn, SYSTEM, entity, fields,
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


def _family(conn: Any, write: _Writer, n: int, patient_id: str) -> list[tuple[str, str, str]]:
    """A patient account and a carer account with an active link."""
    patient_user = accounts.create_user(
        conn, username=f"patient{n + 1}", password=PASSWORD, role="patient",
        display_name=f"Demo patient {n + 1}", patient_id=patient_id)
    carer = accounts.create_user(
        conn, username=f"carer{n + 1}", password=PASSWORD, role="carer",
        display_name=f"Demo carer {n + 1}")
    write("carer_link", {"patient_id": patient_id, "carer_user_id": carer.id,
                         "relationship": "daughter", "consent_basis": "patient_consent",
                         "active": True})
    write("reminder", {
        "patient_id": patient_id, "recipient_ids": [patient_user.id, carer.id],
        "title": "Chair exercises", "body": "Time for your chair exercises.",
        "time_of_day": "10:30", "days_of_week": [1, 2, 3, 4, 5, 6, 7],
        "timezone": "Europe/London", "start_date": utcnow().date().isoformat(),
        "active": True})
    return [(patient_user.username, "patient", PASSWORD), (carer.username, "carer", PASSWORD)]
