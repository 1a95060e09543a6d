"""Product labels round-trip: the label taper prints for a product ("2 mg/mL oral
concentrate", "0.125 mg orally disintegrating tablet", "0.5 mg tablet (scored)") is read back
by ``--product`` as the same product (a fresh user's review: "--product '2mg/mL oral
concentrate'" was refused)."""

from __future__ import annotations

from typing import Any

import pytest

from taper.products import Product, parse_product
from taper.table import load_table

_PRODUCTS = [
    pytest.param(product, id=f"{drug.name} {product.label()}")
    for drug in load_table().drugs.values()
    for product in drug.products
]


def _same(product: Product) -> tuple[object, ...]:
    return (product.form, product.strength_mg, product.volume_ml, product.split)


@pytest.mark.parametrize("product", _PRODUCTS)
def test_every_product_label_taper_prints_is_read_back_as_the_same_product(
    product: Product,
) -> None:
    label = product.label()
    assert _same(parse_product(label, product.drug)) == _same(product), label
    named = parse_product(f"{product.drug} {label}", product.drug)
    assert _same(named) == _same(product), label
    compact = label.replace(" mg", "mg").replace(" mL", "mL")
    assert _same(parse_product(compact, product.drug)) == _same(product), compact


@pytest.mark.parametrize(
    "text",
    [
        "2mg/mL oral concentrate",
        "0.5 mg/5 mL oral solution",
        "0.125mg orally disintegrating tablet",
    ],
)
def test_a_product_label_as_printed_is_taken_by_product(run: Any, text: str) -> None:
    result = run("schedule", "clonazepam", "1mg", "--product", text, "--start", "2027-01-04")
    assert result.exit_status == 0, result.stderr
    printed = text.replace("mg/", " mg/").replace("  ", " ").replace("mg orally", " mg orally")
    assert f"Products for clonazepam: {printed}." in result.stdout


@pytest.mark.parametrize(
    "text", ["0.5mg tablet (scored", "2mg/mL oral tablet", "0.5mg oral odt", "1mg capsule (scored)"]
)
def test_a_product_label_with_a_slip_is_still_refused(text: str) -> None:
    with pytest.raises(ValueError, match="product"):
        parse_product(text, "clonazepam")
