"""Speed work that must not change what taper does (issue 26's cheap leads)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taper.direct import COARSE_FACTOR, coarse_threshold
from taper.errors import TaperError
from taper.options import OPTION_KINDS, OPTION_VALUES, ScheduleOptions, schedule_options
from taper.values import option_value

_VALUES = {
    "text": st.text(alphabet="0123456789abcdmgw%.;:-", max_size=6),
    "int": st.integers(min_value=-3, max_value=200),
    "bool": st.booleans(),
    "list": st.lists(st.text(alphabet="0123456789abmgtw:", max_size=6), max_size=3).map(tuple),
}


@st.composite
def _options(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(OPTION_KINDS)), unique=True, max_size=8))
    return {name: draw(_VALUES[OPTION_KINDS[name]]) for name in names}


@settings(max_examples=200)
@given(values=_options())
def test_plain_options_are_the_ones_msgspec_would_make(values: dict[str, Any]) -> None:
    try:
        made = schedule_options(values)
    except TaperError as error:
        made = error
    try:
        converted = {name: option_value(OPTION_VALUES[name], v, name) for name, v in values.items()}
        expected: Any = msgspec.convert(converted, ScheduleOptions)
    except TaperError as error:
        expected = error
    except msgspec.ValidationError:
        assert isinstance(made, TaperError)
        return
    if isinstance(expected, TaperError):
        assert type(made) is type(expected)
        assert str(made) == str(expected)
    else:
        assert made == expected


def test_plain_options_do_not_import_msgspec() -> None:
    """Importing msgspec cost the first plan of a process 22-25 ms (issue 26): options given
    as plain values of their kinds are built without it (the table, read afresh on every run
    since the cache went in issue 23, is still validated with it)."""
    code = (
        "import sys; from taper.options import schedule_options; "
        "schedule_options({'times': 2, 'switch_to': 'diazepam', 'start': '2027-01-04', "
        "'rate': '10%'}); print('msgspec' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]


def test_a_value_of_the_wrong_kind_is_still_refused() -> None:
    with pytest.raises(TaperError, match="times"):
        schedule_options({"times": True})


@given(
    quantum=st.fractions(min_value=Fraction(1, 1000), max_value=5, max_denominator=1000),
    before=st.integers(min_value=1, max_value=10_000),
    cut=st.integers(min_value=1, max_value=10_000),
    ideal=st.decimals(min_value=0, max_value=10_000, places=6),
)
def test_the_coarse_threshold_is_the_coarse_rule_rearranged(
    quantum: Fraction, before: int, cut: int, ideal: Decimal
) -> None:
    """dispensable_path's 'a cut more than 1.5 times the method's' is tested as 'the ideal is
    above a threshold' worked out once per cut in a pace search: the same answer always."""
    after = max(0, before - cut)
    dose, threshold = coarse_threshold(quantum, before, after)
    exact = quantum * before
    with localcontext(prec=34):  # as the ideal takes a dose (direct._as_decimal)
        assert dose == Decimal(exact.numerator) / Decimal(exact.denominator)
    asked = quantum * before - Fraction(ideal)
    assert ((before - after) * quantum > COARSE_FACTOR * asked) == (Fraction(ideal) > threshold)


def test_a_first_plan_imports_only_what_planning_needs() -> None:
    """Issue 26's first plan of a process: the schema and msgspec (the bundled table is read
    as the bytes the tests checked), the outputs' declarations (only an error naming a flag
    needs them) and tempfile (only writing does) stay out."""
    code = (
        "import sys, taper; taper.plan_taper('lorazepam', '2mg', times=2, "
        "switch_to='diazepam', start='2027-01-04'); "
        "print(sorted({'msgspec', 'taper._schema', 'taper.outputs', 'tempfile'} "
        "& set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_line_freezes_what_its_start_made() -> None:
    """The process's exit no longer scans the modules and the Typer app (gc.freeze: about
    25 ms of CPU a command, issue 26); the command's own objects are not frozen."""
    code = (
        "import atexit, gc, sys; from taper.__main__ import main; "
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 1000)); "
        "sys.argv = ['taper', 'convert', 'clonazepam', '1mg', '--to', 'diazepam', "
        "'--format', 'json']; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("frozen True")
    assert '"dose_mg": 20' in done.stdout


@settings(max_examples=100, deadline=None)
@given(
    rate=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("49.5"), places=1),
    interval=st.integers(min_value=1, max_value=56),
    step=st.none() | st.decimals(min_value=Decimal("0.125"), max_value=Decimal(5), places=3),
    order=st.sampled_from(["auto", "even", "daytime-first", "night-first"]),
)
def test_a_varied_request_is_the_request_replace_makes(
    rate: Decimal, interval: int, step: Decimal | None, order: str
) -> None:
    """``TaperRequest.varied`` (issue 26: a pace search varies a request dozens of times a
    plan) makes the request ``dataclasses.replace`` makes, field by field, and leaves the
    original alone."""
    import dataclasses

    from taper.options import Order, TaperRequest

    request = TaperRequest(drug="diazepam", regimen={"morning": Decimal(5), "night": Decimal(5)})
    changes: dict[str, Any] = {
        "rate_percent": rate,
        "interval_days": interval,
        "step_mg": step,
        "order": Order(order),
    }
    varied = request.varied(**changes)
    replaced = dataclasses.replace(request, **changes)
    assert varied == replaced
    assert [type(getattr(varied, f.name)) for f in dataclasses.fields(varied)] == [
        type(getattr(replaced, f.name)) for f in dataclasses.fields(replaced)
    ]
    assert request == TaperRequest(drug="diazepam", regimen={"morning": 5, "night": 5})
    with pytest.raises(TypeError):
        request.varied(rates=rate)
