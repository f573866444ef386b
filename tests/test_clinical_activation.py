"""PAM level from score: the shared vectors, every one-decimal score, and the SPEC text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server.clinical import activation

VECTORS = json.loads(
    (Path(__file__).parents[1] / "instruments/vectors/activation.json").read_text("utf-8")
)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    score, source = case["input"]["score"], case["input"].get("source_level")
    if case["expected"].get("error"):
        with pytest.raises(ValueError):
            activation.assess_activation(score, source)
    else:
        assert activation.assess_activation(score, source) == case["expected"]


@pytest.mark.parametrize(("score", "level"), [
    (0, 1), (47.0, 1), (47.1, 2), (55.1, 2), (55.2, 3), (67.0, 3), (67.1, 4), (100, 4),
    (100.0, 4), (0.0, 1),
])
def test_boundaries_from_the_spec(score: float, level: int) -> None:
    assert activation.activation_level(score) == level


def spec_level(score: float) -> int:
    """SPEC §4 read literally: <= 47.0 -> 1, 47.1-55.1 -> 2, 55.2-67.0 -> 3, >= 67.1 -> 4."""
    if score <= 47.0:
        return 1
    if score <= 55.1:
        return 2
    if score <= 67.0:
        return 3
    return 4


def test_every_one_decimal_score_matches_the_spec_text() -> None:
    for tenths in range(1001):
        score = tenths / 10
        assert activation.activation_level(score) == spec_level(score), score


def test_scores_parsed_from_text_behave_like_literals() -> None:
    # The PWA sends JSON; float("55.1") must land where 55.1 does.
    assert activation.activation_level(json.loads("55.1")) == 2
    assert activation.activation_level(0.1 + 0.2) == 1  # float noise is not a 2nd decimal


@pytest.mark.parametrize("score", [47.05, 55.15, 67.01, 12.345])
def test_more_than_one_decimal_is_rejected_not_rounded(score: float) -> None:
    assert "one decimal" in (activation.score_problem(score) or "")


@pytest.mark.parametrize("score", [-0.1, 100.1, float("nan"), float("inf"), True, "50", None])
def test_invalid_scores(score: Any) -> None:
    assert activation.score_problem(score) is not None


def test_mismatch_keeps_both_levels() -> None:
    assert activation.assess_activation(47.1, 1) == {"level": 2, "level_mismatch": True}
    assert activation.assess_activation(47.1, 2) == {"level": 2, "level_mismatch": False}
    assert activation.assess_activation(47.1) == {"level": 2, "level_mismatch": False}


def test_labels_exist_for_every_level() -> None:
    assert all(activation.level_label(level) for level in activation.LEVELS)
    with pytest.raises(ValueError):
        activation.level_label(5)
