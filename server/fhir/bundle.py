"""Bundles (search results, $everything) and OperationOutcome (errors).

Errors under ``/api/v1/fhir/`` are OperationOutcome resources, as FHIR clients expect,
not Doorstep's one error shape: the FHIR blueprint first builds the one shape with the
same handler every endpoint uses (``server/http/errors.py``), then ``operation_outcome``
converts it, so status codes, messages and per-field errors are decided in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from server.fhir.common import Resource

# HTTP status -> OperationOutcome issue code (http://hl7.org/fhir/issue-type).
ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 409: "conflict", 410: "deleted", 413: "too-costly",
               415: "not-supported", 422: "processing", 429: "throttled"}


def searchset(base_url: str, resources: Iterable[Resource], self_url: str,
              next_url: str | None = None) -> Resource:
    entries = [{"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r,
                "search": {"mode": "match"}} for r in resources]
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if next_url is None:
        bundle["total"] = len(entries)
    if entries:
        bundle["entry"] = entries
    return bundle


def operation_outcome(body: dict[str, Any]) -> Resource:
    """The one error shape ``{code, status, message, errors}`` as an OperationOutcome."""
    code = int(body.get("code") or 500)
    issue_code = ISSUE_CODES.get(code, "exception" if code >= 500 else "processing")
    issues: list[Resource] = [{"severity": "error", "code": issue_code,
                               "diagnostics": str(body.get("message") or body.get("status"))}]
    for name, messages in (body.get("errors") or {}).items():
        texts = messages if isinstance(messages, list) else [messages]
        issues.append({"severity": "error", "code": "invalid" if code < 500 else issue_code,
                       "diagnostics": "; ".join(str(t) for t in texts),
                       "expression": [str(name)]})
    return {"resourceType": "OperationOutcome", "issue": issues}
