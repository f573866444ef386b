"""The fields the server computes over a merged record (falls risk, PAM level): what the
sync registry's ``derive`` callback returns for each entity.

Validation (server/records/schemas/records.py) has run first, so a failure here means a record
stored under older rules: it is answered as a ``ValidationFailed``, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from server.clinical import activation, falls, instruments
from sync.registry import ValidationFailed

Record = dict[str, Any]


def fail(errors: Mapping[str, Any]) -> ValidationFailed:
    """A ``ValidationFailed`` whose every field carries a list of messages."""
    return ValidationFailed({k: v if isinstance(v, list) else [v] for k, v in errors.items()})


def derive(entity: str, merged: Mapping[str, Any], *,
           falls_thresholds: Mapping[str, Any] | None = None) -> Record:
    """Server-computed fields for the merged record ({} for entities without any).

    falls_assessment → risk_level, reasons, recommended_actions, fes_i_band,
    rules_version; activation_score → level, level_mismatch.
    """
    # Validation has run first, so these raise only for a record stored by older rules;
    # a ValidationFailed then rejects the mutation instead of answering 500.
    if entity == "falls_assessment":
        try:
            result = falls.stratify_falls(merged, falls_thresholds).as_dict()
        except falls.InvalidAnswers as exc:
            raise fail(exc.errors) from exc
        score = merged.get("short_fes_i")
        try:
            result["fes_i_band"] = falls.fes_i_band(score) if score is not None else None
        except ValueError as exc:
            raise fail({"short_fes_i": str(exc)}) from exc
        result["rules_version"] = _rules_version(falls_thresholds)
        return result
    if entity == "activation_score":
        try:
            score_value: Any = merged.get("score")
            return activation.assess_activation(score_value, merged.get("source_level"))
        except ValueError as exc:
            raise fail({"score": str(exc)}) from exc
    return {}


def _rules_version(overrides: Mapping[str, Any] | None) -> str:
    """Which rules made a result: the instrument version, ``+local`` if configured."""
    version = str(instruments.load("falls")["version"])
    defaults = instruments.load("falls")["thresholds"]
    if falls.effective_thresholds(overrides) != defaults:
        version += "+local"
    return version


def deriver_for(entity: str, *, falls_thresholds: Mapping[str, Any] | None = None,
                ) -> Callable[[Record], Record]:
    """A ``sync.registry.Deriver`` for one entity."""

    def compute(merged: Record) -> Record:
        return derive(entity, merged, falls_thresholds=falls_thresholds)

    return compute
