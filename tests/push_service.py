"""A local Web Push service on 127.0.0.1 that checks and decrypts like a real one.

It is the fake at the network edge (ARCHITECTURE habit 11): our sender is pywebpush,
unmocked; this service plays Mozilla's or Google's part:

- ``Authorization: vapid t=<JWT>, k=<key>``: the ES256 signature is verified with ``k``,
  ``aud`` must be this service's origin, ``exp`` in the future and at most 24 h away,
  ``sub`` a mailto: or https: contact (RFC 8292);
- ``TTL`` is required, ``Urgency`` and ``Topic`` are checked when present (RFC 8030);
- every ``aes128gcm`` body is decrypted with http_ece using the subscription's private
  key and auth secret (RFC 8291), exactly as a browser would.

Subscriptions are browser-like: a P-256 key pair and a 16-byte auth secret per endpoint.
Answers can be scripted per endpoint or for the next N requests: any status (with
``Retry-After``) or ``DROP`` (close the connection without answering).

Run it on its own (for the benchmark) with ``python tests/push_service.py``: it prints
its origin and offers ``/_control/subscribe?n=``, ``/_control/stats``, ``/_control/reset``,
``/_control/latency?ms=`` (delay every answer) and ``/_control/stop``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

DROP = "drop"  # a scripted answer that closes the connection without a response
URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_BODY = 4096


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """What ``pushManager.subscribe()`` gives a browser, plus the browser's secrets."""

    endpoint: str
    token: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass
class Scripted:
    status: int | str  # an HTTP status or DROP
    retry_after: str | None = None


@dataclass
class Received:
    """One request as the push service saw it, after its own checks."""

    token: str
    at: float
    headers: dict[str, str]
    answered: int | str
    problems: list[str] = field(default_factory=list)
    claims: dict[str, Any] | None = None
    vapid_key: str | None = None
    plaintext: bytes | None = None

    @property
    def payload(self) -> Any:
        return json.loads(self.plaintext) if self.plaintext is not None else None

    @property
    def ttl(self) -> str | None:
        return self.headers.get("ttl")

    @property
    def urgency(self) -> str | None:
        return self.headers.get("urgency")

    @property
    def topic(self) -> str | None:
        return self.headers.get("topic")


class PushService:
    """The service: start(), subscribe(), script answers, read ``received``, stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep_plaintext: bool = True):
        self.host, self.port = host, port
        self.keep_plaintext = keep_plaintext
        self.latency = 0.0  # seconds before each answer, like a distant real service
        self._subscriptions: dict[str, BrowserSubscription] = {}
        self._per_endpoint: dict[str, deque[Scripted]] = {}
        self._next: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.counts = {"requests": 0, "decrypted": 0, "problems": 0}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> PushService:
        service = self

        class Handler(_Handler):
            push_service = service

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 256
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- subscriptions and scripting ---------------------------------------------------

    def subscribe(self) -> BrowserSubscription:
        token = secrets.token_urlsafe(24)
        sub = BrowserSubscription(
            endpoint=f"{self.origin}/push/{token}",
            token=token,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        with self._lock:
            self._subscriptions[token] = sub
        return sub

    def unsubscribe(self, sub: BrowserSubscription) -> None:
        """The browser dropped it: the endpoint now answers 410 Gone."""
        with self._lock:
            self._subscriptions.pop(sub.token, None)

    def script(self, sub: BrowserSubscription, *answers: int | str | Scripted) -> None:
        """Answer the next requests to this endpoint with these, in order."""
        with self._lock:
            queue = self._per_endpoint.setdefault(sub.token, deque())
            queue.extend(a if isinstance(a, Scripted) else Scripted(a) for a in answers)

    def answer_next(self, count: int, status: int | str, retry_after: str | None = None) -> None:
        """Answer the next ``count`` requests, to any endpoint, with ``status``."""
        with self._lock:
            self._next.extend(Scripted(status, retry_after) for _ in range(count))

    def _scripted(self, token: str) -> Scripted | None:
        with self._lock:
            queue = self._per_endpoint.get(token)
            if queue:
                return queue.popleft()
            if self._next:
                return self._next.popleft()
        return None

    # -- what arrived -------------------------------------------------------------------

    def for_endpoint(self, sub: BrowserSubscription) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.token == sub.token]

    def delivered(self) -> list[Received]:
        """Requests answered 201 whose payload decrypted: what browsers would show."""
        with self._lock:
            return [r for r in self.received if r.answered == 201 and r.plaintext is not None]

    def problems(self) -> list[str]:
        with self._lock:
            return [p for r in self.received for p in r.problems]

    # -- checking a request -------------------------------------------------------------

    def inspect(self, token: str, headers: dict[str, str], body: bytes) -> Received:
        record = Received(token=token, at=time.time(), headers=headers, answered=0)
        record.claims, record.vapid_key = self._check_vapid(headers.get("authorization"),
                                                            record.problems)
        self._check_headers(headers, record.problems)
        with self._lock:
            sub = self._subscriptions.get(token)
        if sub is not None:
            record.plaintext = self._decrypt(sub, headers, body, record.problems)
        return record

    def _check_vapid(self, header: str | None, problems: list[str]
                     ) -> tuple[dict[str, Any] | None, str | None]:
        if not header:
            problems.append("auth: missing Authorization")
            return None, None
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            problems.append(f"auth: scheme {scheme!r} is not vapid")
            return None, None
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t"), parts.get("k")
        if not token or not key:
            problems.append("auth: t= and k= are required")
            return None, None
        try:
            head_b64, claims_b64, sig_b64 = token.split(".")
            head = json.loads(unb64url(head_b64))
            claims = json.loads(unb64url(claims_b64))
            sig = unb64url(sig_b64)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
            if head.get("alg") != "ES256" or len(sig) != 64:
                raise InvalidSignature
            der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                             int.from_bytes(sig[32:], "big"))
            public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError, binascii.Error):
            problems.append("auth: JWT signature does not verify with k")
            return None, key
        now = time.time()
        if claims.get("aud") != self.origin:
            problems.append(f"auth: aud {claims.get('aud')!r} is not {self.origin}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= now or exp > now + 86400 + 5:
            problems.append("auth: exp must be in the future and at most 24 h away")
        sub = claims.get("sub", "")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            problems.append("auth: sub must be mailto: or https:")
        return claims, key

    @staticmethod
    def _check_headers(headers: dict[str, str], problems: list[str]) -> None:
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            problems.append("headers: TTL missing or not a number")
        urgency = headers.get("urgency")
        if urgency is not None and urgency not in URGENCIES:
            problems.append(f"headers: Urgency {urgency!r}")
        topic = headers.get("topic")
        if topic is not None and not TOPIC.match(topic):
            problems.append("headers: Topic must be ≤ 32 base64url characters")

    @staticmethod
    def _decrypt(sub: BrowserSubscription, headers: dict[str, str], body: bytes,
                 problems: list[str]) -> bytes | None:
        if headers.get("content-encoding") != "aes128gcm":
            problems.append("body: Content-Encoding must be aes128gcm")
            return None
        if len(body) > MAX_BODY:
            problems.append("body: over 4096 bytes")
            return None
        try:
            plain: bytes = http_ece.decrypt(body, private_key=sub.private_key,
                                            auth_secret=sub.auth_secret, version="aes128gcm")
            return plain
        except Exception as exc:  # noqa: BLE001 - any failure to decrypt is the finding
            problems.append(f"body: does not decrypt ({type(exc).__name__})")
            return None

    def answer_for(self, record: Received) -> Scripted:
        scripted = self._scripted(record.token)
        if scripted is not None:
            return scripted
        with self._lock:
            known = record.token in self._subscriptions
        if not known:
            return Scripted(410)
        if any(p.startswith("auth:") for p in record.problems):
            return Scripted(401)
        if record.problems:
            return Scripted(400)
        return Scripted(201)

    def log(self, record: Received) -> None:
        with self._lock:
            self.counts["requests"] += 1
            self.counts["decrypted"] += record.plaintext is not None
            self.counts["problems"] += bool(record.problems)
            if not self.keep_plaintext and record.answered == 201 and not record.problems:
                return  # the benchmark keeps counts only
            self.received.append(record)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the sender's session expects
    push_service: PushService

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if path.startswith("/_control/"):
            return self._control(path)
        if not path.startswith("/push/"):
            return self._reply(404)
        service = self.push_service
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = service.inspect(path.removeprefix("/push/"), headers, body)
        answer = service.answer_for(record)
        record.answered = answer.status
        service.log(record)
        if service.latency:
            time.sleep(service.latency)
        if answer.status == DROP:
            self.close_connection = True
            return None
        extra = {"Retry-After": answer.retry_after} if answer.retry_after else {}
        if answer.status == 201:
            extra["Location"] = f"/message/{secrets.token_urlsafe(8)}"
        assert isinstance(answer.status, int)
        return self._reply(answer.status, headers=extra)

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        if path.startswith("/_control/"):
            return self._control(path)
        return self._reply(404)

    def _control(self, path: str) -> None:
        service = self.push_service
        query = parse_qs(urlsplit(self.path).query)
        if path == "/_control/subscribe":
            subs = [service.subscribe().as_json() for _ in range(int(query.get("n", ["1"])[0]))]
            return self._reply(200, json.dumps(subs).encode(),
                               {"Content-Type": "application/json"})
        if path == "/_control/stats":
            with service._lock:
                stats = dict(service.counts)
                stats["problem_samples"] = [p for r in service.received[:50] for p in r.problems]
            return self._reply(200, json.dumps(stats).encode(),
                               {"Content-Type": "application/json"})
        if path == "/_control/latency":
            service.latency = float(query.get("ms", ["0"])[0]) / 1000
            return self._reply(200)
        if path == "/_control/reset":
            with service._lock:
                service._subscriptions.clear()
                service.received.clear()
                service.counts = dict.fromkeys(service.counts, 0)
            return self._reply(200)
        if path == "/_control/stop":
            self._reply(200)
            threading.Thread(target=service.stop, daemon=True).start()
            return None
        return self._reply(404)


@pytest.fixture(name="push_service")
def push_service_fixture() -> Iterator[PushService]:
    """A running local push service, stopped after the test."""
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture(name="second_push_service")
def second_push_service_fixture() -> Iterator[PushService]:
    """Another push service with its own origin (VAPID aud differs per origin)."""
    service = PushService().start()
    yield service
    service.stop()


def main() -> None:
    """Serve until /_control/stop; prints the origin on the first line."""
    service = PushService(keep_plaintext=False).start()
    print(service.origin, flush=True)
    assert service._thread is not None
    while service._server is not None:
        time.sleep(0.2)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
