"""Compressed responses (zstd, brotli or gzip, as the client's Accept-Encoding allows) for
JSON API answers and the app shell, by Flask-Compress; every response says
``Vary: Accept-Encoding``.

- Bodies under the library's 500-byte threshold, error and 304 answers, and types
  outside its list are sent as they are: FHIR NDJSON bulk files stream unchanged from
  disk (``application/fhir+ndjson`` is not compressed).
- The app shell's files are streamed by ``send_from_directory``; gzip is added to the
  library's streaming algorithms so a gzip-only client gets them compressed too.
- Their ETags are made weak (``server/http/web.py``, as nginx does when it compresses), so
  ``If-None-Match`` still answers 304 whichever encoding the cached copy had; the
  library would otherwise append the encoding to a strong ETag that the file's own
  conditional check cannot match.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

ALGORITHMS = ["zstd", "br", "gzip", "deflate"]  # the library's default preference


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ALGORITHMS)
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ALGORITHMS)
    Compress(app)
    # Registered after Compress, so it runs before the library's hook (reverse order).
    app.after_request(_close_original_stream)


def _close_original_stream(response: Response) -> Response:
    """Close a streamed body (an open file) that compression will wrap.

    Flask-Compress replaces ``response.response`` with its compressing generator and
    drops the file wrapper it reads from, so closing the response would leave the file
    open until garbage collection (a ResourceWarning under ``filterwarnings = error``).
    Closing a file twice is harmless when the response is sent uncompressed.
    """
    close = getattr(response.response, "close", None)
    if response.is_streamed and close is not None:
        response.call_on_close(close)
    return response
