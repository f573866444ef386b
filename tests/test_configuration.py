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
