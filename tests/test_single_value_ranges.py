"""A range whose ends are equal is written as one value (a fresh user's review: the
deprescribing pace's note said "cuts 50-50% a step")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from taper.errors import InvalidRequestError
from taper.formatting import format_percent_range
from taper.render import value_text
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, ValueRange

START = "2027-01-04"


def test_the_deprescribing_note_said_cuts_50_50_percent_a_step(table: EquivalenceTable) -> None:
    """Regression: clonazepam 1 mg at the deprescribing pace: "the plan cuts 50-50% a step"."""
    plan = plan_taper("clonazepam", "1mg", pace="deprescribing", start=START, table=table)
    (note,) = [n.message for n in plan.warnings if "a step, not the" in n.message]
    assert "the plan cuts 50% a step, not the 12.5%" in note
    wider = plan_taper("clonazepam", "2mg", pace="deprescribing", start=START, table=table)
    assert any("the plan cuts 25-50% a step" in n.message for n in wider.warnings)


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (Decimal(50), Decimal(50), "50%"),
        (Decimal(50), Decimal("50.0"), "50%"),
        (Decimal("33.3"), Decimal(50), "33.3-50%"),
    ],
)
def test_a_percent_range_with_equal_ends_is_one_value(
    low: Decimal, high: Decimal, text: str
) -> None:
    assert format_percent_range(low, high) == text


def test_a_table_value_whose_ends_show_alike_is_one_value() -> None:
    """The drugs table wrote "1 to 1 h" for a range whose ends differ beyond display
    precision; a point is one value, a range two."""
    assert value_text(ValueRange(Decimal(1), Decimal("1.0001")), "h") == "1 h"
    assert value_text(ValueRange(Decimal(2), Decimal(2)), "h") == "2 h"
    assert value_text(ValueRange(Decimal(1), Decimal(2)), "mg") == "1 to 2 mg"


def test_a_target_no_pace_meets_names_one_pace_tried_once(table: EquivalenceTable) -> None:
    """Regression: with one pace on the grid the error said "tried 0.125 mg every 14 days to
    0.125 mg every 14 days, in steps of 0.125 mg"."""
    with pytest.raises(InvalidRequestError) as raised:
        plan_taper(
            "clonazepam", "0.125mg", method="linear", duration="1w", start=START, table=table
        )
    assert str(raised.value).endswith("(tried 0.125 mg every 14 days)")
