"""Terminal output at 80 and 60 columns: no word split, no number parted from its unit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

COMMANDS = [
    [
        "schedule",
        "alprazolam",
        "morning=0.5mg,midday=0.5mg,night=1mg",
        "--switch-to",
        "diazepam",
        "--start",
        "2027-01-04",
    ],
    ["schedule", "clonazepam", "morning=0.5mg,night=1mg", "--start", "2027-01-04"],
    ["convert", "clonazepam", "1mg", "alprazolam", "1mg", "--to", "diazepam", "--all-sources"],
    ["check", "DRAFT"],
]
WORDS = ("alprazolam", "clonazepam", "diazepam", "morning", "midday", "night", "stabilization")


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> str:
    from taper.csvout import plan_csv
    from taper.schedule import plan_taper
    from taper.table import load_table

    table = load_table(None)
    plan = plan_taper("clonazepam", "morning=0.5mg,night=1mg", start="2027-01-04", table=table)
    path = tmp_path_factory.mktemp("width") / "draft.csv"
    path.write_text(plan_csv(plan, table), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_no_word_or_dose_is_split(run: Any, args: list[str], width: int, draft: str) -> None:
    """Regression: "alprazol|am", "mornin|g" in switch tables at 80 columns, and "15 ⏎mg"
    in piped output."""
    args = [draft if arg == "DRAFT" else arg for arg in args]
    result = run(*args, env={"COLUMNS": str(width)})
    allowed = (0, 1) if args[0] == "check" else (0,)  # check exits 1 when it finds a problem
    assert result.exit_status in allowed, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= width
    assert "\u2800" not in result.stdout  # the glue is written as a space
    for line in lines:
        # a unit at the start of a line or of a cell was parted from its number
        assert not re.search(r"(^|│)\s*(mg|mL)\b", line), line
    text = result.stdout
    for word in WORDS:
        for cut in range(3, len(word)):
            fragments = len(re.findall(rf"{word[:cut]}(?=\s*(│|$))", text, re.MULTILINE))
            assert fragments == 0, f"{word} split after {word[:cut]!r} at {width} columns"


def test_text_files_carry_plain_spaces_not_the_wrapping_glue(run: Any, tmp_path: Path) -> None:
    """Bug: ``-o plan.txt`` and ``-o -`` wrote the glue that keeps a number with its unit
    while rich wraps (U+2800, a Braille blank) into the file: "5⠀mg" in every dose cell."""
    out = tmp_path / "plan.txt"
    result = run("schedule", "diazepam", "10mg", "--times", "2", "-o", str(out))
    assert result.exit_status == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "5 mg" in text
    assert "\u2800" not in text
    piped = run("schedule", "diazepam", "10mg", "--times", "2", "-o", "-", "--format", "table")
    assert piped.exit_status == 0, piped.stderr
    assert "\u2800" not in piped.stdout
