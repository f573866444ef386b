"""Every kind of error answers in the one shape {code, status, message, errors}."""

from __future__ import annotations

import pytest
from conftest import login, make_user, migrated_app


def assert_shape(response, code):
    assert response.status_code == code
    assert response.is_json
    body = response.json
    assert set(body) == {"code", "status", "message", "errors"}
    assert body["code"] == code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    return body


def test_unknown_api_path_is_404(client):
    assert_shape(client.get("/api/v1/no-such-thing"), 404)


def test_wrong_method_is_405(client):
    response = client.get("/api/v1/auth/login")
    assert_shape(response, 405)
    assert "POST" in response.headers["Allow"]


def test_missing_token_is_401(client):
    body = assert_shape(client.get("/api/v1/devices"), 401)
    assert body["errors"] == {"token": ["Missing bearer token."]}


def test_role_not_allowed_is_403(app, client):
    nurse = login(client, make_user(app).username)
    assert_shape(nurse.get("/api/v1/users"), 403)


def test_validation_errors_are_422_with_flat_field_errors(client):
    body = assert_shape(client.post("/api/v1/auth/login", json={"username": 7}), 422)
    assert set(body["errors"]) == {"username", "password", "device_name"}


def test_unknown_fields_are_rejected(client):
    body = assert_shape(client.post("/api/v1/auth/login", json={
        "username": "a", "password": "b", "device_name": "c", "admin": True}), 422)
    assert "admin" in body["errors"]


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/login", data="{not json",
                           content_type="application/json")
    assert_shape(response, 400)


def test_body_over_5_mb_is_413(client):
    response = client.post("/api/v1/auth/login", data="x" * (5 * 1024 * 1024 + 1),
                           content_type="application/json")
    assert_shape(response, 413)


def test_record_out_of_scope_is_404_not_403(app, client):
    coordinator = login(client, make_user(app, "coordinator").username)
    assert_shape(coordinator.post("/api/v1/devices/someone-elses/revoke"), 404)


@pytest.fixture
def failing_app(tmp_path, clock):
    from conftest import test_config

    app = migrated_app(test_config(tmp_path, clock))
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/api/v1/boom")
    def boom():
        raise RuntimeError("patient 9434765919 broke it")

    return app


def test_unexpected_exception_is_500_without_details(failing_app, caplog):
    from server.services.auth import PUBLIC_PATHS

    client = failing_app.test_client()
    user = make_user(failing_app)
    session = login(client, user.username)
    assert "/api/v1/boom" not in PUBLIC_PATHS
    response = session.get("/api/v1/boom")
    body = assert_shape(response, 500)
    assert "9434765919" not in response.get_data(as_text=True)
    assert body["message"] == "Something went wrong on the server."
    assert "RuntimeError" in caplog.text and "boom" in caplog.text
    assert "9434765919" not in caplog.text
