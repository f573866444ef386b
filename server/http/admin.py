"""Users and teams, managed by admins (who see no clinical records)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from server import database
from server.http.errors import fail, not_found
from server.records.schemas.accounts import (
    AdminUserSchema,
    NewUserSchema,
    TeamSchema,
    UserUpdateSchema,
)
from server.services import accounts, audit, auth

blp = Blueprint("admin", __name__, url_prefix="/api/v1", description="Users and teams")


def _user_body(user: accounts.User) -> dict[str, Any]:
    return {**user.public(), "active": user.active}


@blp.route("/users")
class Users(MethodView):
    @blp.response(200, AdminUserSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List every account (admin)"""
        auth.require_role("admin")
        with database.read() as uow:
            return [_user_body(u) for u in accounts.list_users(uow)]

    @blp.arguments(NewUserSchema)
    @blp.response(201, AdminUserSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a staff account (admin); patients and carers enrol by invite"""
        actor = auth.require_role("admin")
        if body["role"] in ("patient", "carer"):
            fail(422, "Patients and carers enrol with an invite code.",
                 {"role": ["Use an invite for patients and carers."]})
        # Hashed before the write unit of work: argon2 must not hold the write lock.
        password_hash = accounts.hash_ahead(body["role"], body["password"])
        with database.write() as uow:
            try:
                user = accounts.create_user(uow, **{**body, "team_ids": tuple(body["team_ids"])},
                                            password_hash=password_hash)
            except accounts.AccountError as exc:
                fail(422, "The account details are not valid.", exc.errors)
            audit.record(uow, actor, "create_user",
                         detail={"user_id": user.id})
        return _user_body(user)


@blp.route("/users/<user_id>")
class UserById(MethodView):
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, AdminUserSchema)
    def patch(self, body: dict[str, Any], user_id: str) -> dict[str, Any]:
        """Change an account's teams or disable it (admin)"""
        actor = auth.require_role("admin")
        with database.write() as uow:
            user = accounts.user_by_id(uow, user_id)
            if user is None:
                not_found("User")
            if "team_ids" in body:
                known = {t["id"] for t in accounts.list_teams(uow)}
                unknown = [t for t in body["team_ids"] if t not in known]
                if unknown or (body["team_ids"] and user.role in ("patient", "carer")):
                    fail(422, "Those teams cannot be set.", {"team_ids": ["Invalid teams."]})
                accounts.set_teams(uow, user_id, tuple(body["team_ids"]))
            if "active" in body:
                accounts.set_active(uow, user_id, body["active"])
            audit.record(uow, actor, "update_user",
                         detail={"user_id": user_id, "fields": sorted(body)})
            updated = accounts.user_by_id(uow, user_id)
        assert updated is not None
        return _user_body(updated)


@blp.route("/teams")
class Teams(MethodView):
    @blp.response(200, TeamSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """List teams (staff and admins)"""
        auth.require_role("admin", "nurse", "coordinator")
        with database.read() as uow:
            return accounts.list_teams(uow)

    @blp.arguments(TeamSchema)
    @blp.response(201, TeamSchema)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a team (admin)"""
        actor = auth.require_role("admin")
        with database.write() as uow:
            try:
                team = accounts.create_team(uow, body["name"])
            except accounts.AccountError as exc:
                fail(422, "The team is not valid.", exc.errors)
            audit.record(uow, actor, "create_team",
                         detail={"team_id": team["id"]})
        return team
