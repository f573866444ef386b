"""Interactive API documentation at /api/v1/docs, served from this machine.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` package, so the docs work
without a CDN and under the same CSP as the app (no inline script).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from server.http.errors import not_found

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")

STATIC = Path(__file__).parent / "static"
SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css"}

PAGE = """<!doctype html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Doorstep API</title>
  <link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/v1/docs/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/api-docs.js"></script>
</body>
</html>
"""


@bp.get("")
@bp.get("/")
def page() -> Response:
    return Response(PAGE, mimetype="text/html")


@bp.get("/<name>")
def asset(name: str) -> Response:
    if name in SWAGGER_FILES:
        return send_from_directory(swagger_ui_path, name, max_age=86400)
    if name == "api-docs.js":
        return send_from_directory(STATIC, name, max_age=3600)
    not_found("File")
