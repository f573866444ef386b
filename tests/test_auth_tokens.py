"""Token lifecycle: login, expiry, rotation, reuse of a dead refresh token, logout."""

from __future__ import annotations

from conftest import PASSWORD, Clock, login, make_user, migrated_app


def test_login_returns_the_spec_shape(app, client):
    user = make_user(app, "nurse", username="nina")
    response = client.post(
        "/api/v1/auth/login",
        json={"username": "NINA", "password": PASSWORD, "device_name": "Ward tablet 3"},
    )
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in",
                         "client_id", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["user"] == {"id": user.id, "username": "nina", "role": "nurse",
                            "display_name": "Test Nurse", "team_ids": []}


def test_tokens_are_stored_hashed(app, client):
    user = make_user(app)
    session = login(client, user.username)
    with app.app_context():
        from dbtools import get_db

        stored = [row[0] for row in get_db().execute("SELECT token_hash FROM tokens")]
    assert session.access_token not in stored and session.refresh_token not in stored
    assert len(stored) == 2


def test_wrong_password_and_unknown_user_look_the_same(app, client):
    make_user(app, username="nina")
    wrong = client.post("/api/v1/auth/login",
                        json={"username": "nina", "password": "nope", "device_name": "t"})
    unknown = client.post("/api/v1/auth/login",
                          json={"username": "nobody", "password": "nope", "device_name": "t"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["message"] == unknown.json["message"]


def test_access_token_expires_after_15_minutes(app, client, clock: Clock):
    session = login(client, make_user(app).username)
    clock.advance(minutes=14, seconds=59)
    assert session.get("/api/v1/me").status_code == 200
    clock.advance(seconds=2)
    expired = session.get("/api/v1/me")
    assert expired.status_code == 401
    assert expired.json["errors"] == {"token": ["Expired."]}


def test_refresh_rotates_and_the_old_pair_dies(app, client):
    session = login(client, make_user(app).username)
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh_token})
    assert response.status_code == 200
    new = response.json
    assert new["client_id"] == session.client_id
    assert new["refresh_token"] != session.refresh_token
    assert session.get("/api/v1/me").status_code == 401  # old access token died too
    headers = {"Authorization": f"Bearer {new['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_reusing_a_dead_refresh_token_revokes_the_device(app, client, clock: Clock):
    session = login(client, make_user(app).username)
    stolen = session.refresh_token
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen}).json
    clock.advance(seconds=61)  # past the grace window for retries of a lost answer
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen})
    assert reuse.status_code == 401
    assert reuse.json["errors"] == {"device": "revoked"}
    # The legitimate holder of the newer pair is signed out too: the device is revoked.
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 401 and me.json["errors"] == {"device": "revoked"}
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.json["errors"] == {"device": "revoked"}


def test_refresh_token_expires_after_30_days(app, client, clock: Clock):
    session = login(client, make_user(app).username)
    clock.advance(days=30, seconds=1)
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh_token})
    assert response.status_code == 401
    assert response.json["errors"] == {"refresh_token": ["Expired."]}


def test_logout_kills_the_tokens_but_does_not_revoke(app, client):
    user = make_user(app)
    session = login(client, user.username)
    assert session.post("/api/v1/auth/logout").status_code == 204
    assert session.get("/api/v1/me").json["errors"] == {"token": ["Expired."]}
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": session.refresh_token})
    assert refreshed.status_code == 401
    # …and logging in again on the same device keeps its client_id (its outbox numbering).
    again = client.post("/api/v1/auth/login", json={
        "username": user.username, "password": PASSWORD, "device_name": "tablet",
        "client_id": session.client_id})
    assert again.json["client_id"] == session.client_id


def test_a_client_id_of_someone_else_is_not_reused(app, client):
    first = login(client, make_user(app).username)
    other = make_user(app)
    response = client.post("/api/v1/auth/login", json={
        "username": other.username, "password": PASSWORD, "device_name": "t",
        "client_id": first.client_id})
    assert response.json["client_id"] != first.client_id


def test_disabled_account_cannot_log_in_or_use_tokens(app, client):
    user = make_user(app)
    session = login(client, user.username)
    admin = login(client, make_user(app, "admin").username)
    assert admin.patch(f"/api/v1/users/{user.id}", json={"active": False}).status_code == 200
    assert session.get("/api/v1/me").status_code == 401
    response = client.post("/api/v1/auth/login", json={
        "username": user.username, "password": PASSWORD, "device_name": "t"})
    assert response.status_code == 401


def test_me_and_bad_headers(app, client):
    session = login(client, make_user(app).username)
    me = session.get("/api/v1/me").json
    assert me["client_id"] == session.client_id
    for header in ("", "Bearer", "Basic abc", "Bearer nonsense"):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- the refresh grace window (a retry after a lost answer is not a theft) ----------------


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def device_revoked(app, client_id):
    with app.app_context():
        from dbtools import get_db

        row = get_db().execute(
            "SELECT revoked_at FROM devices WHERE client_id = ?", (client_id,)).fetchone()
    return row["revoked_at"] is not None


def test_a_retried_refresh_within_the_grace_window_gets_the_same_pair(app, client, clock):
    session = login(client, make_user(app).username)
    first = refresh(client, session.refresh_token).json  # imagine this answer was lost
    clock.advance(seconds=59)
    retry = refresh(client, session.refresh_token)
    assert retry.status_code == 200
    assert retry.json["access_token"] == first["access_token"]
    assert retry.json["refresh_token"] == first["refresh_token"]
    assert retry.json["expires_in"] == first["expires_in"] - 59
    assert not device_revoked(app, session.client_id)
    headers = {"Authorization": f"Bearer {retry.json['access_token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert refresh(client, retry.json["refresh_token"]).status_code == 200


def test_after_the_grace_window_the_previous_token_revokes_the_device(app, client, clock):
    session = login(client, make_user(app).username)
    refresh(client, session.refresh_token)
    clock.advance(seconds=60)
    late = refresh(client, session.refresh_token)
    assert late.status_code == 401 and late.json["errors"] == {"device": "revoked"}
    assert device_revoked(app, session.client_id)


def test_the_grace_window_is_configurable(tmp_path, clock):
    from conftest import test_config

    app = migrated_app(test_config(tmp_path, clock, REFRESH_GRACE_SECONDS=0))
    client = app.test_client()
    session = login(client, make_user(app).username)
    refresh(client, session.refresh_token)
    assert refresh(client, session.refresh_token).json["errors"] == {"device": "revoked"}


def test_an_older_token_than_the_previous_one_revokes_even_within_the_window(app, client):
    session = login(client, make_user(app).username)
    second = refresh(client, session.refresh_token).json
    refresh(client, second["refresh_token"])  # the new pair was used: no lost answer
    stale = refresh(client, session.refresh_token)
    assert stale.json["errors"] == {"device": "revoked"}
    assert device_revoked(app, session.client_id)


def test_a_retry_after_logout_fails_without_revoking(app, client, clock):
    session = login(client, make_user(app).username)
    first = refresh(client, session.refresh_token).json
    headers = {"Authorization": f"Bearer {first['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    clock.advance(seconds=5)
    retry = refresh(client, session.refresh_token)
    assert retry.status_code == 401 and retry.json["errors"] == {"refresh_token": ["Expired."]}
    assert refresh(client, first["refresh_token"]).json["errors"] == {
        "refresh_token": ["Expired."]}
    assert not device_revoked(app, session.client_id)


def test_no_token_is_kept_in_plaintext_for_the_grace_window(app, client):
    session = login(client, make_user(app).username)
    first = refresh(client, session.refresh_token).json
    with app.app_context():
        from dbtools import get_db

        rows = [dict(row) for row in get_db().execute("SELECT * FROM tokens")]
    dump = repr(rows)
    for token in (session.access_token, session.refresh_token, first["access_token"],
                  first["refresh_token"]):
        assert token not in dump and token.encode() not in b"".join(
            row["successor_sealed"] or b"" for row in rows)
    assert sum(row["successor_sealed"] is not None for row in rows) == 1
