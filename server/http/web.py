"""Serves the built PWA (pwa/dist) at "/", with index.html for client-side routes.

The service worker and index.html are revalidated on every load so a new release is
picked up; hashed assets are cached for a year.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, send_from_directory
from werkzeug.routing import PathConverter

from server.http.errors import fail

bp = Blueprint("web", __name__)


class AppPathConverter(PathConverter):
    """Any path except under api/, so unknown API paths answer 404/405 from routing."""

    regex = r"(?!api(?:/|$))[^/].*?"

NO_CACHE = {"index.html", "sw.js", "push-sw.js", "manifest.webmanifest", "registerSW.js"}


def _dist() -> Path:
    return Path(current_app.config["PWA_DIST"])


@bp.get("/", defaults={"path": ""})
@bp.get("/<apppath:path>")
def pwa(path: str) -> Response:
    dist = _dist()
    if not (dist / "index.html").is_file():
        fail(503, "The web app is not built. Run `make run` (it builds pwa/dist).")
    target = dist / path
    name = path if path and target.is_file() and dist in target.resolve().parents else ""
    response = send_from_directory(dist, name or "index.html")
    # Weak: the same file goes out compressed or not (server/http/compression.py).
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    if not name or Path(name).name in NO_CACHE:
        response.headers["Cache-Control"] = "no-cache"
    elif name.startswith("assets/"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def init_app(app: Flask) -> None:
    app.url_map.converters["apppath"] = AppPathConverter
    app.register_blueprint(bp)
