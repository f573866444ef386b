"""A web request's first escalation notices, sent as soon as they can be.

The escalation rules register :func:`after_response` on the unit of work that queued a
notice (``uow.on_commit``), so nothing happens if that unit rolls back. Once it has
committed, inside a web request, the send waits until the response is out
(``call_on_close``): the device that pushed is never kept waiting, and no push is sent
under the database write lock. Outside a request (the scheduler, the CLI) there is
nothing to do: the scheduler's next pass sends what is due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Flask, Response, after_this_request, current_app, has_request_context


def after_response(notice_ids: Sequence[str]) -> Callable[[], None]:
    """The after-commit callback that sends these notices once the response is out."""
    ids = list(notice_ids)

    def committed() -> None:
        if not ids or not has_request_context():
            return
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

        @after_this_request
        def send_when_closed(response: Response) -> Response:
            response.call_on_close(lambda: _send(app, ids))
            return response

    return committed


def _send(app: Flask, ids: list[str]) -> None:
    from server.notifications.escalation_notices import send_prompt_notices

    send_prompt_notices(app, ids)
