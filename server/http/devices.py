"""Devices: list the ones you may manage, revoke a lost or stolen one."""

from __future__ import annotations

import base64
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from server import database
from server.http.errors import not_found
from server.records import engine as records
from server.records.schemas.accounts import (
    DeviceSchema,
    DeviceSecretSchema,
    DownloadSizeSchema,
    RevokeSchema,
    WaitingChangesSchema,
)
from server.services import audit, auth, devices
from sync.scope import visible_patient_ids

blp = Blueprint("devices", __name__, url_prefix="/api/v1", description="Devices")


@blp.route("/devices")
class Devices(MethodView):
    @blp.response(200, DeviceSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """Devices you may manage: your own; a coordinator's teams'; all for an admin"""
        with database.read() as uow:
            return devices.manageable(uow, auth.current_actor())


@blp.route("/devices/<client_id>/revoke")
class DeviceRevoke(MethodView):
    @blp.arguments(RevokeSchema, required=False)
    @blp.response(204)
    def post(self, body: dict[str, Any] | None, client_id: str) -> None:
        """Revoke a device: its next call answers 401 and the app wipes its data"""
        actor = auth.current_actor()
        with database.write() as uow:
            if not devices.may_revoke(uow, actor, client_id):
                not_found("Device")
            reason = (body or {}).get("reason", "revoked")
            auth.revoke_device(uow, client_id, actor.user_id, reason)
            audit.record(uow, actor, "revoke_device",
                         detail={"client_id": client_id})


@blp.route("/devices/<client_id>/secret")
class DeviceSecret(MethodView):
    @blp.response(200, DeviceSecretSchema)
    def get(self, client_id: str) -> dict[str, Any]:
        """This device's own secret for unlocking its encrypted data, and its lock policy"""
        actor = auth.current_actor()
        with database.write() as uow:
            secret = devices.release_secret(uow, actor, client_id)
            if secret is None:
                not_found("Device")
            audit.record(uow, actor, "release_device_secret",
                         detail={"client_id": client_id})
        return {
            "secret": base64.urlsafe_b64encode(secret).rstrip(b"=").decode(),
            **devices.lock_policy(current_app.config, actor.role),
        }


@blp.route("/devices/current/waiting")
class DeviceWaitingChanges(MethodView):
    @blp.arguments(WaitingChangesSchema)
    @blp.response(204)
    def put(self, body: dict[str, Any]) -> None:
        """This device's unsent changes (sent after each sync), shown before a revoke"""
        actor = auth.current_actor()
        with database.write() as uow:
            devices.report_waiting(uow, actor.client_id, body["waiting"], body["oldest_at"])


@blp.route("/devices/current/download-size")
class DeviceDownloadSize(MethodView):
    @blp.response(200, DownloadSizeSchema)
    def get(self) -> dict[str, int]:
        """About how many records this device's first sync downloads (progress: N of M)"""
        with database.read() as uow:
            patients = visible_patient_ids(uow.store, records.registry(), auth.current_actor())
            return {"records": devices.download_size(uow, patients)}
