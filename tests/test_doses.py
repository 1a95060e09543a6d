from decimal import Decimal
from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper import doses
from taper.doses import parse_dose
from taper.errors import DoseSyntaxError
from taper.formatting import format_dose


@pytest.mark.parametrize(
    ("text", "expected_mg"),
    [
        ("2mg", "2"),
        ("0.5mg", "0.5"),
        (".5mg", "0.5"),
        ("0.5 mg", "0.5"),
        ("  1.25mg ", "1.25"),
        ("500mcg", "0.5"),
        ("500 µg", "0.5"),  # micro sign
        ("500 μg", "0.5"),  # Greek mu
        ("125ug", "0.125"),
        ("1g", "1000"),
        ("0.001g", "1"),
        ("1mcg", "0.001"),
    ],
)
def test_parse_dose_accepts_plain_numbers_with_allowlisted_units(
    text: str, expected_mg: str
) -> None:
    assert parse_dose(text) == Decimal(expected_mg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2,5mg", "use '.' as the decimal point, e.g. '2.5mg'"),
        ("0mg", "greater than zero"),
        ("0.000mg", "greater than zero"),
        ("-1mg", "greater than zero"),
        ("nan mg", "finite number"),
        ("inf mg", "finite number"),
        ("infinity", "finite number"),
        ("2", "no unit"),
        ("5 gr", "unknown unit 'gr'"),
        ("2 MG", "case-sensitive: write 'mg'"),
        ("3 units", "unknown unit 'units'"),
        ("1/2 mg", "no fractions or arithmetic"),
        ("1+1mg", "no fractions or arithmetic"),
        ("1e3mg", "without an exponent"),
        ("½mg", "digits 0-9"),
        ("٣mg", "digits 0-9"),
        ("", "empty"),
        ("   ", "empty"),
        ("mg", "start with a number"),
        ("20g", "not a plausible dose"),
        ("0.0001mg", "finer than 1 mcg"),
        ("1" * 50 + "mg", "longer than"),
        ("1.mg", "followed by digits"),
        ("1 mg mg", "write a number and one of the units"),
        ("💊", "start with a number"),
    ],
)
def test_parse_dose_rejects_with_a_message_that_says_what_to_do(text: str, message: str) -> None:
    with pytest.raises(DoseSyntaxError, match="invalid dose") as caught:
        parse_dose(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


doses_mg = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10000), places=3)


@given(doses_mg)
def test_formatted_dose_parses_back_to_the_same_value(dose: Decimal) -> None:
    assert parse_dose(format_dose(dose).replace(",", "")) == dose


@given(st.decimals(min_value=Decimal(1), max_value=Decimal(10_000_000), places=0))
def test_micrograms_convert_exactly_to_milligrams(micrograms: Decimal) -> None:
    assert parse_dose(f"{micrograms}mcg") * 1000 == micrograms


def _registry_from_text() -> Any:
    """The registry as taper built it before issue 26: pint parsing the definitions' text."""
    from pint.facets.plain import PlainRegistry

    registry = PlainRegistry(None, non_int_type=Decimal)
    registry.define("gram = [mass]")
    registry.define("milligram = gram / 1000")
    registry.define("microgram = milligram / 1000")
    return registry


def test_the_registry_s_units_are_the_ones_pint_parses_from_their_definitions() -> None:
    built, parsed = doses._registry(), _registry_from_text()
    for name, _, _ in doses.UNITS:
        ours, theirs = built._units[name], parsed._units[name]
        assert (ours.name, ours.defined_symbol, ours.aliases) == (name, None, ())
        assert ours.converter == theirs.converter
        assert repr(ours.converter) == repr(theirs.converter)  # Decimal('0.001'), exactly
        assert ours.reference == theirs.reference
        assert dict(ours.reference.items()) == dict(theirs.reference.items())
    assert built._dimensions.keys() == parsed._dimensions.keys()


@given(
    amount=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10_000_000), places=3),
    unit=st.sampled_from(["mcg", "g"]),
)
def test_a_conversion_is_the_one_pint_made_from_the_definitions_text(
    amount: Decimal, unit: str
) -> None:
    """Byte for byte (a Decimal's exponent too: 500 mcg is 0.500 mg)."""
    parsed = _registry_from_text()
    name = doses.INPUT_UNITS[unit]
    expected = parsed.Quantity(amount, parsed.Unit(name)).to(parsed.milligram).magnitude
    assert repr(doses.to_milligrams(amount, unit)) == repr(expected)


def test_converting_never_runs_pint_s_text_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its first use compiles Python's tokenizer patterns: about 4 ms of every command given
    a dose in mcg or g (issue 26). User text never reached it; now no text does."""
    import pint.util

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("pint parsed text")

    monkeypatch.setattr(pint.util.ParserHelper, "from_string", refuse)
    doses._registry.cache_clear()
    try:
        assert parse_dose("500mcg") == Decimal("0.5")
        assert parse_dose("0.5 g") == Decimal(500)
    finally:
        doses._registry.cache_clear()
