"""Security headers (SPEC §7) on API responses, errors and the web app."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/me", "/api/v1/missing", "/"])
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    headers = response.headers
    response.close()  # the web app's files are streamed
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_api_responses_are_never_cached(client):
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"


def test_openapi_documents_bearer_auth(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/auth/login" in spec["paths"]


def test_interactive_api_docs_are_served_locally(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # files only: the CSP forbids inline script
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "api-docs.js"):
        assert f"/api/v1/docs/{asset}" in html
        response = client.get(f"/api/v1/docs/{asset}")
        assert response.status_code == 200 and len(response.data) > 100
        response.close()
    assert client.get("/api/v1/docs/../app.py").status_code == 404
