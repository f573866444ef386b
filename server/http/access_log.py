"""The access log names the route, never the requested path or its query string.

``/api/v1/patients/<patient_id>/<resource>`` is logged, not the patient's id; unknown
paths are logged as ``-``. Flask puts the pattern in the WSGI environ, which gunicorn's
access log line reads (``ACCESS_LOG_FORMAT``, used by ``doorstep serve``).
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

ROUTE_KEY = "doorstep.route"
# address "METHOD route" status bytes seconds
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %({' + ROUTE_KEY + '}e)s" %(s)s %(b)s %(L)ss'
_PLACEHOLDER = re.compile(r"<(?:[^>]*:)?([^:>]+)>")  # <any('a','b'):resource> -> <resource>


def route_pattern(rule: str) -> str:
    return _PLACEHOLDER.sub(r"<\1>", rule)


def note_route(response: Response) -> Response:
    """after_request: the matched route's pattern, for the access log."""
    rule = request.url_rule
    request.environ[ROUTE_KEY] = route_pattern(rule.rule) if rule is not None else "-"
    return response


def init_app(app: Flask) -> None:
    app.after_request(note_route)
