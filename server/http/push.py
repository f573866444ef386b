"""Web Push: the server's public key, this device's subscription, and a test message."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from server import database
from server.clock import utcnow
from server.http.errors import fail, not_found
from server.notifications import delivery, vapid
from server.notifications import webpush as notify
from server.services import auth, push_subscriptions

blp = Blueprint("push", __name__, url_prefix="/api/v1/push", description="Web Push")

# An interactive test should answer quickly: one retry, short waits.
TEST_POLICY = notify.RetryPolicy(max_tries=2, backoff_seconds=0.5, max_wait_seconds=2.0)
TEST_TTL = 300


class VapidKeySchema(Schema):
    public_key = fields.String(metadata={"description": "applicationServerKey, base64url"})


class SubscriptionKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    auth = fields.String(required=True, validate=validate.Length(min=1, max=100))


class SubscriptionRequestSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    keys = fields.Nested(SubscriptionKeysSchema, required=True)
    # PushSubscription.toJSON() also carries this; accepted and ignored.
    expirationTime = fields.Raw(allow_none=True, load_only=True)  # noqa: N815


class SubscriptionSchema(Schema):
    id = fields.String()
    client_id = fields.String()
    endpoint = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    last_http_status = fields.Integer(allow_none=True)


class TestOutcomeSchema(Schema):
    subscription_id = fields.String()
    status = fields.String(metadata={"description": "delivered | gone | rejected | failed"})
    http_status = fields.Integer(allow_none=True)
    attempts = fields.Integer()


class TestResultSchema(Schema):
    sent = fields.Integer()
    delivered = fields.Integer()
    results = fields.List(fields.Nested(TestOutcomeSchema))


def _vapid_or_503() -> Any:
    try:
        return vapid.load_vapid(current_app.config["INSTANCE"])
    except vapid.VapidKeyMissing:
        fail(503, "Push notifications are not set up on this server (run `doorstep init`).")


@blp.route("/vapid-public-key")
class VapidPublicKey(MethodView):
    @blp.response(200, VapidKeySchema)
    def get(self) -> dict[str, str]:
        """The key to pass as applicationServerKey to pushManager.subscribe()"""
        return {"public_key": vapid.public_key_of(_vapid_or_503())}


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @blp.response(200, SubscriptionSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Your push subscriptions, one per device"""
        actor = auth.current_actor()
        with database.read() as uow:
            return push_subscriptions.own_subscriptions(uow, actor.user_id)

    @blp.arguments(SubscriptionRequestSchema)
    @blp.response(201, SubscriptionSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Subscribe this device to notifications (again: updates the same subscription)"""
        actor = auth.current_actor()
        try:
            push_subscriptions.check_subscription(
                body["endpoint"], body["keys"]["p256dh"], body["keys"]["auth"],
                current_app.config,
            )
        except push_subscriptions.SubscriptionInvalid as exc:
            fail(422, "The push subscription cannot be used.", exc.errors)
        with database.write() as uow:
            return push_subscriptions.save_subscription(
                uow, actor, body["endpoint"], body["keys"]["p256dh"], body["keys"]["auth"],
                utcnow(),
            )


@blp.route("/subscriptions/<subscription_id>")
class SubscriptionById(MethodView):
    @blp.response(204)
    def delete(self, subscription_id: str) -> None:
        """Unsubscribe: this subscription gets no more notifications"""
        actor = auth.current_actor()
        with database.write() as uow:
            deleted = push_subscriptions.delete_own_subscription(uow, actor.user_id,
                                                                 subscription_id)
        if not deleted:
            not_found("Subscription")


@blp.route("/test")
class PushTest(MethodView):
    @blp.response(200, TestResultSchema)
    def post(self) -> dict[str, Any]:
        """Send a test notification to each of your subscriptions and report what happened"""
        actor = auth.current_actor()
        _vapid_or_503()
        pusher = notify.pusher_for_app(current_app._get_current_object())  # type: ignore[attr-defined]
        payload = {"type": "test", "title": "Doorstep",
                   "body": "Notifications are working on this device.", "url": "/",
                   "id": str(uuid.uuid4())}
        results = []
        with database.read() as uow:
            subscriptions = delivery.subscriptions_for_users(uow, [actor.user_id])
        for sub in subscriptions:
            job = notify.PushJob("test", payload["id"], sub, payload, TEST_TTL, "normal",
                                 notify.topic_for("test", actor.user_id))
            outcome = pusher.send(sub, payload, ttl=TEST_TTL, topic=job.topic,
                                  policy=TEST_POLICY)
            results.append((job, outcome))
        delivery.record_outcomes(database.storage(), results)
        return {
            "sent": len(results),
            "delivered": sum(o.delivered for _, o in results),
            "results": [{"subscription_id": o.subscription_id, "status": o.status,
                         "http_status": o.http_status, "attempts": o.attempts}
                        for _, o in results],
        }
