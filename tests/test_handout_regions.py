"""The handout speaks the region it is printed in (issue 22): brand names sold there, its
emergency number and its paper, each overridable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from taper.errors import InvalidRequestError, TableError
from taper.handout import plan_handout
from taper.schedule import plan_taper
from taper.table import EquivalenceTable, load_table

from .conftest import ROOT

START = "2027-01-04"


def _pages(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def _size(pdf: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_uk_handout_says_no_us_brand_name(table: EquivalenceTable) -> None:
    """Regression: UK handouts said 'temazepam (Restoril)' and 'clonazePAM (Klonopin,
    Rivotril)'."""
    temazepam = plan_taper("temazepam", "20mg", start=START, region="uk", table=table)
    text = " ".join(_pages(plan_handout(temazepam)))
    assert "Restoril" not in text
    assert "Your plan: temazepam Do not stop" in text
    clonazepam = plan_taper("clonazepam", "1mg", start=START, region="uk", table=table)
    first = _pages(plan_handout(clonazepam))[0]
    assert "Your plan: clonazePAM (Rivotril)" in first
    assert "Klonopin" not in first


def test_us_handout_says_no_uk_brand_name(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", "1mg", start=START, region="us", table=table)
    first = _pages(plan_handout(plan))[0]
    assert "Your plan: clonazePAM (Klonopin)" in first
    assert "Rivotril" not in first


def test_brand_names_can_be_another_regions_or_none(table: EquivalenceTable) -> None:
    plan = plan_taper("clonazepam", "1mg", start=START, region="uk", table=table)
    assert "clonazePAM (Klonopin)" in _pages(plan_handout(plan, brands="us"))[0]
    first = _pages(plan_handout(plan, brands="none"))[0]
    assert "Your plan: clonazePAM Do not stop" in first
    with pytest.raises(InvalidRequestError, match=r"unknown brand names 'fr' in brands="):
        plan_handout(plan, brands="fr")


def test_paper_defaults_to_the_regions(table: EquivalenceTable) -> None:
    """Regression: a US handout was A4 unless --paper letter was given."""
    us = plan_taper("diazepam", "10mg", start=START, region="us", table=table)
    uk = plan_taper("diazepam", "10mg", start=START, region="uk", table=table)
    assert _size(plan_handout(us)) == (612, 792)  # Letter
    assert _size(plan_handout(uk)) == (595, 842)  # A4
    assert _size(plan_handout(us, paper="a4")) == (595, 842)
    assert _size(plan_handout(uk, paper="letter")) == (612, 792)


def test_emergency_number_is_the_regions_or_the_one_given(table: EquivalenceTable) -> None:
    uk = plan_taper("diazepam", "10mg", start=START, region="uk", table=table)
    assert "Get urgent help now (call 999)" in _pages(plan_handout(uk))[0]
    us = plan_taper("diazepam", "10mg", start=START, region="us", table=table)
    assert "Get urgent help now (call 911)" in _pages(plan_handout(us))[0]
    pages = _pages(plan_handout(uk, emergency_number="112"))
    assert "Get urgent help now (call 112)" in pages[0]
    assert "call 999" not in " ".join(pages)
    with pytest.raises(InvalidRequestError, match="is not a telephone number"):
        plan_handout(uk, emergency_number="call me")


def test_regional_options_on_the_command_line(run: Any, tmp_path: Path) -> None:
    result = run("schedule", "clonazepam", "1mg", "--region", "uk", "--brands", "none")
    assert result.exit_status == 2
    assert "--brands none sets the handout's brand names: add --handout FILE" in result.stderr
    handout = tmp_path / "plan.pdf"
    result = run(
        "schedule", "clonazepam", "1mg", "--region", "uk", "--start", START,
        "--handout", str(handout), "--brands", "us", "--emergency-number", "112",
        "-o", str(tmp_path / "plan.csv"),
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr
    first = _pages(handout.read_bytes())[0]
    assert "clonazePAM (Klonopin)" in first
    assert "(call 112)" in first
    assert _size(handout.read_bytes()) == (595, 842)


def test_table_brands_need_their_source(tmp_path: Path) -> None:
    text = (ROOT / "equivalences.toml").read_text(encoding="utf-8")
    start = text.index("[drugs.clonazepam]")
    source = text.index("brands_source = ", start)
    broken = text[:source] + "brands_source = ''" + text[text.index("\n", source) :]
    path = tmp_path / "table.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(TableError, match="'brands' needs its source"):
        load_table(path)


def _prescriber(pages: list[str]) -> str:
    start = next(i for i, page in enumerate(pages) if "For the prescriber and pharmacist" in page)
    return " ".join(pages[start:])


def test_prescriber_page_cites_only_the_forms_the_plan_uses(table: EquivalenceTable) -> None:
    """Regression: an all-tablet UK plan's prescriber page cited the ODT and concentrate
    wording."""
    plan = plan_taper("diazepam", "morning=10mg,night=10mg", start=START, region="uk", table=table)
    prescriber = _prescriber(_pages(plan_handout(plan)))
    assert "Orally disintegrating tablets:" not in prescriber
    assert "Oral concentrate:" not in prescriber
    assert "Oral liquid:" not in prescriber
    assert "Half tablets:" in prescriber  # it splits tablets
    assert "Missed dose:" in prescriber
    assert "Symptoms and urgency:" in prescriber


def test_prescriber_page_has_quantities_by_supply_period_and_the_steps(
    table: EquivalenceTable,
) -> None:
    """Regression: the page for the pharmacist had no quantities to dispense and no step
    table."""
    plan = plan_taper("diazepam", "morning=10mg,night=10mg", start=START, region="uk", table=table)
    prescriber = _prescriber(_pages(plan_handout(plan)))
    assert "To dispense, per 28-day supply period" in prescriber
    assert "2027-01-04 to 2027-01-31" in prescriber  # the first period, as dates
    for step in plan.steps:
        if step.phase != "stop":
            first = plan.date_of(step.start_day).isoformat()
            assert f"{first} to {plan.date_of(step.end_day).isoformat()}" in prescriber
    supplied = plan_taper(
        "diazepam", "morning=10mg,night=10mg", start=START, region="uk", supply="14d", table=table
    )
    prescriber = _prescriber(_pages(plan_handout(supplied)))
    assert "To dispense, per 14-day supply period" in prescriber
    assert "2027-01-04 to 2027-01-17" in prescriber
