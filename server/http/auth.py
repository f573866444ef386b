"""Login, token refresh, logout, the current user, and enrolment by invite code."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import database
from server.http.errors import fail
from server.records.schemas.accounts import (
    EnrolSchema,
    LoginSchema,
    MeSchema,
    RefreshSchema,
    TokenSchema,
    UserSchema,
)
from server.services import accounts, audit, auth, enrolment

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and sessions")


def _token_body(user: accounts.User, client_id: str, pair: auth.TokenPair) -> dict[str, Any]:
    return {**pair.body(), "client_id": client_id, "user": user.public()}


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Log in on a device and get an access and a refresh token"""
        try:
            user, client_id, pair = auth.login(
                database.storage(),
                body["username"],
                body["password"],
                body["device_name"],
                auth.client_address(),
                body.get("client_id"),
            )
        except auth.AuthError as exc:
            if exc.errors.get("throttled"):
                fail(429, str(exc))
            fail(401, str(exc), exc.errors)
        return _token_body(user, client_id, pair)


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Swap a refresh token for a new pair (the old one dies)"""
        with database.write() as uow:
            try:
                user_id, client_id, pair = auth.refresh(uow, body["refresh_token"])
            except auth.AuthError as exc:
                failure = exc  # kept: a reused token's revocation must commit
            else:
                failure = None
                user = accounts.user_by_id(uow, user_id)
        if failure is not None:
            fail(401, str(failure), failure.errors)
        assert user is not None
        return _token_body(user, client_id, pair)


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """End this device's session (its tokens stop working)"""
        actor = auth.current_actor()
        with database.write() as uow:
            auth.kill_device_tokens(uow, actor.client_id, "logout")
            audit.record(uow, actor, "logout")


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """The signed-in user and this device"""
        actor = auth.current_actor()
        with database.read() as uow:
            user = accounts.user_by_id(uow, actor.user_id)
        assert user is not None
        return {**user.public(), "client_id": actor.client_id, "patient_id": user.patient_id}


@blp.route("/auth/enrol")
class Enrol(MethodView):
    @blp.arguments(EnrolSchema)
    @blp.response(201, UserSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a patient or carer account with a one-time invite code"""
        try:
            user = enrolment.enrol(database.storage(), auth.client_address(), **body)
        except enrolment.EnrolmentError as exc:
            fail(exc.code, str(exc), exc.errors)
        return user.public()
