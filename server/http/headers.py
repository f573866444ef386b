"""Security headers on every response (SPEC §7).

The CSP allows no inline script or style: the PWA and the API docs ship as files.
API responses are never cached by browsers or proxies: they hold patient data.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Set on every response unless the view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    # One pass over the response's few headers: Headers.setdefault looks each name up
    # through a raised and caught KeyError, a tenth of an empty poll's response hook.
    present = {key.lower() for key in headers.keys()}
    wanted = SECURITY_HEADERS + ((HSTS,) if request.is_secure else ())
    for key, value in wanted:
        if key.lower() not in present:
            headers.add(key, value)
    if request.path.startswith("/api/"):
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
