"""The FHIR operations in the OpenAPI document, as they really answer.

flask-smorest documents every view as JSON with the one error shape. Under
``/api/v1/fhir`` answers are ``application/fhir+json`` (export files
``application/fhir+ndjson``) and every error is an OperationOutcome (docs/fhir.md), so
this apispec plugin rewrites those operations' responses when their paths are added.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

from server.fhir.common import FHIR_JSON, FHIR_NDJSON

PREFIX = "/api/v1/fhir"

RESOURCE = {"type": "object", "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string"}}}
OPERATION_OUTCOME = {
    "type": "object", "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"type": "string", "enum": ["OperationOutcome"]},
                   "issue": {"type": "array", "minItems": 1, "items": {"type": "object"}}},
}


def _success(path: str, method: str) -> dict[str, Any]:
    """The success answers of one FHIR operation (bulk data: 202 while it runs)."""
    if path.endswith(".ndjson"):
        return {"200": {"description": "NDJSON, one resource a line",
                        "content": {FHIR_NDJSON: {"schema": {"type": "string"}}}}}
    accepted = {"description": "Accepted: see Content-Location or X-Progress"}
    if path.endswith("$export"):
        return {"202": accepted}
    if "/bulk-status/" in path:
        if method == "delete":
            return {"202": {"description": "Cancelled, or its files deleted"}}
        return {"200": {"description": "The manifest",
                        "content": {FHIR_JSON: {"schema": {"type": "object"}}}}, "202": accepted}
    return {"200": {"description": "A FHIR resource or Bundle",
                    "content": {FHIR_JSON: {"schema": RESOURCE}}}}


class FhirResponses(BasePlugin):  # type: ignore[misc]
    """Documents FHIR answers and OperationOutcome errors for paths under the FHIR base."""

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **_: Any) -> None:
        if not path or not path.startswith(PREFIX) or not operations:
            return
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            responses = _success(path, method)
            responses["default"] = {"description": "An OperationOutcome",
                                    "content": {FHIR_JSON: {"schema": OPERATION_OUTCOME}}}
            operation["responses"] = responses
