"""What a plan file says about its own doses, checked against them (``taper check``).

Taper's CSV gives each row, beside its dose, how to make it (``take``: ``"1 × 0.5 mg
tablet + half of a 0.5 mg tablet"``) and its diazepam equivalent (``diazepam_eq_mg``,
``diazepam_eq_mg_low``, ``diazepam_eq_mg_high``). A file edited by hand, or a clinic's
file in taper's columns, may say one dose in the ``dose_mg`` column and another in these:
a pharmacist reads both, so the checker reads both and reports a contradiction. A cell
it cannot read with certainty (a ``take`` in words other than taper's) is counted as not
checked, and the report says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from taper.formatting import format_dose, format_number
from taper.products import LIQUID_FORMS, PIECES_PER_UNIT, Formulary, Product
from taper.rational import Fraction
from taper.table import EquivalenceSource, EquivalenceTable, ratio_to_diazepam

#: The columns checked against their row's dose, by role.
TAKE = "take"
EQUIVALENT = "diazepam_eq_mg"
EQUIVALENT_LOW = "diazepam_eq_mg_low"
EQUIVALENT_HIGH = "diazepam_eq_mg_high"
STATED_ROLES = (TAKE, EQUIVALENT, EQUIVALENT_LOW, EQUIVALENT_HIGH)
#: Contradictions reported one by one in a column before the rest are counted in one line.
MAX_CONTRADICTIONS = 20

_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
#: A product as taper names it in a ``take`` cell (:meth:`taper.products.Product.short_label`).
_LABEL = re.compile(
    rf"(?P<strength>{_NUMBER}) mg"
    rf"(?:/(?:(?P<volume>{_NUMBER}) )?mL (?P<liquid>solution|suspension|concentrate)"
    r"| (?P<solid>tablet|ODT|capsule))",
    re.ASCII,
)
#: One part of a ``take`` cell (:meth:`taper.products.Portion.text`).
_PART = re.compile(
    rf"(?:(?P<count>[0-9]+) × |(?:(?P<pieces>[0-9]+) )?(?P<word>halves|halfs|half|quarters|quarter)"
    rf" of an? "
    rf"|(?P<ml>{_NUMBER}) mL of )(?P<label>.+)",
    re.ASCII,
)
_DENOMINATORS = {"half": 2, "halves": 2, "halfs": 2, "quarter": 4, "quarters": 4}
_EQUIVALENT_CELL = re.compile(rf"(?P<number>{_NUMBER})(?: ?mg)?", re.ASCII)
#: How taper words a ``take`` cell, for a report on one it could not read.
TAKE_WORDING = "'1 × 0.5 mg tablet', 'half of a 2 mg tablet', '2.5 mL of 1 mg/mL solution'"


@dataclass(frozen=True)
class StatedCell:
    """A cell of a row that says something of the row's dose: the column (header and role),
    the row's drug, dose time and dose, and the cell's text."""

    header: str
    role: str
    drug: str
    slot: str
    dose: Decimal
    text: str


@dataclass(frozen=True)
class Part:
    """One part of a ``take`` cell: a product (strength, form, volume) and how much of it."""

    text: str
    strength: Decimal
    form: str
    volume_ml: Decimal | None
    mg: Fraction
    #: Pieces per unit the part is cut into (1: whole units or a liquid).
    denominator: int


def read_take(text: str) -> list[Part] | None:
    """The parts of a ``take`` cell in taper's wording, or None if it is not in it."""
    if text == "nothing":
        return []
    parts = []
    for part in text.split(" + "):
        match = _PART.fullmatch(part)
        label = _LABEL.fullmatch(match["label"]) if match else None
        if match is None or label is None:
            return None
        strength = Decimal(label["strength"])
        liquid = label["liquid"]
        if (match["ml"] is None) != (liquid is None):
            return None  # "2 × 1 mg/mL solution", "2.5 mL of 1 mg tablet"
        form = liquid or ("odt" if label["solid"] == "ODT" else label["solid"])
        volume = Decimal(label["volume"] or 1) if liquid else None
        if match["ml"] is not None:
            assert volume is not None
            mg = Fraction(strength) / Fraction(volume) * Fraction(Decimal(match["ml"]))
            denominator = 1
        elif match["count"] is not None:
            mg, denominator = Fraction(strength) * int(match["count"]), 1
        else:
            denominator = _DENOMINATORS[match["word"]]
            pieces = int(match["pieces"] or 1)
            if (pieces > 1) != (match["word"] not in {"half", "quarter"}) or not pieces:
                return None  # "2 half of a", "halves of a"
            mg = Fraction(strength) * pieces / denominator
        parts.append(Part(part, strength, form, volume, mg, denominator))
    return parts


def _product(formulary: Formulary, part: Part) -> Product | None:
    for product in formulary.products:
        if (
            product.form == part.form
            and product.strength_mg == part.strength
            and (product.form not in LIQUID_FORMS or product.volume_ml == part.volume_ml)
        ):
            return product
    return None


def _where(cell: StatedCell, daily: str) -> str:
    return cell.drug if cell.slot == daily else f"{cell.drug}, {cell.slot}"


#: What a cell says against its dose: whether it was read, and the contradiction ("" if
#: none), a sentence that follows "the 'take' cell says '...'".
Verdict = tuple[bool, str]
UNREAD: Verdict = (False, "")
AGREES: Verdict = (True, "")


def take_contradiction(cell: StatedCell, formulary: Formulary | None, daily: str) -> Verdict:
    """What a ``take`` cell says against its dose and the products of ``formulary``."""
    parts = read_take(cell.text)
    if parts is None:
        return UNREAD
    made = sum((part.mg for part in parts), Fraction(0))
    if made != Fraction(cell.dose):
        return True, (
            f", which makes {format_dose(made)}, but the dose is {format_dose(cell.dose)} "
            f"({_where(cell, daily)})"
        )
    if formulary is None:
        return AGREES  # no products to compare with: the report says so already
    for part in parts:
        product = _product(formulary, part)
        if product is None:
            listed = formulary.describe()
            return True, f", but that is not among the {cell.drug} products checked: {listed}"
        if PIECES_PER_UNIT[product.split] % part.denominator:
            pieces = {2: "halves", 4: "quarters"}[part.denominator]
            label = f"{cell.drug} {product.label()}"
            return True, f", but the {label} is not scored to be cut in {pieces}"
    return AGREES


def equivalents(
    table: EquivalenceTable, drug: str, source: EquivalenceSource | None
) -> list[tuple[Fraction, Fraction]]:
    """Diazepam mg per mg of ``drug`` (low, high): under ``source``, or under each source of
    the table that gives one when ``source`` is None."""
    the_drug = table.drug(drug)
    sources = [source] if source is not None else list(table.sources.values())
    return [r for s in sources if (r := ratio_to_diazepam(table, the_drug, s)) is not None]


def equivalent_contradiction(
    cell: StatedCell,
    ratios: Sequence[tuple[Fraction, Fraction]],
    source: EquivalenceSource | None,
    daily: str,
) -> Verdict:
    """What a ``diazepam_eq_mg`` (``_low``, ``_high``) cell says against its dose under
    ``ratios`` (one source's, or every source's when ``source`` is None); not read if it is
    no number of mg or no ratio is known. A cell written to fewer decimals is read as
    rounded (10.4 as 10)."""
    match = _EQUIVALENT_CELL.fullmatch(cell.text)
    if match is None or not ratios:
        return UNREAD
    stated = Decimal(match["number"])
    exponent = stated.as_tuple().exponent
    assert isinstance(exponent, int)
    tolerance = Fraction(1, 2) * Fraction(10) ** exponent
    said = Fraction(stated)
    dose = Fraction(cell.dose)
    index = {EQUIVALENT: (0, 1), EQUIVALENT_LOW: (0, 0), EQUIVALENT_HIGH: (1, 1)}[cell.role]
    for ratio in ratios:
        if ratio[index[0]] * dose - tolerance <= said <= ratio[index[1]] * dose + tolerance:
            return AGREES
    least = min(ratio[index[0]] for ratio in ratios) * dose
    most = max(ratio[index[1]] for ratio in ratios) * dose
    value = format_dose(most)
    if least != most:
        value = f"{format_number(least)} to {value}"
    by = "by the table's sources (the file names none)" if source is None else f"by {source.id}"
    slot = "" if cell.slot == daily else f" ({cell.slot})"
    dose_text = f"{cell.drug} {format_dose(cell.dose)}{slot}"
    return True, f", but the dose, {dose_text}, is {value} of diazepam {by}"


def together_problems(
    rows: Mapping[tuple[StatedCell, ...], tuple[int, int]],
    table: EquivalenceTable,
    source: EquivalenceSource | None,
    daily: str,
) -> list[tuple[str, str]]:
    """The rows whose equivalent cells (``diazepam_eq_mg``, ``_low``, ``_high``; each row's
    with its first line and how many lines say them) agree each with some source of the
    table but not all with one (a file that names no source: 5 mg with a low and high of
    10 mg for clonazepam 0.5 mg, VA/DoD's and Ashton's). A file that names its source is
    judged cell by cell against it (:func:`stated_problems`); a cell that contradicts the
    dose on its own, or is not read, is said there."""
    if source is not None:
        return []
    found: list[str] = []
    for cells, (line, count) in sorted(rows.items(), key=lambda item: item[1][0]):
        ratios = equivalents(table, cells[0].drug, None)
        alone = [equivalent_contradiction(cell, ratios, None, daily) for cell in cells]
        if any(not read or against for read, against in alone):
            continue
        if any(
            not any(equivalent_contradiction(cell, [ratio], None, daily)[1] for cell in cells)
            for ratio in ratios
        ):
            continue  # one source gives them all
        said = ", ".join(f"{cell.header} {cell.text}" for cell in cells)
        slot = "" if cells[0].slot == daily else f" ({cells[0].slot})"
        more = f" (and on {count - 1:,} more line{'s' * (count > 2)})" if count > 1 else ""
        found.append(
            f"line {line}{more}: its diazepam equivalents ({said}) are not one source's for "
            f"{cells[0].drug} {format_dose(cells[0].dose)}{slot}: each agrees with some source "
            "of the table, none gives them together (the file names none)"
        )
    problems = [("diazepam-eq", message) for message in found[:MAX_CONTRADICTIONS]]
    if len(found) > MAX_CONTRADICTIONS:
        rest = len(found) - MAX_CONTRADICTIONS
        problems.append(("diazepam-eq", f"and {rest:,} more rows whose equivalents disagree"))
    return problems


def stated_problems(
    cells: Mapping[StatedCell, tuple[int, int]],
    table: EquivalenceTable,
    formularies: Mapping[str, Formulary],
    source: EquivalenceSource | None,
    daily: str,
) -> tuple[list[tuple[str, str]], dict[str, tuple[int, str, int]]]:
    """The contradictions of ``cells`` (each cell with its first line and how many lines
    say it): (kind, message) pairs, at most :data:`MAX_CONTRADICTIONS` a column then one
    line counting the rest; and the columns not checked, by header: (first line, its cell,
    how many lines)."""
    found: dict[tuple[str, str], list[str]] = {}
    unchecked: dict[str, tuple[int, str, int]] = {}
    ratios: dict[str, list[tuple[Fraction, Fraction]]] = {}
    for cell, (line, count) in sorted(cells.items(), key=lambda item: item[1][0]):
        if cell.role == TAKE:
            said = take_contradiction(cell, formularies.get(cell.drug), daily)
        else:
            if cell.drug not in ratios:
                ratios[cell.drug] = equivalents(table, cell.drug, source)
            said = equivalent_contradiction(cell, ratios[cell.drug], source, daily)
        read, against = said
        if not read:
            first, text, lines = unchecked.get(cell.header, (line, cell.text, 0))
            unchecked[cell.header] = (first, text, lines + count)
        elif against:
            more = f" (and on {count - 1:,} more line{'s' * (count > 2)})" if count > 1 else ""
            found.setdefault((cell.header, cell.role), []).append(
                f"line {line}{more}: the {cell.header!r} cell says {cell.text!r}{against}"
            )
    problems = []
    for (header, role), messages in found.items():
        kind = "take" if role == TAKE else "diazepam-eq"
        problems += [(kind, message) for message in messages[:MAX_CONTRADICTIONS]]
        if len(messages) > MAX_CONTRADICTIONS:
            rest = len(messages) - MAX_CONTRADICTIONS
            problems.append((kind, f"and {rest:,} more {header!r} cells that contradict the dose"))
    return problems, unchecked
