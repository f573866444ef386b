"""One error shape for every failure: ``{code, status, message, errors}``.

HTTP errors raised anywhere (abort, webargs validation, 404/405 from routing, 413 from
the body limit) and unexpected exceptions all answer in this shape. A 500 is logged
with its exception type and stack frames only: not the exception's text, the request
body or the query string, any of which may hold patient identifiers.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NoReturn

from flask import Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("doorstep.errors")


class ApiError(HTTPException):
    """A domain error with a status code, a message for people and per-field errors."""

    def __init__(self, code: int, message: str, errors: dict[str, Any] | None = None):
        super().__init__(description=message)
        self.code = code
        self.errors = errors or {}


def fail(code: int, message: str, errors: dict[str, Any] | None = None) -> NoReturn:
    """Stop the request with the one error shape."""
    raise ApiError(code, message, errors)


def not_found(what: str = "Record") -> NoReturn:
    """The answer for anything outside the caller's scope: never 403, no leak of existence."""
    fail(404, f"{what} not found.")


def error_body(code: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": message,
        "errors": errors or {},
    }


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    # webargs nests field errors by location ({"json": {...}}, {"query": {...}});
    # clients get one flat map of field -> messages.
    if not isinstance(messages, dict):
        return {"_": messages}
    flat: dict[str, Any] = {}
    for location, by_field in messages.items():
        if isinstance(by_field, dict):
            flat.update(by_field)
        else:
            flat[location] = by_field
    return flat


def handle_http_exception(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    errors: dict[str, Any] = getattr(exc, "errors", None) or {}
    data = getattr(exc, "data", None) or {}
    if "messages" in data:  # webargs / flask-smorest validation error
        errors = _flatten_webargs(data["messages"])
        message = "The request has invalid fields." if code == 422 else exc.description
    elif "message" in data:
        message = data["message"]
        errors = data.get("errors", errors)
    else:
        message = exc.description or HTTPStatus(code).phrase
    response = jsonify(error_body(code, str(message), errors))
    response.status_code = code
    if code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="doorstep"'
    return response


def handle_unexpected(exc: Exception) -> ResponseReturnValue:
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    # Frames and type only: an exception's text can quote values (identifiers).
    frames = "\n".join(
        f"  {frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
    )
    log.error("unhandled %s at\n%s", type(exc).__name__, frames)
    return handle_http_exception(InternalServerError("Something went wrong on the server."))


class ErrorSchema(Schema):
    """The one error shape, as the OpenAPI document states it: all four fields, always."""

    code = fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    status = fields.String(required=True, metadata={"description": "The status phrase"})
    message = fields.String(required=True, metadata={"description": "For people"})
    errors = fields.Dict(required=True, metadata={"description": "Field -> messages"})


class ErrorShapeApi(Api):  # type: ignore[misc]
    """flask-smorest's Api documenting every error response with ``ErrorSchema``."""

    ERROR_SCHEMA = ErrorSchema


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _answer)
    app.register_error_handler(Exception, _answer)


def answer_errors_under(app: Flask, prefix: str,
                        handler: Callable[[Exception], ResponseReturnValue]) -> None:
    """Errors of requests under ``prefix`` answer through ``handler`` (the FHIR API's
    OperationOutcome) — also when no route there matched, where no blueprint's own
    handler would run. ``handler`` builds on ``handle_unexpected``."""
    app.extensions.setdefault(_SHAPES, {})[prefix] = handler


_SHAPES = "doorstep.error_shapes"


def _answer(exc: Exception) -> ResponseReturnValue:
    for prefix, handler in current_app.extensions.get(_SHAPES, {}).items():
        if request.path.startswith(prefix):
            return handler(exc)
    return handle_unexpected(exc)
