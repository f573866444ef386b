"""The access log names the route, never the requested path or its query string.

``/api/v1/patients/<patient_id>/<resource>`` is logged, not the patient's id; unknown
paths are logged as ``-``. The app writes the line itself (a WSGI wrapper around the
whole app), not the HTTP server: granian's own access log has only the raw path, which
carries record ids. ``doorstep serve`` turns it on (``ACCESS_LOG``); the line is

    address "METHOD route" status bytes seconds

with the seconds until the response started (a streamed download's body comes after).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, request

ROUTE_KEY = "doorstep.route"
_PLACEHOLDER = re.compile(r"<(?:[^>]*:)?([^:>]+)>")  # <any('a','b'):resource> -> <resource>
logger = logging.getLogger("doorstep.access")


def route_pattern(rule: str) -> str:
    return _PLACEHOLDER.sub(r"<\1>", rule)


def note_route(response: Response) -> Response:
    """after_request: the matched route's pattern, for the access log."""
    rule = request.url_rule
    request.environ[ROUTE_KEY] = route_pattern(rule.rule) if rule is not None else "-"
    return response


class AccessLog:
    """WSGI wrapper: one log line per request, after the app has answered."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        started = time.perf_counter()
        answer: list[str] = ["-", "-"]

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            answer[0] = status.split(" ", 1)[0]
            answer[1] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, *exc_info)

        body = self.app(environ, start)
        logger.info('%s "%s %s" %s %s %.6fs', environ.get("REMOTE_ADDR", "-"),
                    environ.get("REQUEST_METHOD", "-"), environ.get(ROUTE_KEY, "-"),
                    answer[0], answer[1], time.perf_counter() - started)
        return body


def init_app(app: Flask) -> None:
    app.after_request(note_route)
    if app.config["ACCESS_LOG"]:
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
