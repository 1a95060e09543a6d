"""A product given twice is refused in one line (a fresh user's review: `--product "1mg
tablet"` given twice was listed twice in the plan's products line)."""

from __future__ import annotations

from typing import Any

import pytest

from taper.errors import InvalidRequestError
from taper.schedule import plan_taper
from taper.table import EquivalenceTable

START = "2027-01-04"


def test_a_product_given_twice_was_listed_twice(run: Any) -> None:
    """Regression: "Products for clonazepam: 1 mg tablet, 1 mg tablet."."""
    result = run(
        "schedule", "clonazepam", "2mg", "--product", "1mg tablet", "--product", "1mg tablet"
    )
    assert result.exit_status == 2  # a usage error, as every refused request
    assert result.stdout == ""
    assert result.stderr == (
        "taper: error: --product gives '1mg tablet' twice: give each product once\n"
    )


@pytest.mark.parametrize(
    ("products", "message"),
    [
        (["1mg tablet", "1 mg tablet"], "the same product twice, '1mg tablet' and '1 mg tablet'"),
        (
            ["1mg tablet", "1mg tablet scored"],
            "the same product twice, '1mg tablet' and '1mg tablet scored'",
        ),
        (["5mg/5mL solution", "5 mg/5 mL solution"], "the same product twice"),
        (
            ["diazepam 2mg tablet", "2mg tablet"],
            "the same product twice, 'diazepam 2mg tablet' and '2mg tablet'",
        ),
    ],
)
def test_the_same_product_spelled_twice_is_refused(
    table: EquivalenceTable, products: list[str], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=f"^products= gives {message}"):
        plan_taper("diazepam", "10mg", products=products, start=START, table=table)


def test_different_products_and_other_drugs_products_are_not_duplicates(
    table: EquivalenceTable,
) -> None:
    """Two strengths, a liquid of another concentration, and the same strength of the drug
    switched to are all different products."""
    plan = plan_taper(
        "diazepam",
        "10mg",
        products=["2mg tablet", "5mg tablet", "5mg/5mL solution", "5mg/mL solution"],
        start=START,
        table=table,
    )
    assert plan.formularies["diazepam"].describe().count("tablet") == 2
    switched = plan_taper(
        "lorazepam",
        "2mg",
        times=2,
        switch_to="diazepam",
        products=["lorazepam 1mg tablet", "diazepam 1mg tablet"],
        start=START,
        table=table,
    )
    assert set(switched.formularies) == {"lorazepam", "diazepam"}
