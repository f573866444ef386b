"""What the server says and logs leaks nothing the reader may not know (issue 10, item 16)."""

from __future__ import annotations

import uuid

from conftest import login, make_record, make_team, make_user, patient_fields
from test_sync_http import mutation, push


def test_a_duplicate_nhs_number_says_only_that_it_is_registered_and_whom_to_ask(app, client):
    north, south = make_team(app, "North Locality"), make_team(app, "South Locality")
    existing = patient_fields(north, given_name="Agatha", family_name="Brown")
    make_record(app, "patient", existing)
    nurse = login(client, make_user(app, "nurse", teams=(south,)).username)
    fields = patient_fields(south, nhs_number=existing["nhs_number"])
    response = push(nurse, mutation(1, "patient", str(uuid.uuid4()), **fields))
    [result] = response.json["results"]
    assert result["status"] == "rejected"
    [message] = result["errors"]["nhs_number"]
    assert "already registered" in message and "administrator" in message
    for leak in ("North", "caseload", "another", "Agatha", "Brown"):
        assert leak.lower() not in message.lower()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_access_log_has_neither_record_ids_nor_query_strings(tmp_path):
    import os
    import subprocess
    import sys
    import time

    import requests

    env = {**os.environ, "DOORSTEP_INSTANCE": str(tmp_path / "instance"),
           "DOORSTEP_PASSWORD_HASH_MEMORY_KIB": "256", "DOORSTEP_PASSWORD_HASH_TIME_COST": "1"}
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    patient, nhs_number = str(uuid.uuid4()), "9434765919"
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        requests.get(f"{base}/api/v1/patients/{patient}/visits?visit_id={nhs_number}")
        requests.get(f"{base}/api/v1/no-such/{patient}?nhs={nhs_number}")
        requests.get(f"{base}/patients/{patient}")  # a PWA route
        time.sleep(0.3)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    lines = [line for line in output.splitlines() if '"GET ' in line]
    assert len(lines) >= 4, output
    assert '"GET /api/v1/patients/<patient_id>/<resource>" 401' in output
    assert '"GET -" 404' in output
    assert patient not in output and nhs_number not in output and "?" not in output
