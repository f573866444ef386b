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


def test_a_postgresql_url_refuses_to_start_and_writes_no_sqlite_file(tmp_path, monkeypatch):
    """Until the PostgreSQL backend lands, DATABASE_URL must not be silently ignored
    while the app quietly writes a local SQLite file instead."""
    from click.testing import CliRunner

    from server import cli

    monkeypatch.setenv("DOORSTEP_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", "postgresql://doorstep@db.example/doorstep")
    result = CliRunner().invoke(cli.main, ["init"])
    assert result.exit_code != 0
    assert "DOORSTEP_DATABASE_URL" in result.output and "PostgreSQL" in result.output
    assert not (tmp_path / "instance" / "doorstep.db").exists()
