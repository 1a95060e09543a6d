from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.errors import InvalidRequestError
from taper.products import Formulary, Product, parse_product
from taper.table import EquivalenceTable

D = Decimal


def formulary(table: EquivalenceTable, drug: str, region: str) -> Formulary:
    return Formulary(drug, table.drug(drug).products_in(region))


def test_us_clonazepam_makes_eighth_milligram_steps(table: EquivalenceTable) -> None:
    clonazepam = formulary(table, "clonazepam", "us")
    assert clonazepam.quantum == Fraction(1, 8)
    assert clonazepam.ladder(D(1)) == tuple(D(n) / 8 for n in range(9))
    assert not clonazepam.can_make(D("0.3"))


def test_what_to_take_prefers_few_products_and_whole_pieces(table: EquivalenceTable) -> None:
    clonazepam = formulary(table, "clonazepam", "us")
    assert clonazepam.preparation(D("1.5")).text() == "3 × 0.5 mg tablet"  # type: ignore[union-attr]
    assert clonazepam.preparation(D("0.75")).text() == (  # type: ignore[union-attr]
        "1 × 0.5 mg tablet + half of a 0.5 mg tablet"
    )
    assert clonazepam.preparation(D("0.125")).text() == "1 × 0.125 mg ODT"  # type: ignore[union-attr]
    diazepam = formulary(table, "diazepam", "us")
    assert diazepam.preparation(D(7)).text() == "1 × 5 mg tablet + 1 × 2 mg tablet"  # type: ignore[union-attr]
    assert diazepam.preparation(D("2.5")).text() == "2.5 mL of 5 mg/5 mL solution"  # type: ignore[union-attr]
    assert diazepam.preparation(D(0)).text() == "nothing"  # type: ignore[union-attr]


def test_capsules_cannot_be_split(table: EquivalenceTable) -> None:
    librium = formulary(table, "chlordiazepoxide", "uk")
    assert librium.quantum == 5
    assert librium.can_make(D(15))
    assert not librium.can_make(D("7.5"))


def test_uk_clonazepam_liquid_measures_to_0_01_mg(table: EquivalenceTable) -> None:
    uk = formulary(table, "clonazepam", "uk")
    assert uk.quantum == Fraction(1, 100)
    assert uk.preparation(D("0.37")).text() == "3.7 mL of 0.5 mg/5 mL solution"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("clonazepam 0.5mg tablet scored", "0.5 mg tablet (scored)"),
        ("1mg tablet", "1 mg tablet"),
        ("2mg tablet quarter-scored", "2 mg tablet (quarter-scored)"),
        ("0.125mg odt", "0.125 mg orally disintegrating tablet"),
        ("10 mg capsule", "10 mg capsule"),
        ("0.5mg/5mL solution", "0.5 mg/5 mL oral solution"),
        ("2mg/mL liquid", "2 mg/mL oral solution"),
        ("2mg/mL concentrate", "2 mg/mL oral concentrate"),
        ("2.5mg/5mL suspension", "2.5 mg/5 mL oral suspension"),
    ],
)
def test_parse_product(text: str, label: str) -> None:
    assert parse_product(text, "clonazepam").label() == label


@pytest.mark.parametrize(
    ("drug", "region", "text"),
    [("lorazepam", "us", "2mg/mL concentrate"), ("diazepam", "us", "5mg/mL concentrate"),
     ("nitrazepam", "uk", "2.5mg/5mL suspension")],
)  # fmt: skip
def test_a_liquid_the_table_lists_can_be_named_as_a_product(
    table: EquivalenceTable, drug: str, region: str, text: str
) -> None:
    """A fresh user's review: '--product "5mg/mL concentrate"' was refused ("only a solution
    has a volume") though the bundled table lists lorazepam and diazepam concentrates; a
    concentrate or suspension named is the table's product (same strength, volume, form)."""
    made = parse_product(text, drug)
    listed = [p for p in table.drug(drug).products_in(region) if p.label() == made.label()]
    assert listed, made.label()
    assert (made.form, made.strength_mg, made.volume_ml) == (
        listed[0].form,
        listed[0].strength_mg,
        listed[0].volume_ml,
    )
    assert made.is_liquid


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("half a tablet", "cannot read product"),
        ("diazepam 5mg tablet", "not a product of clonazepam"),
        ("10mg capsule scored", "cannot be split"),
        ("0.5mg/5mL solution scored", "cannot be scored"),
        ("0.5mg/0mL solution", "greater than zero"),
    ],
)
def test_parse_product_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        parse_product(text, "clonazepam")


products = st.lists(
    st.builds(
        Product,
        drug=st.just("x"),
        form=st.sampled_from(["tablet", "capsule", "odt"]),
        strength_mg=st.sampled_from([D("0.125"), D("0.25"), D("0.5"), D(1), D(2), D(5), D(10)]),
        split=st.sampled_from(["none", "half", "quarter"]),
    ).filter(lambda p: p.form == "tablet" or p.split == "none"),
    min_size=1,
    max_size=4,
    unique=True,
)


@given(products, st.integers(min_value=0, max_value=80))
def test_every_preparation_adds_up_exactly_to_its_dose(items: list[Product], units: int) -> None:
    available = Formulary("x", tuple(items))
    dose = available.quantum * units
    preparation = available.preparation(dose)
    if preparation is not None:
        assert sum((portion.mg for portion in preparation.portions), Fraction(0)) == dose
        assert all(portion.product in items for portion in preparation.portions)
        assert len({portion.product for portion in preparation.portions}) <= 3
