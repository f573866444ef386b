"""Patient activation (PAM) level from the score the licensed tool reports.

The PAM questionnaire is licensed (Insignia Health): Doorstep never shows or stores its
items, only the score (0–100, one decimal) and the level derived from the published
cut-offs in ``instruments/activation.json``: ≤ 47.0 → 1, 47.1–55.1 → 2, 55.2–67.0 → 3,
≥ 67.1 → 4.

Invariants (mirrored in ``pwa/src/clinical/activation.js``):
- scores are compared in whole tenths (``round(score × 10)``), so binary floating point
  never moves a boundary: 47.0 → 1 and 47.1 → 2 exactly;
- a score with more than one decimal (e.g. 47.05, which falls between two levels) is
  rejected, not rounded: the licensed tool reports one decimal, so more is a typing
  error; a tolerance of 1e-6 tenths absorbs float noise such as 0.1 + 0.2;
- if the tool's own level (``source_level``) differs, both are kept and
  ``level_mismatch`` is true, so a clinician can check — neither silently wins.
"""

from __future__ import annotations

import math
from typing import Any

from server.clinical import instruments

LEVELS = (1, 2, 3, 4)


def _tenths(value: float) -> int:
    return round(value * 10)


def score_problem(score: Any) -> str | None:
    """A message saying what is wrong with a score, or None if it is valid."""
    spec = instruments.load("activation")
    messages: dict[str, str] = spec["messages"]
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(
            score):
        return messages["number"]
    if not spec["score"]["min"] <= score <= spec["score"]["max"]:
        return messages["range"]
    if abs(score * 10 - _tenths(score)) > 1e-6:
        return messages["decimals"]
    return None


def source_level_problem(source_level: Any) -> str | None:
    if source_level is None:
        return None
    if isinstance(source_level, bool) or source_level not in LEVELS:
        message: str = instruments.load("activation")["messages"]["source_level"]
        return message
    return None


def activation_level(score: float) -> int:
    """PAM level 1–4; raises ValueError for a score outside 0–100 or with > 1 decimal."""
    problem = score_problem(score)
    if problem is not None:
        raise ValueError(problem)
    tenths = _tenths(score)
    for entry in instruments.load("activation")["levels"]:
        if _tenths(entry["min"]) <= tenths <= _tenths(entry["max"]):
            level: int = entry["level"]
            return level
    raise AssertionError("activation levels do not cover the score range")  # checked on load


def level_label(level: int) -> str:
    for entry in instruments.load("activation")["levels"]:
        if entry["level"] == level:
            label: str = entry["label"]
            return label
    raise ValueError(f"no PAM level {level!r}")


def assess_activation(score: float, source_level: int | None = None) -> dict[str, Any]:
    """``{"level": 1–4, "level_mismatch": bool}`` — the server-computed fields."""
    problem = source_level_problem(source_level)
    if problem is not None:
        raise ValueError(problem)
    level = activation_level(score)
    return {"level": level,
            "level_mismatch": source_level is not None and source_level != level}
