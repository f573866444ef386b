"""Typed errors the engine raises for whole requests; each names its HTTP status.

Per-mutation failures are not exceptions: they become ``rejected`` results (see
push.py). These are for requests the engine refuses as a whole. The server maps them
generically: ``except SyncError as e: fail(e.http_status, e.message, e.errors)``.

Record-level refusals use the registry's exceptions (``ValidationFailed`` → 422,
``NotPermitted`` → 404, never 403) from :mod:`sync.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SyncError(Exception):
    """A request the sync engine refuses as a whole."""

    http_status = 400
    message = "Bad sync request."

    def __init__(self, errors: Mapping[str, Any] | None = None, message: str | None = None):
        super().__init__(message or self.message)
        self.errors: dict[str, Any] = dict(errors or {})
        if message:
            self.message = message


class MalformedRequest(SyncError):
    """The push envelope or pull parameters are not the wire contract (422)."""

    http_status = 422
    message = "The sync request is malformed."


class BatchTooLarge(SyncError):
    """A push batch exceeds 500 mutations or 5 MB (413); the client splits it."""

    http_status = 413
    message = "The push batch is too large."


class UnsupportedSchemaVersion(SyncError):
    """The push's schema_version is not served; the batch was quarantined (426)."""

    http_status = 426
    message = "This app version is no longer supported; please update it."


class QuarantineFull(SyncError):
    """What this push would quarantine takes its user over the daily cap (429)."""

    http_status = 429
    message = (
        "Too much of what this account sent today could not be applied. Nothing was "
        "lost: the app will try again later; if this persists, ask your administrator."
    )


class CursorResetRequired(SyncError):
    """A pull cursor the server can no longer serve (410); the client re-pulls from scratch."""

    http_status = 410
    message = "The sync cursor can no longer be served; pull again from scratch."

    def __init__(self, why: str = "unreadable"):
        super().__init__({"cursor": "reset_required"})
        # Why, for logs and tests only; the client is told just "reset_required".
        self.why = why


class ConflictAlreadyResolved(SyncError):
    """The conflict was resolved already (409); the resolution is shown on the record."""

    http_status = 409
    message = "This conflict has already been resolved."
