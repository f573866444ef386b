"""Falls stratification and Short FES-I: shared vectors, plus the SPEC §4 text as tables."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from server.clinical import falls

ROOT = Path(__file__).parents[1]
VECTORS = json.loads((ROOT / "instruments/vectors/falls.json").read_text("utf-8"))
FES_I = json.loads((ROOT / "instruments/vectors/short_fes_i.json").read_text("utf-8"))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[c["name"] for c in VECTORS["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    answers = {**VECTORS["base"], **case["input"]}
    expected = case["expected"]
    if "error_fields" in expected:
        with pytest.raises(falls.InvalidAnswers) as raised:
            falls.stratify_falls(answers, case.get("thresholds"))
        assert sorted(raised.value.errors) == sorted(expected["error_fields"])
        return
    result = falls.stratify_falls(answers, case.get("thresholds"))
    assert result.risk_level == expected["risk_level"]
    assert [r.code for r in result.reasons] == expected["reasons"]
    if "reason_texts" in expected:
        assert [r.text for r in result.reasons] == expected["reason_texts"]


@pytest.mark.parametrize("case", FES_I["cases"], ids=[c["name"] for c in FES_I["cases"]])
def test_fes_i_vector(case: dict[str, Any]) -> None:
    if case["expected"].get("error"):
        with pytest.raises(ValueError):
            falls.fes_i_band(case["input"])
    else:
        assert falls.fes_i_band(case["input"]) == case["expected"]["band"]


def spec_level(a: dict[str, Any]) -> str:
    """SPEC §4 transcribed literally, independent of the implementation and instrument."""
    fall = a["falls_last_12_months"] >= 1
    cfs, tug, speed = a.get("frailty_cfs"), a.get("tug_seconds"), a.get("gait_speed_m_s")
    if fall and (a["fall_injury"] or a["falls_last_12_months"] >= 2
                 or (cfs is not None and cfs >= 5) or a["unable_to_get_up"]
                 or a["lost_consciousness"]):
        return "high"
    impaired = (tug is not None and tug > 15) or (speed is not None and speed < 0.8)
    if (fall or a["feels_unsteady"] or a["worried_about_falling"]) and impaired:
        return "intermediate"
    return "low"


def all_answer_combinations() -> list[dict[str, Any]]:
    """Every combination of the answers around each boundary (3,888 cases)."""
    combos = []
    for n, inj, up, lost, unsteady, worried, cfs, tug, speed in itertools.product(
        [0, 1, 2], [False, True], [False, True], [False, True], [False, True],
        [False, True], [None, 4, 5], [None, 15.0, 15.1], [None, 0.8, 0.79],
    ):
        if n == 0 and (inj or up or lost):
            continue  # injury etc. without a fall is refused (see test below)
        combos.append({
            "falls_last_12_months": n, "fall_injury": inj, "unable_to_get_up": up,
            "lost_consciousness": lost, "feels_unsteady": unsteady,
            "worried_about_falling": worried, "frailty_cfs": cfs, "tug_seconds": tug,
            "gait_speed_m_s": speed,
        })
    return combos


def test_every_boundary_combination_matches_the_spec_text() -> None:
    combos = all_answer_combinations()
    assert len(combos) > 1000
    for answers in combos:
        assert falls.stratify_falls(answers).risk_level == spec_level(answers), answers


def test_injury_without_a_fall_is_refused() -> None:
    answers = {"falls_last_12_months": 0, "fall_injury": True, "feels_unsteady": False,
               "worried_about_falling": False}
    assert "fall_injury" in falls.answer_problems(answers)


@pytest.mark.parametrize(("level", "action"), [
    ("high", "multifactorial_assessment"),
    ("intermediate", "strength_balance_exercise"),
    ("low", "education"),
])
def test_actions_follow_the_level(level: str, action: str) -> None:
    examples = {
        "high": {"falls_last_12_months": 2, "fall_injury": False, "unable_to_get_up": False,
                 "lost_consciousness": False},
        "intermediate": {"falls_last_12_months": 0, "feels_unsteady": True, "tug_seconds": 20},
        "low": {"falls_last_12_months": 0},
    }
    answers = {"feels_unsteady": False, "worried_about_falling": False, **examples[level]}
    result = falls.stratify_falls(answers)
    assert result.risk_level == level
    assert action in [a.code for a in result.recommended_actions]
    assert result.as_dict()["recommended_actions"][0]["text"]


def test_result_shape_is_json_ready() -> None:
    result = falls.stratify_falls({"falls_last_12_months": 0, "feels_unsteady": True,
                                   "worried_about_falling": False})
    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["reasons"][-1] == {
        "code": "gait_not_measured", "kind": "note",
        "text": falls.stratify_falls({"falls_last_12_months": 0, "feels_unsteady": True,
                                      "worried_about_falling": False}).reasons[-1].text,
    }
    assert "not measured" in data["reasons"][-1]["text"]


@pytest.mark.parametrize("overrides", [
    {"tug": 12}, {"tug_impaired_above_s": 0}, {"tug_impaired_above_s": -1},
    {"frailty_cfs_min": True}, {"gait_speed_impaired_below_m_s": "0.8"},
])
def test_bad_threshold_configuration_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        falls.effective_thresholds(overrides)


def test_thresholds_default_to_the_spec() -> None:
    assert falls.effective_thresholds() == {
        "recurrent_falls_min": 2, "frailty_cfs_min": 5, "tug_impaired_above_s": 15.0,
        "gait_speed_impaired_below_m_s": 0.8,
    }


@pytest.mark.parametrize(("score", "band"), [
    (7, "low"), (8, "low"), (9, "moderate"), (13, "moderate"), (14, "high"), (28, "high"),
])
def test_fes_i_bands_from_the_spec(score: int, band: str) -> None:
    assert falls.fes_i_band(score) == band
    assert "concern" in falls.fes_i_label(score)
