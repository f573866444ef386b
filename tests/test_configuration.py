"""Configuration is one documented table: every key in DEFAULTS is in the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server import config

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def documented_keys() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", DOC.read_text(), flags=re.M))


def test_every_setting_is_documented():
    assert set(config.DEFAULTS) - documented_keys() == set()


def test_no_documented_setting_is_stale():
    assert documented_keys() - set(config.DEFAULTS) == set()


def test_environment_overrides_are_typed(tmp_path):
    loaded = config.load({"DOORSTEP_ACCESS_TOKEN_MINUTES": "5",
                          "DOORSTEP_INSTANCE": str(tmp_path)})
    resolved = config.resolve_paths(loaded)
    assert resolved["ACCESS_TOKEN_MINUTES"] == 5
    assert resolved["DB"] == str(tmp_path / "doorstep.db")


def test_a_bad_value_stops_with_the_key_named():
    with pytest.raises(SystemExit, match="DOORSTEP_LOGIN_MAX_FAILURES"):
        config.load({"DOORSTEP_LOGIN_MAX_FAILURES": "five"})


def test_a_postgresql_url_opens_postgresql_and_writes_no_sqlite_file(
    tmp_path, monkeypatch, empty_postgres_url
):
    """DATABASE_URL selects PostgreSQL: `doorstep init` migrates that database, and the
    app never quietly writes a local SQLite file instead."""
    from click.testing import CliRunner

    from server import cli
    from storage import open_storage
    from storage.postgres import PostgresStorage

    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", empty_postgres_url)
    result = CliRunner().invoke(cli.main, ["init"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "instance" / "doorstep.db").exists()
    opened = open_storage(empty_postgres_url)
    try:
        assert isinstance(opened, PostgresStorage)
        assert opened.pending_migrations() == []
    finally:
        opened.close()
