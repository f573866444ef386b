"""Instrument definitions loaded from ``instruments/*.json`` — the one copy of the rules.

The same JSON files are imported by the PWA (``pwa/src/clinical``), so thresholds, bands,
cut-offs and the text shown to clinicians are defined once for both sides.

Invariants:
- every file is checked when it is loaded; a malformed file raises
  :class:`InstrumentError` naming the file and the problem, never a wrong score later;
- loaded definitions are cached per directory and must be treated as read-only;
- the directory is ``$DOORSTEP_INSTRUMENTS`` if set, else ``instruments/`` at the
  repository root (``Path(__file__).parents[2]``), which holds for a source checkout and
  for the editable install the Makefile makes.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

INSTRUMENTS_ENV = "DOORSTEP_INSTRUMENTS"
NAMES = ("falls", "short_fes_i", "activation", "nhs_number")

Instrument = dict[str, Any]


class InstrumentError(ValueError):
    """An instrument definition file is missing or malformed."""


def instruments_dir() -> Path:
    """Where the instrument JSON files live (overridable with $DOORSTEP_INSTRUMENTS)."""
    override = os.environ.get(INSTRUMENTS_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "instruments"


def load(name: str, directory: Path | None = None) -> Instrument:
    """The validated definition ``<directory>/<name>.json`` (cached)."""
    if name not in NAMES:
        raise InstrumentError(f"unknown instrument {name!r}; known: {', '.join(NAMES)}")
    return _load(name, (directory or instruments_dir()).resolve())


@cache
def _load(name: str, directory: Path) -> Instrument:
    path = directory / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InstrumentError(f"{path}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise InstrumentError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise InstrumentError(f"{path}: must hold a JSON object")
    try:
        _CHECKS[name](data)
    except (KeyError, TypeError) as exc:
        raise InstrumentError(f"{path}: missing or mistyped entry {exc}") from exc
    except InstrumentError as exc:
        raise InstrumentError(f"{path}: {exc}") from exc
    return data


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise InstrumentError(problem)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_falls(data: Instrument) -> None:
    thresholds = data["thresholds"]
    expected = {"recurrent_falls_min", "frailty_cfs_min", "tug_impaired_above_s",
                "gait_speed_impaired_below_m_s"}
    _require(set(thresholds) == expected, f"thresholds must be exactly {sorted(expected)}")
    _require(all(_is_number(v) and v > 0 for v in thresholds.values()),
             "thresholds must be positive numbers")
    for field, spec in data["answers"].items():
        _require(spec["type"] in ("integer", "number", "boolean"), f"answers.{field}: type")
        if spec["type"] != "boolean":
            _require(_is_number(spec["min"]) and _is_number(spec["max"])
                     and spec["min"] <= spec["max"], f"answers.{field}: min/max")
    messages = {"required", "required_if_fall", "only_with_fall", "yes_or_no",
                "whole_number", "number", "range"}
    _require(messages <= set(data["messages"]), f"messages must include {sorted(messages)}")
    reasons = {"fall_in_last_12_months", "feels_unsteady", "worried_about_falling",
               "fall_with_injury", "recurrent_falls", "frailty", "unable_to_get_up",
               "lost_consciousness", "tug_slow", "gait_speed_slow", "gait_not_impaired",
               "no_falls_or_concerns", "gait_not_measured", "frailty_not_recorded"}
    _require(set(data["reasons"]) == reasons, f"reasons must be exactly {sorted(reasons)}")
    for code, reason in data["reasons"].items():
        _require(reason["kind"] in ("finding", "note") and isinstance(reason["text"], str)
                 and reason["text"] != "", f"reasons.{code}: kind and non-empty text")
    _require(set(data["actions"]) == {"low", "intermediate", "high"},
             "actions must be given for low, intermediate and high")
    for level, actions in data["actions"].items():
        _require(len(actions) > 0 and all(a["code"] and a["text"] for a in actions),
                 f"actions.{level}: each needs a code and text")
    _require(len(data["multifactorial"]["domains"]) > 0, "multifactorial.domains empty")
    _require("not_assessed" in data["multifactorial"]["values"],
             "multifactorial.values must include not_assessed")


def _check_contiguous(items: list[dict[str, Any]], low: float, high: float, step: float,
                      what: str) -> None:
    """Bands must start at ``low``, end at ``high`` and leave no gap or overlap."""
    _require(len(items) > 0, f"{what}: empty")
    _require(items[0]["min"] == low and items[-1]["max"] == high,
             f"{what}: must cover {low}..{high}")
    for before, after in zip(items, items[1:], strict=False):
        _require(round((after["min"] - before["max"]) / step) == 1,
                 f"{what}: gap or overlap between {before['max']} and {after['min']}")
    _require(all(item["min"] <= item["max"] for item in items), f"{what}: min above max")


def _check_fes_i(data: Instrument) -> None:
    score = data["score"]
    _check_contiguous(data["bands"], score["min"], score["max"], 1, "bands")
    _require(all(isinstance(b["band"], str) and b["label"] for b in data["bands"]),
             "bands need band and label")


def _check_activation(data: Instrument) -> None:
    score = data["score"]
    _require(score["decimals"] == 1, "score.decimals must be 1")
    _require({"number", "range", "decimals", "source_level"} <= set(data["messages"]),
             "messages must include number, range, decimals, source_level")
    _check_contiguous(data["levels"], score["min"], score["max"], 0.1, "levels")
    _require([lv["level"] for lv in data["levels"]] == [1, 2, 3, 4], "levels must be 1..4")


def _check_nhs_number(data: Instrument) -> None:
    _require(data["length"] == 10 and data["weights"] == list(range(10, 1, -1)),
             "length must be 10 and weights 10..2")
    expected = {"empty", "not_digits", "wrong_length", "check_digit_10",
                "check_digit_mismatch"}
    _require(set(data["messages"]) == expected, f"messages must be exactly {sorted(expected)}")


_CHECKS = {
    "falls": _check_falls,
    "short_fes_i": _check_fes_i,
    "activation": _check_activation,
    "nhs_number": _check_nhs_number,
}
