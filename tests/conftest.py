"""Shared fixtures: a fresh app and real SQLite database per test, a controllable clock,
and plain factory functions for teams, users and sessions."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dbtools
import pytest
from flask import Flask
from flask.testing import FlaskClient
from postgres_cluster import (  # noqa: F401
    empty_postgres_url,
    postgres_cluster,
    postgres_url,
    report_skips,
)

from server import database
from server.app import create_app
from server.services import accounts

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


class Clock:
    """A wall clock tests move by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


def test_config(tmp_path: Any, clock: Clock | None = None, **overrides: Any) -> dict[str, Any]:
    config = {
        "TESTING": True,
        "INSTANCE": str(tmp_path / "instance"),
        # Cheap hashes keep the suite fast; production uses the documented defaults.
        "PASSWORD_HASH_TIME_COST": 1,
        "PASSWORD_HASH_MEMORY_KIB": 256,
    }
    if clock is not None:
        config["CLOCK"] = clock
    config.update(overrides)
    return config


test_config.__test__ = False  # type: ignore[attr-defined]


_template: list[Path] = []


def _template_database() -> Path:
    """A migrated database made once per test process; each app starts from a copy
    (migrating every test's database from scratch cost more than the test itself)."""
    if not _template:
        path = Path(tempfile.mkdtemp(prefix="doorstep-template-")) / "doorstep.db"
        storage = create_app(test_config(path.parent, DB=str(path)))
        database.migrate(storage)
        database.storage(storage).close()
        _template.append(path)
    return _template[0]


def migrated_app(config: dict[str, Any]) -> Flask:
    """``create_app(config)`` on a database with the current schema, as ``doorstep init``
    leaves it: a fresh database is a copy of the template with its own epoch."""
    application = create_app(config)
    dbtools.init_app(application)
    if dbtools.is_postgres_url(config.get("DATABASE_URL", "")):
        # A fresh database copied from the cluster's migrated template (postgres_url).
        application.config["DATABASE"] = config["DATABASE_URL"]
        database.migrate(application)
        return application
    target = Path(application.config["DB"])
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template_database(), target)
        database.migrate(application)
        store = database.storage(application).sync_store()
        with store.write_transaction():
            store.rotate_epoch()  # type: ignore[attr-defined]
        return application
    database.migrate(application)
    return application


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers", "both_backends: the `app` fixture runs the test on SQLite and on PostgreSQL")
    config.addinivalue_line(
        "markers", "sqlite_only(reason): in a both_backends module, on SQLite only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests (or modules) marked ``both_backends`` get their ``app`` once per backend."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_backends") is None:
        return
    sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
    names = ["sqlite"] if sqlite_only else ["sqlite", "postgres"]
    metafunc.parametrize("backend", names, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The app's storage backend: SQLite unless the test is marked ``both_backends``."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Any, clock: Clock,
        backend: str) -> Iterator[Flask]:
    overrides = {}
    if backend == "postgres":  # a fresh database from the cluster's migrated template
        overrides["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    application = migrated_app(test_config(tmp_path, clock, **overrides))
    yield application
    if backend == "postgres":
        database.storage(application).close()  # before the database is dropped


def pytest_terminal_summary(terminalreporter: Any) -> None:
    report_skips(terminalreporter)


@pytest.fixture(params=["sqlite", "postgres"])
def sync_db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """Where an engine-level test's bare store lives, once per backend: a SQLite file
    path, or a fresh migrated PostgreSQL database's URL (``sync_helpers.make_store``
    takes either). Stores opened on it are closed after the test."""
    import sync_helpers

    if request.param == "sqlite":
        yield tmp_path / "sync.db"
    else:
        yield request.getfixturevalue("postgres_url")
    sync_helpers.close_stores()


@pytest.fixture
def new_sync_db() -> Any:
    """For property tests: a factory, each call a new empty engine database (in-memory
    SQLite; ``new_postgres_sync_db`` is the same on PostgreSQL)."""
    return lambda: ":memory:"


@pytest.fixture
def new_postgres_sync_db(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory, each call a fresh migrated PostgreSQL database (the previous one and
    the stores opened on it are dropped and closed)."""
    import postgres_cluster as pg
    import sync_helpers

    cluster: pg.Cluster = request.getfixturevalue("postgres_cluster")
    made: list[str] = []

    def drop_made() -> None:
        sync_helpers.close_stores()
        while made:
            cluster.drop_database(made.pop())

    def make() -> str:
        drop_made()
        made.append(cluster.create_database(pg.migrated_template(cluster)))
        return made[-1]

    yield make
    drop_made()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def make_team(app: Flask, name: str | None = None) -> str:
    with app.app_context(), database.write() as uow:
        team = accounts.create_team(uow, name or f"Team {next(_counter)}")
    return str(team["id"])


def make_user(
    app: Flask,
    role: str = "nurse",
    *,
    teams: tuple[str, ...] = (),
    username: str | None = None,
    password: str = PASSWORD,
    patient_id: str | None = None,
) -> accounts.User:
    with app.app_context():
        password_hash = accounts.hash_ahead(role, password)
        with database.write() as uow:
            return accounts.create_user(
                uow,
                username=username or f"{role}{next(_counter)}",
                password=password,
                password_hash=password_hash,
                role=role,
                display_name=f"Test {role.title()}",
                team_ids=teams,
                patient_id=patient_id,
            )


class Session:
    """A logged-in device: a test client that sends its bearer token."""

    def __init__(self, client: FlaskClient, body: dict[str, Any]):
        self.client = client
        self.body = body
        self.access_token = body["access_token"]
        self.refresh_token = body["refresh_token"]
        self.client_id = body["client_id"]
        self.user = body["user"]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers(), **kw)

    def post(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.post(url, json=json, headers=self.headers(), **kw)

    def patch(self, url: str, json: Any = None, **kw: Any) -> Any:
        return self.client.patch(url, json=json, headers=self.headers(), **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers(), **kw)


def login(
    client: FlaskClient, username: str, password: str = PASSWORD, device: str = "tablet"
) -> Session:
    response = client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password, "device_name": device},
    )
    assert response.status_code == 200, response.json
    return Session(client, response.json)


def login_as(app: Flask, client: FlaskClient, role: str = "nurse",
             teams: tuple[str, ...] = (), **kw: Any) -> Session:
    user = make_user(app, role, teams=teams, **kw)
    return login(client, user.username)


_NHS_TEST_NUMBERS = itertools.count(1)


def next_nhs_number() -> str:
    """A Modulus-11-valid NHS test number (999 range), different on every call."""
    from server.clinical.nhs_number import check_digit

    while True:
        first_nine = f"999{next(_NHS_TEST_NUMBERS):06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return f"{first_nine}{digit}"


def patient_fields(team_id: str, **overrides: Any) -> dict[str, Any]:
    fields = {
        "nhs_number": next_nhs_number(),
        "given_name": "Edith",
        "family_name": "Crawley",
        "date_of_birth": "1941-03-02",
        "sex": "female",
        "address": "4 Mill Lane, Testtown",
        "postcode": "TE1 4ST",
        "phone": "01632 960123",
        "team_id": team_id,
        "gp_practice": "Testtown Surgery",
        "named_gp": "Dr Okafor",
        "complexity_tier": "moderate",
        "risk_profiling_opt_out": False,
        "sharing_objection": False,
        "access_notes": "Key safe 1234; dog",
    }
    fields.update(overrides)
    return fields


def make_record(app: Flask, entity: str, fields: dict[str, Any],
                record_id: str | None = None) -> str:
    """Write a record as the server would (system actor), through the engine."""
    from server.records import engine as records
    from sync.registry import SYSTEM

    with app.app_context(), database.write() as uow:
        return records.write_as_system(uow, SYSTEM, entity, fields, record_id)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Debian Chromium for every browser test of the run (see tests/browser.py)."""
    from browser import launch_args
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        yield browser
        browser.close()


def make_patient(app: Flask, team_id: str, **overrides: Any) -> str:
    return make_record(app, "patient", patient_fields(team_id, **overrides))
