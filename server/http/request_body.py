"""Request bodies are checked once, before any view, so no view meets hostile text.

- Every body must be valid UTF-8: it is refused (400), never silently "repaired".
- A JSON body must parse and nest at most ``MAX_JSON_DEPTH`` deep (400): Python's
  parser gives up with a RecursionError long before 100,000 levels.
- A JSON body must hold no NaN or infinite number (Python reads ``NaN`` and ``1e999``;
  JSON has no such values), and no lone UTF-16 surrogate (``"\\ud800"``, JavaScript's half an
  emoji): such a string cannot be stored or hashed (400).

The sync push is the exception to the last two rules: the engine parses its body and
turns whatever is wrong with one mutation into that mutation's ``rejected`` result with
its raw text quarantined, so one bad character never blocks a device's outbox.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, request

from server.http.errors import fail

MAX_JSON_DEPTH = 32
# Read and checked by the sync engine itself (see the module docstring).
ENGINE_PARSED_PATHS = frozenset({"/api/v1/sync/push"})
_NOT_UNICODE = ["Contains text that is not valid Unicode (a lone UTF-16 surrogate)."]


def has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_problem(value: Any) -> str | None:
    """Why a parsed JSON value is refused (too deep, or unencodable text), or None."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if has_lone_surrogate(item):
                return "surrogate"
            continue
        if isinstance(item, float) and not math.isfinite(item):
            return "number"
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            return "depth"
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        else:
            pending.extend((child, depth + 1) for child in item)
    return None


def _too_deep() -> None:
    fail(400, "The request body is nested too deeply.",
         {"body": [f"JSON may nest at most {MAX_JSON_DEPTH} levels."]})


def check_request_body() -> None:
    """before_request: refuse bodies no view should have to handle."""
    if not request.path.startswith("/api/") or request.routing_exception is not None:
        return
    raw = request.get_data(cache=True)
    if not raw:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        fail(400, "The request body is not valid UTF-8.", {"body": ["Not valid UTF-8."]})
    if request.path in ENGINE_PARSED_PATHS or not request.is_json:
        return
    try:
        parsed = json.loads(text)
    except RecursionError:
        _too_deep()
    except ValueError:
        fail(400, "The request body is not valid JSON.", {"body": ["Not valid JSON."]})
    problem = json_problem(parsed)
    if problem == "depth":
        _too_deep()
    if problem == "number":
        fail(400, "The request body holds a number out of range.",
             {"body": ["Numbers must be finite."]})
    if problem == "surrogate":
        fail(400, "The request body contains text that is not valid Unicode.",
             {"body": _NOT_UNICODE})


def init_app(app: Flask) -> None:
    app.before_request(check_request_body)
