"""Requests and responses for auth, devices, invites, users, teams and audit."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.services.accounts import ROLES
from sync.protocol import MAX_INTEGER

Name = fields.String


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024),
                             load_only=True)
    device_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    # Optional: a device that logs in again after its session expired keeps its
    # client_id, so its unsynced outbox keeps numbering (never lose an offline edit).
    client_id = fields.String(validate=validate.Length(max=64))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class UserSchema(Schema):
    id = fields.String()
    username = fields.String()
    role = fields.String()
    display_name = fields.String()
    team_ids = fields.List(fields.String())


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    client_id = fields.String()
    user = fields.Nested(UserSchema)


class MeSchema(UserSchema):
    client_id = fields.String()
    patient_id = fields.String(allow_none=True)


class EnrolSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=4, max=40))
    username = fields.String(required=True, validate=validate.Length(min=3, max=64))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=1024))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class InviteRequestSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(["patient", "carer"]))
    relationship = fields.String(validate=validate.Length(min=1, max=60))
    consent_basis = fields.String(
        validate=validate.OneOf(["patient_consent", "lasting_power_of_attorney",
                                 "best_interests"])
    )


class InviteSchema(Schema):
    code = fields.String()
    expires_at = fields.String()


class DeviceSchema(Schema):
    client_id = fields.String()
    user_id = fields.String()
    username = fields.String()
    name = fields.String()
    created_at = fields.String()
    last_seen_at = fields.String()
    revoked_at = fields.String(allow_none=True)
    waiting_changes = fields.Integer()
    oldest_waiting_at = fields.String(allow_none=True)
    waiting_reported_at = fields.String(allow_none=True)


class WaitingChangesSchema(Schema):
    """A device's own report of its outbox: how many changes wait, since when."""

    waiting = fields.Integer(required=True, strict=True,
                             validate=validate.Range(min=0, max=1_000_000))
    oldest_at = fields.AwareDateTime(load_default=None, allow_none=True)


class DownloadSizeSchema(Schema):
    records = fields.Integer()


class DeviceSecretSchema(Schema):
    secret = fields.String(metadata={"description": "32 random bytes, base64url"})
    offline_unlock_seconds = fields.Float()
    idle_lock_seconds = fields.Float()
    hidden_lock_seconds = fields.Float()


class RevokeSchema(Schema):
    reason = fields.String(load_default="revoked", validate=validate.Length(max=200))


class NewUserSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = fields.String(required=True)
    team_ids = fields.List(fields.String(), load_default=list)


class UserUpdateSchema(Schema):
    active = fields.Boolean()
    team_ids = fields.List(fields.String())


class AdminUserSchema(UserSchema):
    active = fields.Boolean()


class TeamSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AuditQuerySchema(Schema):
    patient_id = fields.String()
    user_id = fields.String()
    before_id = fields.Integer(validate=validate.Range(min=1, max=MAX_INTEGER))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = fields.String()
    user_id = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    action = fields.String()
    entity = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    patient_id = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)
