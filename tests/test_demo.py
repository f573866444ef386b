"""`doorstep demo`: realistic synthetic data, NHS test numbers only, every risk level."""

from __future__ import annotations

import json

from conftest import login

from server import db, demo
from server.clinical.nhs_number import is_valid


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
