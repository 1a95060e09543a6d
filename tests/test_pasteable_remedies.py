"""Every option a warning or error names with a dose is pasteable as printed (a fresh user's
review: a ceiling remedy printed "--step 0.09 mg", and pasting it failed with "'mg' has no
dose"): doses in flags are written as the parser reads them, "--step 0.09mg"."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest

from taper.formatting import dose_argument

START = "2027-01-04"
#: An option a message names with its value: "--step 0.125mg", "--every 2w", "--final 8mg".
_NAMED = re.compile(r"(--(?:step|final|finish-from|part|every|rate)) ([^\s),;:]+)")


def _pasted(args: list[str], message: str) -> list[str]:
    """``args`` with every option ``message`` names set as printed (shlex-split, as a shell
    reads it)."""
    named = [shlex.split(f"{flag} {value}") for flag, value in _NAMED.findall(message)]
    assert named, message
    pasted = list(args)
    for flag, value in named:
        if flag in pasted:
            pasted[pasted.index(flag) + 1] = value
        else:
            pasted += [flag, value]
    return pasted


def _warnings(run: Any, args: list[str]) -> list[dict[str, str]]:
    result = run("schedule", *args, "--start", START, "--format", "json")
    assert result.exit_status == 0, result.stderr
    warnings: list[dict[str, str]] = json.loads(result.stdout)["warnings"]
    return warnings


@pytest.mark.parametrize(
    "args",
    [
        ["clonazepam", "2mg", "--method", "linear", "--step", "0.5mg", "--every", "1w"],
        ["diazepam", "20mg", "--times", "2", "--final", "8mg"],
        ["clonazepam", "1mg", "--times", "2", "--pace", "label"],
    ],
)
def test_a_remedy_that_names_a_dose_option_plans_when_pasted_back(
    run: Any, args: list[str]
) -> None:
    named = [w["message"] for w in _warnings(run, args) if _NAMED.search(w["message"]) is not None]
    assert named, args
    for message in named:
        assert not re.search(r"--\w[\w-]* [0-9.]+ mg\b", message), message
        pasted = _pasted(args, message)
        result = run("schedule", *pasted, "--start", START)
        assert result.exit_status == 0, (pasted, result.stderr)


def test_the_ceiling_remedy_with_a_step_avoids_the_ceiling_when_pasted(run: Any) -> None:
    args = ["clonazepam", "2mg", "--method", "linear", "--step", "0.5mg", "--every", "1w"]
    (ceiling,) = [w["message"] for w in _warnings(run, args) if w["kind"] == "ceiling"]
    assert "--every 2w with --step 0.125mg avoids it" in ceiling
    fixed = _warnings(run, _pasted(args, ceiling.split("method's pace: ")[1]))
    assert "ceiling" not in [w["kind"] for w in fixed]


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (
            ["clonazepam", "2mg", "--finish-on", "diazepam", "--finish-from", "0.1mg"],
            "--finish-from",
        ),
        (
            [
                *("lorazepam", "3mg", "--times", "3", "--switch-to", "diazepam"),
                *("--crossover", "partial", "--part", "0.75mg"),
            ],
            "--part",
        ),
    ],
)
def test_an_error_names_the_dose_option_as_it_can_be_pasted(
    run: Any, args: list[str], flag: str
) -> None:
    refused = run("schedule", *args)
    assert refused.exit_status != 0
    assert f"{flag} {args[args.index(flag) + 1]}" in refused.stderr
    again = run("schedule", *_pasted(args, refused.stderr))
    assert again.stderr == refused.stderr  # read back as the same dose, not "'mg' has no dose"


def test_a_dose_argument_is_read_back_by_the_dose_parser() -> None:
    from decimal import Decimal

    from taper.doses import parse_dose

    for text in ("0.09", "0.125", "1250", "7.5", "0.5"):
        assert parse_dose(dose_argument(Decimal(text))) == Decimal(text)
    assert dose_argument(Decimal("1250")) == "1250mg"
