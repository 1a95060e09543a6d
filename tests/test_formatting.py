from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.formatting import ISMP_DOSE_PATTERN, format_dose, format_dose_range, to_decimal


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (Decimal("1.0"), "mg", "1 mg"),
        (Decimal("0.50"), "mg", "0.5 mg"),
        (Decimal("0.125"), "mg", "0.125 mg"),
        (Decimal("100"), "mg", "100 mg"),
        (Decimal("1E+2"), "mg", "100 mg"),
        (Decimal("1250"), "mg", "1,250 mg"),
        (Decimal("2.5"), "mL", "2.5 mL"),
        (Decimal("500"), "mcg", "500 mcg"),
        (Fraction(20, 3), "mg", "6.667 mg"),
        (0, "mg", "0 mg"),
    ],
)
def test_format_dose_follows_ismp(value: Decimal | Fraction, unit: str, text: str) -> None:
    assert format_dose(value, unit) == text
    assert ISMP_DOSE_PATTERN.match(text)


def test_ranges_read_with_to_never_a_slash_or_dash() -> None:
    assert format_dose_range(Decimal("0.25"), Decimal("0.5")) == "0.25 to 0.5 mg"
    assert format_dose_range(Decimal("2"), Decimal("2.0")) == "2 mg"


def test_format_dose_refuses_other_units_and_negative_numbers() -> None:
    with pytest.raises(ValueError, match="unit"):
        format_dose(Decimal(1), "µg")
    with pytest.raises(ValueError, match="negative"):
        format_dose(Decimal(-1))


def test_to_decimal_reports_whether_rounding_happened() -> None:
    assert to_decimal(Fraction(1, 2)) == (Decimal("0.500"), True)
    assert to_decimal(Fraction(2, 3)) == (Decimal("0.667"), False)


@given(
    st.decimals(min_value=0, max_value=Decimal(10**9), places=3),
    st.sampled_from(["mg", "mcg", "mL"]),
)
def test_every_formatted_dose_matches_the_ismp_pattern(value: Decimal, unit: str) -> None:
    text = format_dose(value, unit)
    assert ISMP_DOSE_PATTERN.match(text), text
    number = Decimal(text.split(" ")[0].replace(",", ""))
    assert number == value
