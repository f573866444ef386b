"""The application factory: ``create_app(test_config)``, nothing else at module level."""

from __future__ import annotations

import mimetypes
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import config, database
from server.http import (
    access_log,
    admin,
    api_docs,
    audit,
    compression,
    conflicts,
    devices,
    errors,
    escalations,
    fhir_openapi,
    headers,
    invites,
    patients,
    push,
    request_body,
    sync,
    web,
)
from server.http import auth as auth_api
from server.http import fhir as fhir_api
from server.http import fhir_bulk as fhir_bulk_api
from server.http import reports as reports_api
from server.records import engine as records
from server.services import audit as audit_service
from server.services import auth

BLUEPRINTS = [
    auth_api.blp, devices.blp, invites.blp, admin.blp, audit.blp, sync.blp, conflicts.blp,
    patients.blp, push.blp, escalations.blp,
    reports_api.blp, fhir_api.blp, fhir_bulk_api.blp,
]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=False)
    settings = config.load()
    settings.update(test_config or {})
    settings = config.resolve_paths(settings)
    app.config.update(settings)
    app.config["DATABASE"] = app.config["DB"]  # the name Flask's tutorial pattern uses
    app.config.update(
        API_TITLE="Doorstep API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        # Sync batches are limited to 5 MB (SPEC §3.2); larger bodies answer 413.
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
    )
    # Sorting every record's keys costs a third of a large pull; clients don't need it.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    mimetypes.add_type("application/manifest+json", ".webmanifest")
    if app.config["PROXY_COUNT"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_COUNT"])  # type: ignore[method-assign]

    database.init_app(app)
    audit_service.init_app(app)
    headers.init_app(app)
    auth.init_app(app)
    request_body.init_app(app)
    access_log.init_app(app)
    records.init_app(app)
    compression.init_app(app)

    api = errors.ErrorShapeApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    fhir_docs = fhir_openapi.FhirResponses()  # FHIR answers and errors as they really are
    fhir_docs.init_spec(api.spec)
    api.spec.plugins.append(fhir_docs)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(api_docs.bp)
    web.init_app(app)
    # After Api(): flask-smorest installs its own handler; ours gives the one shape
    # (flask-smorest's documented Error schema already has the same four fields).
    errors.init_app(app)
    errors.answer_errors_under(app, fhir_api.PREFIX, fhir_api.outcome_for)

    return app
