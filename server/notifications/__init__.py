"""Notifications (SPEC §5, §6): one claim → send → record pipeline, two delivery policies.

- ``pipeline.py``: the pipeline. A pass claims due work in a write unit of work, finds
  the recipients' live subscriptions, sends with a ``notify.Pusher`` outside any
  transaction, then records each delivery and how each claim ended;
- ``delivery.py``: the send-and-log step the pipeline (and the push test endpoint) use;
- the policies say what differs: who receives a notification, its payload and Web Push
  headers, and what happens after a failed or unanswered send. Reminders
  (``server/notifications/reminders.py``) are at most once; escalation notices
  (``escalation_notices.py``) at least once, with re-notification;
- ``prompt.py``: a web request's first escalation notice, sent after its unit of work
  committed and its response is out.

``server/notifications/webpush.py`` is the Web Push sender itself and never touches the database.
"""
