"""Causes and remedies that are true (issue 21): an option a method does not use is refused,
and a ceiling warning names an option that, applied, removes it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from taper.errors import InvalidRequestError
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "bands", "rate": "5%"}, r"rate='5%' is used only by method='percent'"),
        ({"method": "linear", "step": "1mg", "rate": "5%"}, r"rate='5%' is used only by"),
        ({"method": "bands", "slow_below": "5mg"}, r"slow_below='5mg' is used only by"),
        ({"method": "bands", "emax": "90"}, r"emax='90' is used only by method='occupancy'"),
        ({"occupancy_step": "10"}, r"occupancy_step='10' is used only by"),
        ({"crossover": "partial"}, r"crossover='partial' goes with switch_to="),
        ({"stage": "2w"}, r"stage='2w' goes with switch_to="),
        ({"stabilize": "0"}, r"stabilize='0' goes with switch_to="),
    ],
)
def test_rate_with_bands_was_accepted_and_ignored(
    table: EquivalenceTable, options: dict[str, str], message: str
) -> None:
    """Regression: `--rate 5% --method bands` gave a bands plan, the rate ignored."""
    with pytest.raises(InvalidRequestError, match=message):
        plan_taper("diazepam", "20mg", times=2, start=START, table=table, **options)


def test_cautious_still_goes_with_any_method(table: EquivalenceTable) -> None:
    plan = plan_taper("diazepam", "20mg", method="bands", cautious=True, start=START, table=table)
    assert plan.steps[-1].total_mg == 0


def _remedies(message: str) -> list[dict[str, str]]:
    cause = message.partition("the cause is the method's pace: ")[2]
    found = []
    if match := re.match(r"--rate ([0-9.]+)%", cause):
        found.append({"rate": match.group(1) + "%"})
    if match := re.search(r"--step ([0-9.]+)mg", cause):
        found.append({"step": match.group(1) + "mg"})
    if match := re.search(r"--every 2w with --rate ([0-9.]+)%", cause):
        found.append({"every": "2w", "rate": match.group(1) + "%"})
    elif match := re.search(r"--every ([0-9]w)", cause):
        found.append({"every": match.group(1)})
    return found


@pytest.mark.parametrize(
    ("drug", "dose", "options"),
    [
        ("diazepam", "20mg", {"rate": "30%"}),
        ("diazepam", "20mg", {"rate": "20%", "every": "1w"}),
        ("clonazepam", "2mg", {"rate": "40%", "every": "10d"}),
        ("diazepam", "20mg", {"method": "linear", "step": "4mg"}),
        ("lorazepam", "4mg", {"method": "linear", "step": "0.5mg"}),
        ("alprazolam", "2mg", {"method": "bands", "every": "1w"}),
    ],
)
def test_applying_the_suggested_remedy_removes_the_ceiling_warning(
    table: EquivalenceTable, drug: str, dose: str, options: dict[str, Any]
) -> None:
    """Regression: the ceiling warning suggested --rate, --every, --cautious or --order,
    whichever the method used, and none was checked to clear it."""
    plan = plan_taper(drug, dose, times=2, start=START, table=table, **options)
    (warning,) = [w.message for w in plan.warnings if w.kind == "ceiling"]
    assert "--order" not in warning
    assert "--cautious" not in warning
    remedies = _remedies(warning)
    assert remedies, warning
    for remedy in remedies:
        fixed = plan_taper(drug, dose, times=2, start=START, table=table, **{**options, **remedy})
        assert not [w for w in fixed.warnings if w.kind == "ceiling"], remedy


def test_a_stop_from_the_final_dose_asked_for_blames_final(table: EquivalenceTable) -> None:
    plan = plan_taper("diazepam", "20mg", times=2, final="8mg", start=START, table=table)
    (warning,) = [w.message for w in plan.warnings if w.kind == "ceiling"]
    assert "the cause is the final dose asked for (--final 8mg)" in warning
    fixed = plan_taper("diazepam", "20mg", times=2, start=START, table=table)
    assert not [w for w in fixed.warnings if w.kind == "ceiling"]
