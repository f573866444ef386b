"""Falls risk STRATIFICATION (World Falls Guidelines 2022) and the Short FES-I band.

This is stratification to match the intensity of intervention to need, not a falls-
prediction tool (NICE NG249 advises against prediction tools); say so wherever it is shown.

Rule (SPEC §4; thresholds from ``instruments/falls.json``, overridable by configuration):
- high: a fall in the last 12 months AND any of injury, falls ≥ ``recurrent_falls_min``
  (2), Clinical Frailty Scale ≥ ``frailty_cfs_min`` (5), unable to get up, lost
  consciousness;
- intermediate: otherwise, (a fall OR feels unsteady OR worried about falling) AND
  impaired gait: TUG > ``tug_impaired_above_s`` (15 s) OR gait speed <
  ``gait_speed_impaired_below_m_s`` (0.8 m/s);
- low: otherwise.

Missing answers (invariants, mirrored in ``pwa/src/clinical/falls.js``):
- falls count, ``feels_unsteady`` and ``worried_about_falling`` are always required, and
  ``fall_injury``, ``unable_to_get_up``, ``lost_consciousness`` whenever falls ≥ 1 — an
  unanswered question is never read as "no"; :class:`InvalidAnswers` is raised instead;
- the optional measures (CFS, TUG, gait speed) count only when recorded: a missing
  measure never meets its criterion. Where that could change the result, a ``note``
  reason says so (``gait_not_measured``, ``frailty_not_recorded``);
- gait is impaired if EITHER recorded measure is impaired; one normal measure does not
  cancel an impaired other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.clinical import instruments
from server.clinical.text import fill

RISK_LEVELS = ("low", "intermediate", "high")
_FALL_DETAILS = ("fall_injury", "unable_to_get_up", "lost_consciousness")


class InvalidAnswers(ValueError):
    """Falls answers are incomplete or out of range; ``errors`` maps field to message."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class Reason:
    """Why the level was given: a machine code, ``finding`` or ``note``, and text."""

    code: str
    kind: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class Action:
    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class FallsStratification:
    risk_level: str
    reasons: tuple[Reason, ...]
    recommended_actions: tuple[Action, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape stored on a falls_assessment and returned by the PWA twin."""
        return {
            "risk_level": self.risk_level,
            "reasons": [r.as_dict() for r in self.reasons],
            "recommended_actions": [a.as_dict() for a in self.recommended_actions],
        }


def effective_thresholds(overrides: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The instrument's thresholds with configuration overrides applied (checked)."""
    thresholds: dict[str, float] = dict(instruments.load("falls")["thresholds"])
    for key, value in (overrides or {}).items():
        if key not in thresholds:
            raise ValueError(f"unknown falls threshold {key!r}; known: {sorted(thresholds)}")
        if not _is_number(value) or value <= 0:
            raise ValueError(f"falls threshold {key!r} must be a positive number")
        thresholds[key] = value
    return thresholds


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def answer_problems(answers: Mapping[str, Any]) -> dict[str, str]:
    """Per-field messages for missing, mistyped or out-of-range answers ({} if fine).

    Fields not used by the stratification are ignored, so a whole record can be passed.
    """
    spec = instruments.load("falls")
    messages: dict[str, str] = spec["messages"]
    problems: dict[str, str] = {}
    for field, rule in spec["answers"].items():
        value = answers.get(field)
        if value is None:
            if rule.get("required"):
                problems[field] = messages["required"]
            continue
        if rule["type"] == "boolean":
            if not isinstance(value, bool):
                problems[field] = messages["yes_or_no"]
            continue
        if not _is_number(value):
            problems[field] = messages["number"]
        elif rule["type"] == "integer" and not float(value).is_integer():
            problems[field] = messages["whole_number"]
        elif not rule["min"] <= value <= rule["max"]:
            problems[field] = fill(messages["range"], rule)
    falls: Any = answers.get("falls_last_12_months")
    if "falls_last_12_months" not in problems:
        for field in _FALL_DETAILS:
            if field in problems:
                continue
            if falls >= 1 and answers.get(field) is None:
                problems[field] = messages["required_if_fall"]
            elif falls == 0 and answers.get(field) is True:
                problems[field] = messages["only_with_fall"]
    return problems


def stratify_falls(answers: Mapping[str, Any],
                   thresholds: Mapping[str, Any] | None = None) -> FallsStratification:
    """Stratify falls risk; raises :class:`InvalidAnswers` if answers are incomplete."""
    problems = answer_problems(answers)
    if problems:
        raise InvalidAnswers(problems)
    limits = effective_thresholds(thresholds)
    spec = instruments.load("falls")
    values = {**limits, **{k: v for k, v in answers.items() if v is not None}}

    def reason(code: str) -> Reason:
        entry = spec["reasons"][code]
        return Reason(code, entry["kind"], fill(entry["text"], values))

    falls: int = answers["falls_last_12_months"]
    had_fall = falls >= 1
    cfs = answers.get("frailty_cfs")
    tug = answers.get("tug_seconds")
    speed = answers.get("gait_speed_m_s")

    concerns = [code for code, present in (
        ("fall_in_last_12_months", had_fall),
        ("feels_unsteady", answers["feels_unsteady"]),
        ("worried_about_falling", answers["worried_about_falling"]),
    ) if present]
    severity = [code for code, present in (
        ("fall_with_injury", answers.get("fall_injury") is True),
        ("recurrent_falls", falls >= limits["recurrent_falls_min"]),
        ("frailty", cfs is not None and cfs >= limits["frailty_cfs_min"]),
        ("unable_to_get_up", answers.get("unable_to_get_up") is True),
        ("lost_consciousness", answers.get("lost_consciousness") is True),
    ) if present and had_fall]
    gait = [code for code, present in (
        ("tug_slow", tug is not None and tug > limits["tug_impaired_above_s"]),
        ("gait_speed_slow", speed is not None
         and speed < limits["gait_speed_impaired_below_m_s"]),
    ) if present]
    gait_measured = tug is not None or speed is not None

    if severity:
        level, codes = "high", concerns + severity
    elif concerns and gait:
        level, codes = "intermediate", concerns + gait
    else:
        level = "low"
        if not concerns:
            # Impaired gait alone does not raise the level (no fall, no concern), but
            # a clinician should still see it.
            codes = ["no_falls_or_concerns", *gait]
        elif gait_measured:
            codes = [*concerns, "gait_not_impaired"]
        else:
            codes = [*concerns, "gait_not_measured"]
    if level != "high" and had_fall and cfs is None:
        codes.append("frailty_not_recorded")

    actions = tuple(Action(a["code"], a["text"]) for a in spec["actions"][level])
    return FallsStratification(level, tuple(reason(c) for c in codes), actions)


def fes_i_band(score: int) -> str:
    """Short FES-I concern band: ``low`` (7–8), ``moderate`` (9–13), ``high`` (14–28)."""
    return str(_fes_i_entry(score)["band"])


def fes_i_label(score: int) -> str:
    return str(_fes_i_entry(score)["label"])


def _fes_i_entry(score: int) -> dict[str, Any]:
    spec = instruments.load("short_fes_i")
    if not _is_number(score) or not float(score).is_integer():
        raise ValueError("Short FES-I score must be a whole number")
    for entry in spec["bands"]:
        if entry["min"] <= score <= entry["max"]:
            return dict(entry)
    low, high = spec["score"]["min"], spec["score"]["max"]
    raise ValueError(f"Short FES-I score must be between {low} and {high}")
