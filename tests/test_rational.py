"""quicktions' Fraction (the ``fast`` extra) and the standard library's give the same results.

The engine counts in ``taper.rational.Fraction``: quicktions' compiled Fraction when it is
installed, else ``fractions.Fraction``. Outputs must not depend on which: a property checks
the operations the engine uses on generated values, and the sweep digests are checked with
quicktions hidden, so that both implementations write byte-identical batches.
"""

from __future__ import annotations

import fractions
import math
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import taper.rational
from taper.formatting import format_dose

quicktions = pytest.importorskip("quicktions")

ROOT = Path(__file__).resolve().parent.parent
amounts = st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("1000"), places=4, allow_nan=False
)


def _both(value: Decimal) -> tuple[fractions.Fraction, fractions.Fraction]:
    return fractions.Fraction(value), quicktions.Fraction(value)


def test_the_engine_counts_in_quicktions_when_it_is_installed() -> None:
    assert taper.rational.Fraction is quicktions.Fraction
    assert fractions.Fraction in taper.rational.RATIONAL_TYPES


@given(amounts, amounts, st.integers(min_value=1, max_value=10_000))
def test_quicktions_and_fractions_agree_on_what_the_engine_does(
    a: Decimal, b: Decimal, divisor: int
) -> None:
    (sa, qa), (sb, qb) = _both(a), _both(b)
    pairs = [
        (sa + sb, qa + qb),
        (sa - sb, qa - qb),
        (sa * sb, qa * qb),
        (sa / divisor, qa / divisor),
    ]
    if b:
        pairs += [(sa / sb, qa / qb), (sa // sb, qa // qb), (sa % sb, qa % qb)]
    pairs += [(sa * divisor, qa * divisor), (abs(sa), abs(qa)), (-sa, -qa)]
    for standard, quick in pairs:
        assert (standard.numerator, standard.denominator) == (quick.numerator, quick.denominator)
        assert hash(standard) == hash(quick)
        assert str(standard) == str(quick)
        assert standard == quick
    assert (sa < sb, sa <= sb, sa == sb) == (qa < qb, qa <= qb, qa == qb)
    assert (sa < b, sa == b, sa > b) == (qa < b, qa == b, qa > b)  # against a Decimal
    assert (math.floor(sa), math.ceil(sa), round(sa), int(sa)) == (
        math.floor(qa),
        math.ceil(qa),
        round(qa),
        int(qa),
    )
    assert round(sa / divisor, 3) == round(qa / divisor, 3)
    assert sa.limit_denominator(divisor) == qa.limit_denominator(divisor)
    assert format_dose(abs(sa / divisor)) == format_dose(abs(qa / divisor))
    assert sa.as_integer_ratio() == qa.as_integer_ratio()


def test_batches_are_byte_identical_without_quicktions() -> None:
    """The sweep digests, checked in a process where quicktions cannot be imported."""
    code = (
        "import sys; sys.modules['quicktions'] = None\n"
        "import fractions, pytest, taper.rational\n"
        "assert taper.rational.Fraction is fractions.Fraction\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:xdist',"
        " 'tests/test_sweep_digest.py']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
