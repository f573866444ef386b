"""Users and teams, managed by admins (who see no clinical records)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import accounts, audit, auth
from server.db import get_db, write_transaction
from server.errors import fail, not_found
from server.schemas.accounts import AdminUserSchema, NewUserSchema, TeamSchema, UserUpdateSchema

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Users and teams")


def _user_body(user: accounts.User) -> dict[str, Any]:
    return {**user.public(), "active": user.active}


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, AdminUserSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List every account (admin)"""
        auth.require_role("admin")
        return [_user_body(u) for u in accounts.list_users(get_db())]

    @blp.arguments(NewUserSchema)
    @blp.response(201, AdminUserSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a staff account (admin); patients and carers enrol by invite"""
        actor = auth.require_role("admin")
        if body["role"] in ("patient", "carer"):
            fail(422, "Patients and carers enrol with an invite code.",
                 {"role": ["Use an invite for patients and carers."]})
        conn = get_db()
        with write_transaction(conn):
            try:
                user = accounts.create_user(conn, **{**body, "team_ids": tuple(body["team_ids"])})
            except accounts.AccountError as exc:
                fail(422, "The account details are not valid.", exc.errors)
            audit.record(conn, actor, "create_user", detail={"user_id": user.id})
        return _user_body(user)


@blp.route("/users/<user_id>")
class UserById(MethodView):
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, AdminUserSchema)
    def patch(self, body: dict[str, Any], user_id: str) -> dict[str, Any]:
        """Change an account's teams or disable it (admin)"""
        actor = auth.require_role("admin")
        conn = get_db()
        with write_transaction(conn):
            user = accounts.user_by_id(conn, user_id)
            if user is None:
                not_found("User")
            if "team_ids" in body:
                known = {t["id"] for t in accounts.list_teams(conn)}
                unknown = [t for t in body["team_ids"] if t not in known]
                if unknown or (body["team_ids"] and user.role in ("patient", "carer")):
                    fail(422, "Those teams cannot be set.", {"team_ids": ["Invalid teams."]})
                accounts.set_teams(conn, user_id, tuple(body["team_ids"]))
            if "active" in body:
                accounts.set_active(conn, user_id, body["active"])
            audit.record(conn, actor, "update_user",
                         detail={"user_id": user_id, "fields": sorted(body)})
            updated = accounts.user_by_id(conn, user_id)
        assert updated is not None
        return _user_body(updated)


@blp.route("/teams")
class Teams(MethodView):
    @blp.response(200, TeamSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List teams (staff and admins)"""
        auth.require_role("admin", "nurse", "coordinator")
        return accounts.list_teams(get_db())

    @blp.arguments(TeamSchema)
    @blp.response(201, TeamSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a team (admin)"""
        actor = auth.require_role("admin")
        conn = get_db()
        with write_transaction(conn):
            try:
                team = accounts.create_team(conn, body["name"])
            except accounts.AccountError as exc:
                fail(422, "The team is not valid.", exc.errors)
            audit.record(conn, actor, "create_team", detail={"team_id": team["id"]})
        return team
