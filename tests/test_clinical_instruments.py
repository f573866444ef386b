"""Instrument files load, are validated on load, and a broken file fails loudly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server.clinical import instruments

SOURCE = Path(__file__).parents[1] / "instruments"


@pytest.mark.parametrize("name", instruments.NAMES)
def test_shipped_instruments_load(name: str) -> None:
    assert instruments.load(name)["id"]


def test_directory_is_the_repository_folder() -> None:
    assert instruments.instruments_dir().resolve() == SOURCE.resolve()


def test_directory_can_be_overridden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(instruments.INSTRUMENTS_ENV, str(tmp_path))
    assert instruments.instruments_dir() == tmp_path


def copy_with(tmp_path: Path, name: str, change: dict[str, object]) -> Path:
    shutil.copytree(SOURCE, tmp_path / "instruments")
    path = tmp_path / "instruments" / f"{name}.json"
    data = json.loads(path.read_text("utf-8"))
    data.update(change)
    path.write_text(json.dumps(data), "utf-8")
    return tmp_path / "instruments"


@pytest.mark.parametrize(("name", "change", "problem"), [
    ("activation", {"levels": [
        {"level": 1, "min": 0, "max": 47.0, "label": "a"},
        {"level": 2, "min": 47.2, "max": 55.1, "label": "b"},
        {"level": 3, "min": 55.2, "max": 67.0, "label": "c"},
        {"level": 4, "min": 67.1, "max": 100, "label": "d"}]}, "gap or overlap"),
    ("short_fes_i", {"bands": [
        {"band": "low", "min": 7, "max": 9, "label": "a"},
        {"band": "high", "min": 9, "max": 28, "label": "b"}]}, "gap or overlap"),
    ("falls", {"thresholds": {"tug_impaired_above_s": 15}}, "thresholds"),
    ("falls", {"actions": {"low": [], "intermediate": [], "high": []}}, "actions"),
    ("nhs_number", {"weights": [9, 8, 7, 6, 5, 4, 3, 2, 1]}, "weights"),
    ("falls", {"reasons": {}}, "reasons"),
])
def test_malformed_instrument_is_refused(tmp_path: Path, name: str,
                                         change: dict[str, object], problem: str) -> None:
    directory = copy_with(tmp_path, name, change)
    with pytest.raises(instruments.InstrumentError, match=problem):
        instruments.load(name, directory)


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(instruments.InstrumentError, match="not found"):
        instruments.load("falls", tmp_path)
    with pytest.raises(instruments.InstrumentError, match="unknown instrument"):
        instruments.load("morse_fall_scale")
    (tmp_path / "falls.json").write_text("{not json", "utf-8")
    with pytest.raises(instruments.InstrumentError, match="not valid JSON"):
        instruments.load("falls", tmp_path)
