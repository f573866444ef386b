"""`doorstep demo`: realistic synthetic data, NHS test numbers only, every risk level."""

from __future__ import annotations

import json

import dbtools as db
from conftest import login

from server import database
from server.clinical.nhs_number import is_valid
from server.services import demo


def test_demo_data_is_realistic_and_synthetic(app, client):
    with app.app_context():
        logins = demo.seed(patients=30)
        conn = db.get_db()
        patients = [json.loads(r[0]) for r in conn.execute(
            "SELECT data FROM records WHERE entity = 'patient'")]
        risks = {r[0] for r in conn.execute(
            "SELECT json_extract(data, '$.risk_level') FROM records"
            " WHERE entity = 'falls_assessment'")}
        entities = {r[0] for r in conn.execute("SELECT DISTINCT entity FROM records")}
        again = demo.seed(patients=30)
    assert len(patients) == 30
    assert all(p["nhs_number"].startswith("999") and is_valid(p["nhs_number"])
               for p in patients)
    assert len({p["nhs_number"] for p in patients}) == 30
    assert risks == {"low", "intermediate", "high"}
    assert {"visit", "falls_assessment", "activation_score", "goal", "goal_log",
            "carer_link", "reminder"} <= entities
    assert again is None  # never adds to a database that has users
    roles = {role for _, role, _ in logins}
    assert roles == {"admin", "nurse", "coordinator", "patient", "carer"}
    for username, role, password in logins:
        session = login(client, username, password)
        assert session.user["role"] == role


def test_demo_gives_a_coordinator_a_working_day(app):
    """Upcoming visits for every nurse, a handful of open escalations of each kind (no
    flood of "visit synced late" from seeding history at once), fall self-reports and
    addenda, and patient1 and carer1 on the first nurse's team."""
    from server.clock import utcnow

    with app.app_context():
        demo.seed(patients=60)
        conn = db.get_db()
        with database.read() as uow:
            lines = demo.login_lines(uow)
        now = utcnow().isoformat()
        nurses = {r[0]: r[1] for r in conn.execute(
            "SELECT id, username FROM users WHERE role = 'nurse'")}
        upcoming = {r[0] for r in conn.execute(
            "SELECT json_extract(data, '$.assigned_to') FROM records WHERE entity = 'visit'"
            " AND json_extract(data, '$.status') = 'scheduled'"
            " AND json_extract(data, '$.scheduled_start') > ?", (now,))}
        open_by_rule: dict[str, int] = {}
        for rule, count in conn.execute(
                "SELECT json_extract(data, '$.rule'), count(*) FROM records"
                " WHERE entity = 'escalation' AND json_extract(data, '$.status') = 'open'"
                " GROUP BY 1"):
            open_by_rule[rule] = count
        falls = conn.execute("SELECT count(*) FROM records WHERE entity = 'self_report'"
                             " AND json_extract(data, '$.kind') = 'fall'").fetchone()[0]
        addenda = conn.execute(
            "SELECT count(*) FROM records WHERE entity = 'visit_addendum'").fetchone()[0]
        team_of = dict(conn.execute(
            "SELECT u.username, t.name FROM users u JOIN team_members m ON m.user_id = u.id"
            " JOIN teams t ON t.id = m.team_id"))
        patient_team = {u: json.loads(d)["team_id"] for u, d in conn.execute(
            "SELECT u.username, r.data FROM users u JOIN records r ON r.id = u.patient_id"
            " WHERE u.role = 'patient'")}
        north = conn.execute("SELECT id FROM teams WHERE name = 'North Locality'").fetchone()[0]
    assert set(nurses) <= upcoming, "every nurse has visits coming up"
    assert set(open_by_rule) == {"fall_reported", "falls_risk_high", "falls_risk_intermediate",
                                 "activation_low", "no_access_visit", "missed_visit",
                                 "goal_not_logged", "late_sync"}
    assert all(1 <= n <= 2 * demo.OPEN_PER_RULE for n in open_by_rule.values()), open_by_rule
    assert falls >= 3 and addenda >= 2
    assert team_of["nurse.north1"] == "North Locality" and patient_team["patient1"] == north
    assert any(line.split()[:2] == ["carer1", "carer"] and "(North Locality)" in line
               for line in lines)
    assert any(line.split() == ["nurse.south1", "nurse", "South", "Locality"] for line in lines)


def test_doorstep_demo_prints_the_logins_every_time(tmp_path, monkeypatch):
    """`make run` runs `doorstep demo` on each start: the logins (with team and patient)
    are printed also when the data is there already."""
    from click.testing import CliRunner

    from server import cli

    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_MEMORY_KIB", "256")
    monkeypatch.setenv("DOORSTEP_PASSWORD_HASH_TIME_COST", "1")
    CliRunner().invoke(cli.main, ["init"], catch_exceptions=False)  # as `make run` does
    first = CliRunner().invoke(cli.main, ["demo", "--patients", "6"], catch_exceptions=False)
    again = CliRunner().invoke(cli.main, ["demo", "--patients", "6"], catch_exceptions=False)
    assert "demo data not added" in again.output
    for output in (first.output, again.output):
        assert f"password {demo.PASSWORD}" in output
        lines = {line.split()[0]: line for line in output.splitlines() if line.startswith("  ")}
        assert "North Locality" in lines["nurse.north1"]
        assert lines["patient1"].split()[1:3] == ["patient", "is"]
        assert "(North Locality)" in lines["carer1"]


def test_make_run_starts_the_scheduler_beside_the_server():
    """One command; the scheduler stops with the server (EXIT trap)."""
    from pathlib import Path

    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "doorstep scheduler &" in recipe and "trap 'kill $$scheduler" in recipe
    assert "doorstep serve --host $(HOST) --port $(PORT)" in recipe
