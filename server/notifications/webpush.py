"""Web Push delivery (SPEC §6): encrypt, sign, send, retry, and log every attempt.

Invariants:
- a payload is exactly ``{type, title, body, url, id}``: lock screens are public, so
  anything else (patient identifiers, clinical detail) is refused before encryption;
- every send signs fresh VAPID claims: ``aud`` is the endpoint's origin, ``exp`` at most
  24 h ahead (12 h here), ``sub`` from config; ``TTL`` is always explicit;
- 201/202 = delivered; 404/410 = gone, the subscription is deleted; 429, 5xx and network
  errors are retried with exponential backoff, honouring ``Retry-After``, at most
  ``max_tries`` tries in all; any other answer (400/401/403/413 …) is logged and the
  subscription kept (the fault is ours or transient, not the browser's);
- logs carry the push service's host and the HTTP status only — never an endpoint (a
  capability URL), a user or a patient;
- every notification sent to a subscription leaves one delivery-log row (written by
  ``server/notifications/delivery.py``, not here).

This module is the Web Push sender only: it never touches the database, so it can fan
out on a thread pool. ``server/notifications/`` claims what is due, sends it with a
``Pusher`` and records the outcomes.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from py_vapid import Vapid02, VapidException
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter

from server.notifications import vapid

log = logging.getLogger("doorstep.notify")

PAYLOAD_KEYS = frozenset({"type", "title", "body", "url", "id"})
PAYLOAD_TYPES = frozenset({"reminder", "escalation", "test"})
URGENCIES = ("very-low", "low", "normal", "high")
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# aes128gcm puts the whole message in one 4096-byte record; keep well clear of it.
MAX_PAYLOAD_BYTES = 3000
# VAPID tokens may live up to 24 h (RFC 8292 §2); shorter limits the harm of a leak.
VAPID_EXP_SECONDS = 12 * 3600

DELIVERED, GONE, REJECTED, FAILED = "delivered", "gone", "rejected", "failed"


class PayloadRefused(ValueError):
    """The payload has fields other than type/title/body/url/id, or is malformed."""


class InvalidPushOptions(ValueError):
    """TTL, Urgency or Topic is not what the Web Push protocol allows."""


@dataclass(frozen=True)
class Subscription:
    """A browser's push subscription as stored: endpoint plus its encryption keys."""

    id: str
    endpoint: str
    p256dh: str
    auth: str
    user_id: str | None = None

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Outcome:
    """What happened to one notification at one subscription."""

    subscription_id: str
    status: str  # delivered | gone | rejected | failed
    http_status: int | None
    attempts: int
    started_at: datetime
    finished_at: datetime
    error: str | None = None
    waits: tuple[float, ...] = ()  # the backoff sleeps requested, in seconds

    @property
    def delivered(self) -> bool:
        return self.status == DELIVERED


@dataclass(frozen=True)
class PushJob:
    """One notification for one subscription, with its Web Push headers."""

    notification_type: str
    notification_id: str
    subscription: Subscription
    payload: Mapping[str, Any]
    ttl: int
    urgency: str = "normal"
    topic: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 5
    backoff_seconds: float = 1.0  # first retry waits this long, then doubles
    max_wait_seconds: float = 300.0  # a longer Retry-After ends this round instead


def check_payload(payload: Mapping[str, Any]) -> bytes:
    """The payload as compact JSON bytes, or PayloadRefused."""
    if not isinstance(payload, Mapping):
        raise PayloadRefused("payload must be an object")
    keys = set(payload)
    if keys != PAYLOAD_KEYS:
        extra, missing = sorted(keys - PAYLOAD_KEYS), sorted(PAYLOAD_KEYS - keys)
        raise PayloadRefused(f"payload keys must be exactly {sorted(PAYLOAD_KEYS)}; "
                             f"extra {extra}, missing {missing}")
    for key in PAYLOAD_KEYS:
        if not isinstance(payload[key], str):
            raise PayloadRefused(f"payload {key} must be a string")
    if payload["type"] not in PAYLOAD_TYPES:
        raise PayloadRefused(f"payload type must be one of {sorted(PAYLOAD_TYPES)}")
    url = payload["url"]
    if not url.startswith("/") or url.startswith("//"):
        raise PayloadRefused("payload url must be a path in this app")
    body = json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode()
    if len(body) > MAX_PAYLOAD_BYTES:
        raise PayloadRefused(f"payload is over {MAX_PAYLOAD_BYTES} bytes")
    return body


def check_options(ttl: int, urgency: str, topic: str | None) -> None:
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
        raise InvalidPushOptions("TTL must be a whole number of seconds ≥ 0")
    if urgency not in URGENCIES:
        raise InvalidPushOptions(f"Urgency must be one of {URGENCIES}")
    if topic is not None and not TOPIC.match(topic):
        raise InvalidPushOptions("Topic must be 1-32 characters of the base64url alphabet")


def urgency_for(severity: str) -> str:
    """Web Push Urgency for an escalation severity: urgent and emergency wake the device."""
    return "high" if severity in ("urgent", "emergency") else "normal"


def topic_for(kind: str, key: str) -> str:
    """A collapse key for Topic: 32 url-safe characters that do not reveal ``key``."""
    digest = hashlib.sha256(f"{kind}:{key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:32]


def endpoint_origin(endpoint: str) -> str:
    """The VAPID ``aud``: scheme://host[:port] of the push endpoint."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP-date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pusher:
    """Sends Web Push messages. Thread-safe: one Pusher serves a whole fan-out."""

    vapid: Vapid02
    subject: str  # VAPID ``sub``: mailto: or https: contact for the push services
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 10.0
    pool_size: int = 32
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = _wall_clock
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        try:  # a bad subject would fail every send: fail at start-up instead
            self.vapid.sign({"aud": "https://push.example", "sub": self.subject})
        except VapidException as exc:
            raise ValueError("VAPID_SUBJECT must be mailto:name@domain or https://host") from exc
        # One connection per worker thread per push service host, reused across sends.
        adapter = HTTPAdapter(
            pool_connections=8, pool_maxsize=self.pool_size, max_retries=0
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], vapid: Vapid02, **overrides: Any) -> Pusher:
        settings: dict[str, Any] = {
            "subject": config["VAPID_SUBJECT"],
            "policy": RetryPolicy(
                max_tries=config["PUSH_MAX_TRIES"],
                backoff_seconds=config["PUSH_BACKOFF_SECONDS"],
                max_wait_seconds=config["PUSH_MAX_RETRY_WAIT_SECONDS"],
            ),
            "timeout": config["PUSH_TIMEOUT_SECONDS"],
            "pool_size": config["PUSH_POOL_SIZE"],
        }
        settings.update(overrides)
        return cls(vapid=vapid, **settings)

    def close(self) -> None:
        self.session.close()

    def claims(self, endpoint: str) -> dict[str, str | int]:
        """Fresh claims for one request (pywebpush mutates the dict it is given)."""
        return {
            "aud": endpoint_origin(endpoint),
            "sub": self.subject,
            "exp": int(time.time()) + VAPID_EXP_SECONDS,
        }

    def send(
        self,
        subscription: Subscription,
        payload: Mapping[str, Any],
        *,
        ttl: int,
        urgency: str = "normal",
        topic: str | None = None,
        policy: RetryPolicy | None = None,
    ) -> Outcome:
        """Send one message, retrying as SPEC §6 says; never raises for network trouble."""
        policy = policy or self.policy
        data = check_payload(payload)
        check_options(ttl, urgency, topic)
        headers = {"Urgency": urgency}
        if topic:
            headers["Topic"] = topic
        host = urlsplit(subscription.endpoint).hostname or "?"
        started = self.clock()
        waits: list[float] = []
        status: int | None = None
        error: str | None = None
        attempt = 0
        while attempt < policy.max_tries:
            attempt += 1
            retry_after: str | None = None
            try:
                response = webpush(
                    subscription.info(),
                    data=data,  # bytes: encrypted as is
                    vapid_private_key=self.vapid,
                    vapid_claims=self.claims(subscription.endpoint),
                    ttl=ttl,
                    headers=dict(headers),
                    timeout=self.timeout,
                    requests_session=self.session,
                )
                status, error = getattr(response, "status_code", None), None
            except WebPushException as exc:
                status = exc.status_code
                if status is None:  # refused before sending: the stored keys are unusable
                    return self._finish(subscription, REJECTED, None, attempt, started,
                                        "invalid_keys", waits, host)
                retry_after, error = exc.retry_after, f"http_{status}"
            except (requests.RequestException, OSError) as exc:
                status, error = None, "network:" + type(exc).__name__
            except ValueError:  # the p256dh is not a point on P-256
                return self._finish(subscription, REJECTED, None, attempt, started,
                                    "invalid_keys", waits, host)
            if status is not None and 200 <= status <= 202:
                return self._finish(subscription, DELIVERED, status, attempt, started,
                                    None, waits, host)
            if status in (404, 410):
                return self._finish(subscription, GONE, status, attempt, started,
                                    error, waits, host)
            if status is not None and status != 429 and status < 500:
                return self._finish(subscription, REJECTED, status, attempt, started,
                                    error, waits, host)
            if attempt >= policy.max_tries:
                break
            delay = parse_retry_after(retry_after, self.clock())
            if delay is None:
                delay = policy.backoff_seconds * 2 ** (attempt - 1)
            if delay > policy.max_wait_seconds:
                error = "retry_after_too_long"
                break
            waits.append(delay)
            self.sleep(delay)
        return self._finish(subscription, FAILED, status, attempt, started, error, waits, host)

    def _finish(
        self,
        subscription: Subscription,
        status: str,
        http_status: int | None,
        attempts: int,
        started: datetime,
        error: str | None,
        waits: list[float],
        host: str,
    ) -> Outcome:
        if status == REJECTED:
            log.warning("push refused by %s: %s; subscription kept", host, error or http_status)
        elif status == FAILED:
            log.warning("push to %s failed after %d tries: %s", host, attempts, error)
        return Outcome(subscription.id, status, http_status, attempts, started, self.clock(),
                       error, tuple(waits))

    def send_job(self, job: PushJob) -> Outcome:
        return self.send(job.subscription, job.payload, ttl=job.ttl, urgency=job.urgency,
                         topic=job.topic)

    def send_many(self, jobs: Sequence[PushJob]) -> Iterator[tuple[PushJob, Outcome]]:
        """Send on a bounded thread pool; yields (job, outcome) in the order given."""
        for job in jobs:  # refuse bad payloads before anything goes out
            check_payload(job.payload)
            check_options(job.ttl, job.urgency, job.topic)
        if len(jobs) <= 1:
            for job in jobs:
                yield job, self.send_job(job)
            return
        with ThreadPoolExecutor(max_workers=min(self.pool_size, len(jobs)),
                                thread_name_prefix="push") as pool:
            yield from zip(jobs, pool.map(self.send_job, jobs), strict=True)


def pusher_for_app(app: Flask) -> Pusher:
    """The process's Pusher for this app: one HTTP session and pool, shared by all senders.

    Raises ``vapid.VapidKeyMissing`` when ``doorstep init`` has not made the keys.
    """
    pusher: Pusher | None = app.extensions.get("doorstep_pusher")
    if pusher is None:
        pusher = Pusher.from_config(app.config, vapid.load_vapid(app.config["INSTANCE"]))
        app.extensions["doorstep_pusher"] = pusher
    return pusher


def send(
    subscription: Subscription,
    payload: Mapping[str, Any],
    *,
    ttl: int,
    urgency: str = "normal",
    topic: str | None = None,
    pusher: Pusher,
) -> Outcome:
    """Send one Web Push message with ``pusher`` (see :meth:`Pusher.send`)."""
    return pusher.send(subscription, payload, ttl=ttl, urgency=urgency, topic=topic)
