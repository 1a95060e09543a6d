"""Errors speak to their reader: a Python caller is told ``switch_reduction=``, the command
line ``--switch-reduction`` (see :mod:`taper.errors`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

import taper
from taper.check import check_plan
from taper.convert import convert_dose
from taper.errors import InvalidRequestError, TaperError, literal
from taper.table import EquivalenceTable

ROOT = Path(__file__).resolve().parent.parent
#: A command-line flag in a message: ``--rate``, ``--allow-high-dose``.
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _strings(node: ast.AST) -> list[str]:
    """The literal text inside an expression (plain strings and f-strings' literal parts)."""
    return [
        sub.value
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
    ]


def _raise_sites() -> list[tuple[str, int, str]]:
    """Every string written into an error the library raises: in a ``raise`` statement, in
    the construction of an ``...Error``, or in a module constant an error quotes."""
    found = []
    for path in sorted((ROOT / "taper").rglob("*.py")):
        if path.name == "process.py":  # the process's boundary speaks to the command line
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            calls_error = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr).endswith(
                    ("Error", "fail")
                )
            )
            if isinstance(node, ast.Raise) or calls_error:
                for text in _strings(node):
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, text))
    return found


def test_the_scan_finds_the_raise_sites() -> None:
    texts = [text for _, _, text in _raise_sites()]
    assert len(texts) > 100
    assert any("{switch_reduction}" in text for text in texts)


def test_no_library_error_spells_a_flag() -> None:
    """Regression: 75 lines in 18 library modules told a Python caller to pass a flag
    (``--switch-reduction``, ``--allow-high-dose``...); they name the parameter instead."""
    flags = [f"{path}:{line}: {text!r}" for path, line, text in _raise_sites() if FLAG.search(text)]
    assert flags == []


BAD_CALLS: list[tuple[str, dict[str, Any], str, str]] = [
    # (function, keyword arguments, what Python shows, what the command line shows)
    ("plan", {"rate": "10%", "until": "2027-12-31"}, "give rate='10%' or a target end",
     "give --rate 10% or a target end"),
    ("plan", {"switch_reduction": 25}, "switch_reduction='25%' goes with switch_to= or",
     "--switch-reduction 25% goes with --switch-to or --finish-on"),
    ("plan", {"part": "0.5mg"}, "part='0.5mg' goes with switch_to=", "--part 0.5mg goes with"),
    ("plan", {"steps": "0.5mg,0.25mg"}, "steps='0.5mg,0.25mg' goes with method='steps'",
     "--steps 0.5mg,0.25mg goes with --method steps"),
    ("plan", {"region": "eu"}, "unknown region='eu'; use us, uk", "unknown --region eu; use us"),
    ("plan", {"method": "linear"}, "the linear method needs step= (e.g. 0.125mg)",
     "the linear method needs --step (e.g. 0.125mg)"),
    ("plan", {"method": "steps"}, "needs steps= (e.g. '0.75mg,0.5mg')",
     "needs --steps (e.g. '0.75mg,0.5mg')"),
    ("plan", {"method": "occupancy"}, "needs ed50= (and optionally emax=)",
     "needs --ed50 (and optionally --emax)"),
    ("plan", {"times": 5}, "times=5 must be 1, 2, 3 or 4", "--times 5 must be 1, 2, 3 or 4"),
    ("plan", {"age": 200}, "age=200 must be from 0 to 130", "--age 200 must be from 0 to 130"),
    ("plan", {"finish_from": "1mg"}, "finish_from='1mg' needs finish_on=",
     "--finish-from 1mg needs --finish-on"),
    ("plan", {"until": "2027-12-31", "duration": "26w"}, "until='2027-12-31' or a duration=",
     "--until 2027-12-31 or a --duration 26w"),
    ("plan", {"slow_rate": "5%"}, "slow_rate='5%' needs slow_below=",
     "--slow-rate 5% needs --slow-below"),
    ("high", {}, "pass allow_high_dose=True to go ahead", "pass --allow-high-dose to go ahead"),
    ("convert", {}, "pass allow_high_dose=True to go ahead", "pass --allow-high-dose to go"),
    ("check", {"region": "eu"}, "unknown region='eu'", "unknown --region eu"),
]  # fmt: skip


def _call(kind: str, options: dict[str, Any], table: EquivalenceTable, tmp_path: Path) -> None:
    if kind == "plan":
        taper.plan_taper("clonazepam", "1mg", table=table, start="2027-01-04", **options)
    elif kind == "high":
        taper.plan_taper("clonazepam", "30mg", table=table, **options)
    elif kind == "convert":
        convert_dose([("clonazepam", "30mg")], "diazepam", table=table)
    else:
        plan = tmp_path / "plan.csv"
        plan.write_text("day,drug,dose_mg\n1,clonazepam,1\n", encoding="utf-8")
        check_plan(plan, table, **options)


@pytest.mark.parametrize(("kind", "options", "python", "command_line"), BAD_CALLS)
def test_an_error_names_the_parameter_for_python_and_the_flag_for_the_command_line(
    table: EquivalenceTable,
    tmp_path: Path,
    kind: str,
    options: dict[str, Any],
    python: str,
    command_line: str,
) -> None:
    from taper.__main__ import load_cli

    with pytest.raises(TaperError) as raised:
        _call(kind, options, table, tmp_path)
    assert python in str(raised.value)
    assert not FLAG.search(str(raised.value)), str(raised.value)
    assert command_line in raised.value.render(load_cli().flag_spelling)


def test_braces_of_user_text_are_never_read_as_parameters() -> None:
    error = InvalidRequestError(
        f"cannot read {literal('{rate}')}: give {{rate}}", parameters={"rate": None}
    )
    assert str(error) == "cannot read {rate}: give rate="


def test_a_message_without_parameters_is_kept_as_written() -> None:
    assert str(InvalidRequestError("a {dict: 1} shown as it is")) == "a {dict: 1} shown as it is"


def test_a_region_is_read_in_any_case(table: EquivalenceTable) -> None:
    """Regression: only the command line lower-cased the region, so plan_taper(region="UK")
    raised; the library reads it in any case."""
    from taper.params import Region

    plan = taper.plan_taper("clonazepam", "1mg", table=table, region="UK", start="2027-01-04")
    assert plan.request.region is Region.UK


def test_check_plan_refuses_an_unknown_region(table: EquivalenceTable, tmp_path: Path) -> None:
    """Regression: check_plan(region="eu") noted there were no products and skipped the
    checks; it is refused with the choices."""
    plan = tmp_path / "plan.csv"
    plan.write_text("day,drug,dose_mg\n1,clonazepam,1\n", encoding="utf-8")
    with pytest.raises(InvalidRequestError, match="unknown region='eu'; use us, uk"):
        check_plan(plan, table, region="eu")


def test_phases_and_forms_are_closed_sets(table: EquivalenceTable) -> None:
    """Phases and product forms are enumerations (StrEnum: they compare and print as the
    text they were)."""
    from taper.plan import Phase
    from taper.products import Form

    plan = taper.plan_taper(
        "clonazepam", "1mg", table=table, switch_to="diazepam", start="2027-01-04"
    )
    assert {step.phase for step in plan.steps} <= set(Phase)
    assert all(isinstance(step.phase, Phase) for step in plan.steps)
    assert plan.steps[0].phase == "crossover"
    assert all(isinstance(p.form, Form) for d in table.drugs.values() for p in d.products)


def test_apostrophes_of_prose_are_not_quotes_to_shorten() -> None:
    """A long error naming "the Manual's schedules ... the Manual's crossover" had its middle
    cut as if it were one long quoted value (the ways forward of a high-dose switch were lost)."""
    from taper.errors import shorten_message

    prose = (
        "single doses (the Ashton Manual's schedules give single doses of 15 to 25 mg); Ways "
        "forward: a source whose equivalents give less (va-dod-2021); the Ashton Manual's "
        "crossover, which cuts the old drug as it is replaced; " * 2
    )
    assert shorten_message(prose) == prose
    echoed = "invalid dose '" + "9" * 500 + "': " + "a dose is a number and a unit " * 8
    assert "... (500 characters)'" in shorten_message(echoed)
