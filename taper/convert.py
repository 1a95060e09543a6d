"""Dose conversion between benzodiazepines, under every source at once.

Converting under one source divides each current dose by that source's value for the drug
and multiplies by its value for the target, both as published. Arithmetic is exact
(``Fraction``); a source that gives a range yields a range, combined end to end, and never a
midpoint. Every conversion is computed under every source in the table, so that the one the
user chose can be shown beside the others, with the spread between them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from taper.doses import parse_dose
from taper.errors import HighDoseError, InvalidRequestError, NoEquivalenceError, ParameterError
from taper.formatting import (
    DISPLAY_QUANTUM,
    format_dose,
    format_dose_range,
    format_number,
    to_decimal,
)
from taper.notices import Kind, Notice
from taper.rational import Fraction
from taper.table import Drug, EquivalenceSource, EquivalenceTable, table_of
from taper.values import decimal_of, dose_text

#: A spread between sources at or above this fold is flagged (feature brief, issue 2): the
#: highest value over the lowest, one value per source with a value (see :func:`_spread`).
SPREAD_WARNING_FOLD = Fraction(3, 2)


@dataclass(frozen=True)
class DoseInput:
    """One current drug and its dose, as resolved from what the user typed."""

    drug: Drug
    dose_mg: Decimal


@dataclass(frozen=True)
class SourceResult:
    """The target dose under one source; ``low_mg is None`` when the source cannot say.

    Doses are Decimals at 0.001 mg, as every result of the library; ``exact`` is False when
    the exact value (computed as a fraction) had to be rounded to get there.
    """

    source: EquivalenceSource
    low_mg: Decimal | None
    high_mg: Decimal | None
    #: Drugs of the conversion for which this source gives no value.
    missing: tuple[str, ...] = ()
    exact: bool = True

    @property
    def covers(self) -> bool:
        return self.low_mg is not None

    @property
    def is_range(self) -> bool:
        return self.covers and self.low_mg != self.high_mg

    @property
    def is_exact(self) -> bool:
        """False when the dose had to be rounded to 0.001 mg."""
        return self.exact

    def text(self) -> str:
        """``"30 mg"``, ``"15 to 60 mg"``, ``"about 6.667 mg"`` or ``"no value for ..."``."""
        if self.low_mg is None or self.high_mg is None:
            return "no value for " + ", ".join(self.missing)
        text = format_dose_range(self.low_mg, self.high_mg)
        return text if self.is_exact else f"about {text}"


@dataclass(frozen=True)
class Spread:
    """How far apart the sources that give a value for a conversion are, measured on one
    value per source (see :func:`_spread`); Decimals at 0.001 mg (``wide`` is decided on the
    exact fold)."""

    #: The lowest and highest of the values compared (one per source with a value).
    low_mg: Decimal
    high_mg: Decimal
    #: Sources with a value.
    source_count: int
    fold: Decimal
    wide: bool
    #: Sources with no value for a drug of the conversion (left out of the comparison).
    without_value: int = 0
    #: Sources that give a range, compared at the value of their own range nearest the
    #: single values (at its midpoint when fewer than two sources give a single value).
    ranges: tuple[str, ...] = ()
    #: How a range was taken: ``"nearest"`` or ``"midpoint"``.
    range_basis: str = "nearest"

    @property
    def is_wide(self) -> bool:
        return self.wide

    def agreement(self) -> str:
        """``"2-fold"``, or ``"all 4 sources with a value agree; 3 have none"``."""
        if self.fold != 1:
            return f"{format_number(self.fold)}-fold"
        singles = self.source_count - len(self.ranges)
        if self.ranges and self.range_basis == "nearest":
            # A range that contains the value is no agreement: say what agrees, and what only
            # includes it (a pharmacist's review: "all 6 agree" beside "Different: 10 to 50 mg").
            who = "both single values" if singles == 2 else f"the {singles} single values"
            text = (
                f"{who} agree; the range of {self.ranges[0]} includes that value"
                if len(self.ranges) == 1
                else f"{who} agree; the ranges of {', '.join(self.ranges)} include that value"
            )
        else:
            who = "both sources" if self.source_count == 2 else f"all {self.source_count} sources"
            text = f"{who} with a value agree"
        if self.without_value:
            text += f"; {self.without_value} {'has' if self.without_value == 1 else 'have'} none"
        return text

    def basis(self) -> str:
        """How ranges entered the comparison, in words (empty when no source gives one)."""
        if not self.ranges:
            return ""
        how = "midpoint" if self.range_basis == "midpoint" else "value nearest the others"
        return f"{', '.join(self.ranges)}: a range, taken at its {how}"

    def text(self) -> str:
        """``"15 to 30 mg across 5 sources (2-fold; medscape: a range, ...)"``."""
        return f"{format_dose_range(self.low_mg, self.high_mg)} across {self.source_count} " + (
            f"sources ({self.qualified()})"
        )

    def summary(self) -> str:
        """``"15 to 30 mg (2-fold; medscape: a range, taken at its value nearest the others)"``:
        the spread as a table row or a page shows it."""
        return f"{format_dose_range(self.low_mg, self.high_mg)} ({self.qualified()})"

    def qualified(self) -> str:
        """The agreement, and how ranges entered it where any did (a midpoint is said)."""
        basis = "" if self.ranges and self.range_basis == "nearest" else self.basis()
        return self.agreement() + (f"; {basis}" if basis else "")


@dataclass(frozen=True)
class Conversion:
    """A conversion of one or more current doses into one target drug."""

    inputs: tuple[DoseInput, ...]
    target: Drug
    chosen: SourceResult
    results: tuple[SourceResult, ...]
    spread: Spread | None
    #: One line on what the other sources say, when they differ from the chosen one.
    disagreement: str | None
    warnings: tuple[Notice, ...]
    #: With several current drugs: each drug's part of the result under the chosen source.
    parts: tuple[tuple[DoseInput, SourceResult], ...] = ()

    def require_writable(self) -> None:
        """Refuse a result that the ISMP formatter would write as 0 mg (below 0.001 mg)."""
        # results are rounded to 0.001 mg: a dose (never zero) that became 0 was below it
        if any(r.low_mg is not None and to_decimal(r.low_mg)[0] == 0 for r in self.results):
            raise InvalidRequestError(
                f"the {self.target.name} dose is below {format_dose(DISPLAY_QUANTUM)}, the "
                "smallest dose taper writes: it cannot be written faithfully"
            )


@dataclass(frozen=True)
class _Exact:
    """A result under one source in exact fractions, before it is rounded for the caller."""

    source: EquivalenceSource
    low: Fraction | None
    high: Fraction | None
    missing: tuple[str, ...] = ()

    def result(self) -> SourceResult:
        if self.low is None or self.high is None:
            return SourceResult(self.source, None, None, self.missing)
        low, low_exact = to_decimal(self.low)
        high, high_exact = to_decimal(self.high)
        return SourceResult(self.source, low, high, (), low_exact and high_exact)


def convert_dose(
    doses: str | Sequence[tuple[str, object]],
    dose: object = None,
    to: str | None = None,
    *,
    source: str | None = None,
    table: EquivalenceTable | str | os.PathLike[str] | None = None,
    allow_high_dose: bool = False,
) -> Conversion:
    """Convert current doses into a dose of ``to``: ``convert_dose("clonazepam", 1.5,
    "diazepam")``, or several as pairs, ``convert_dose([("clonazepam", "1.5mg"), ...],
    "diazepam")``. A dose is text with a unit or a number of mg (int, Decimal or float).

    The result carries the dose under the chosen ``source`` (the table's default when None)
    and under every other source, the spread between them and any warnings. Doses above a
    drug's usual maximum are refused unless ``allow_high_dose`` is true.
    """
    if not isinstance(doses, str | list | tuple):
        raise ParameterError("doses", doses, "a drug name or a list of (drug, dose) pairs")
    if isinstance(doses, str):
        if dose is None:
            raise InvalidRequestError(f"give the dose of {doses}")
        doses, dose = [(doses, dose)], None
    elif to is None:  # convert_dose([(drug, dose), ...], "diazepam")
        if not isinstance(dose, str):
            raise ParameterError("to", dose, "the name of the drug to convert to")
        to, dose = dose, None
    if dose is not None:
        raise ParameterError("doses", doses, "a drug name when a dose is given")
    if not isinstance(doses, list | tuple) or not all(
        isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str)
        for pair in doses
    ):
        raise ParameterError("doses", doses, "a drug name or a list of (drug, dose) pairs")
    if not isinstance(to, str):
        raise ParameterError("to", to, "the name of the drug to convert to")
    if source is not None and not isinstance(source, str):
        raise ParameterError("source", source, "a source id (text)")
    if not isinstance(allow_high_dose, bool):
        raise ParameterError("allow_high_dose", allow_high_dose, "True or False")
    if not doses:
        raise InvalidRequestError("give at least one current drug and dose")
    table = table_of(table)
    target = table.drug(to)
    chosen_source = table.source(source if source is not None else table.default_source)
    inputs = tuple(_resolve(table, drug_name, value) for drug_name, value in doses)
    seen: set[str] = set()
    for item in inputs:
        if item.drug.name in seen:
            raise InvalidRequestError(
                f"{item.drug.name} is given twice; give its total daily dose once"
            )
        seen.add(item.drug.name)

    warnings = [*_high_dose_warnings(inputs, allow_high_dose)]
    exact = tuple(_convert_under(table, s, inputs, target) for s in table.sources.values())
    results = tuple(r.result() for r in exact)
    index = next(i for i, r in enumerate(exact) if r.source.id == chosen_source.id)
    chosen_exact, chosen = exact[index], results[index]
    if not chosen.covers:
        missing = chosen.missing[0]
        needed = [item.drug for item in inputs if item.drug is not target] + [target]
        covering_ids = [
            source_id
            for source_id in table.sources
            if all(source_id in drug.equivalents for drug in needed)
        ]
        raise NoEquivalenceError(missing, chosen_source.id, covering_ids)

    covering = [r for r in exact if r.low is not None]
    spread = _spread(covering, len(exact) - len(covering))
    if spread is not None and spread.is_wide:
        basis = spread.basis()
        warnings.append(
            Notice(
                Kind.SOURCE_SPREAD,
                f"sources disagree {spread.agreement()}: {target.name} "
                f"{format_dose_range(spread.low_mg, spread.high_mg)} across "
                f"{spread.source_count} sources with a value"
                + (f" ({basis})" if basis else "")
                + "; review every source before relying on one",
            )
        )
    high = chosen_exact.high
    if high is not None and target.max_daily and high > target.max_daily.mg:
        warnings.append(
            Notice(
                Kind.ABOVE_MAXIMUM,
                f"the result is above the usual maximum of {format_dose(target.max_daily.mg)} "
                f"{target.name} a day ({target.max_daily.note})",
            )
        )
    involved = {item.drug.name: item.drug for item in inputs} | {target.name: target}
    for drug in involved.values():
        warnings.extend(Notice(Kind.DRUG_NOTE, f"{drug.name}: {note}") for note in drug.notes)
    parts = (
        tuple(
            (item, _convert_under(table, chosen_source, (item,), target).result())
            for item in inputs
        )
        if len(inputs) > 1
        else ()
    )
    return Conversion(
        inputs=inputs,
        target=target,
        parts=parts,
        chosen=chosen,
        results=results,
        spread=spread,
        disagreement=_disagreement(chosen_exact, covering),
        warnings=tuple(warnings),
    )


def _resolve(table: EquivalenceTable, drug_name: str, dose: object) -> DoseInput:
    drug = table.drug(drug_name)
    if isinstance(dose, str):
        return DoseInput(drug=drug, dose_mg=parse_dose(dose))
    value = decimal_of(dose, f"the dose of {drug.name}")
    if value <= 0:
        raise InvalidRequestError(f"the dose of {drug.name} must be greater than zero")
    return DoseInput(drug=drug, dose_mg=parse_dose(dose_text(value, "dose")))


def _high_dose_warnings(inputs: Sequence[DoseInput], allow_high_dose: bool) -> list[Notice]:
    warnings = []
    for item in inputs:
        limit = item.drug.max_daily
        if limit is None or item.dose_mg <= limit.mg:
            continue
        if not allow_high_dose:
            raise HighDoseError(
                item.drug.name, format_dose(item.dose_mg), format_dose(limit.mg), limit.note
            )
        warnings.append(
            Notice(
                Kind.ABOVE_MAXIMUM,
                f"{item.drug.name} {format_dose(item.dose_mg)} is above the usual maximum of "
                f"{format_dose(limit.mg)} a day ({limit.note}); converted as asked",
            )
        )
    return warnings


def _convert_under(
    table: EquivalenceTable,
    source: EquivalenceSource,
    inputs: Sequence[DoseInput],
    target: Drug,
) -> _Exact:
    low = high = Fraction(0)
    missing: list[str] = []
    target_value = target.equivalents.get(source.id)
    for item in inputs:
        dose = Fraction(item.dose_mg)
        if item.drug is target:
            low, high = low + dose, high + dose
            continue
        source_value = item.drug.equivalents.get(source.id)
        if source_value is None:
            missing.append(item.drug.name)
            continue
        if target_value is None:
            continue
        low += dose * Fraction(target_value.low) / Fraction(source_value.high)
        high += dose * Fraction(target_value.high) / Fraction(source_value.low)
    needs_target = any(item.drug is not target for item in inputs)
    if target_value is None and needs_target:
        missing.append(target.name)
    if missing:
        return _Exact(source, None, None, tuple(missing))
    return _Exact(source, low, high)


def _spread(results: Sequence[_Exact], without_value: int) -> Spread | None:
    """The spread of the sources with a value, on one value per source: a single value as
    it is; a source's range at its value nearest the single values of the others (a range
    that includes them agrees with them), or at its midpoint when fewer than two sources
    give a single value. The extreme ends of different sources' ranges are never compared
    (Medscape's ranges are 4-fold wide by themselves)."""
    if len(results) < 2:
        return None
    points = [r.low for r in results if r.low is not None and r.low == r.high]
    ranged = [r for r in results if r.low is not None and r.high is not None and r.low != r.high]
    values = list(points)
    basis = "nearest" if len(points) >= 2 else "midpoint"
    for result in ranged:
        assert result.low is not None
        assert result.high is not None
        if basis == "midpoint":
            values.append((result.low + result.high) / 2)
        else:
            values.append(_nearest(result.low, result.high, min(points), max(points)))
    low, high = min(values), max(values)
    fold = high / low
    return Spread(
        low_mg=to_decimal(low)[0],
        high_mg=to_decimal(high)[0],
        source_count=len(results),
        fold=to_decimal(fold)[0],
        wide=fold >= SPREAD_WARNING_FOLD,
        without_value=without_value,
        ranges=tuple(r.source.id for r in ranged),
        range_basis=basis,
    )


def _nearest(low: Fraction, high: Fraction, first: Fraction, last: Fraction) -> Fraction:
    """The value of the range ``low``-``high`` nearest the span ``first``-``last`` (inside
    the span where the two overlap)."""
    if high < first:
        return high
    if low > last:
        return low
    return max(low, first)


def _disagreement(chosen: _Exact, results: Sequence[_Exact]) -> str | None:
    """One line on the other sources, or None when the chosen one is the only opinion.

    ``"Same with nhs-scotland-2024. Different: va-dod-2021 15 mg (half this)."``
    """
    same, different = [], []
    for result in results:
        if result.source.id == chosen.source.id:
            continue
        if (result.low, result.high) == (chosen.low, chosen.high):
            same.append(result.source.id)
            continue
        text = f"{result.source.id} {result.result().text()}"
        if result.low == result.high and chosen.low == chosen.high:
            assert result.low is not None
            assert chosen.low is not None
            text += f" ({_relative(result.low / chosen.low)})"
        different.append(text)
    if not different:
        return None
    agree = f"Same with {', '.join(same)}. " if same else ""
    return f"{agree}Different: {'; '.join(different)}."


def _relative(ratio: Fraction) -> str:
    words = {Fraction(1, 2): "half this", Fraction(2): "twice this"}
    return words.get(ratio, f"{format_number(ratio)}× this")
