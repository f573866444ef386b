"""``doorstep serve`` (real granian): connections are kept alive between requests, so a
device's push and pulls reuse one connection (issue 13)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from test_no_leaks import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_serve_keeps_a_connection_alive_across_requests(tmp_path: Path) -> None:
    env = {**os.environ, "DOORSTEP_INSTANCE": str(tmp_path / "instance"),
           "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    subprocess.run([*command, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.connect()
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        local = conn.sock.getsockname()
        answers = []
        for _ in range(3):
            conn.request("GET", "/api/v1/openapi.json")
            response = conn.getresponse()
            answers.append((response.status, response.getheader("Connection")))
            response.read()
            assert conn.sock is not None and conn.sock.getsockname() == local  # same socket
        assert all(status == 200 and (header or "").lower() != "close"
                   for status, header in answers), answers
        conn.close()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "granian" in output.lower(), output
    assert output.count('"GET /api/v1/openapi.json" 200') == 3, output
