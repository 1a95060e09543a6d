"""The engine's entry: build the plan a request describes.

A direct taper (:mod:`taper.direct`) or, with a drug to switch to, a substitution
(:mod:`taper.substitution`), assembled into a plan (:mod:`taper.assemble`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from taper.assemble import METHOD_PACE_CAUSE, Segment, assemble_plan
from taper.direct import taper_segments
from taper.errors import InvalidRequestError, TaperError
from taper.formatting import dose_argument, format_dose, format_number, to_decimal
from taper.guideline import CEILING_FRACTION, WINDOW_DAYS, over_ceiling
from taper.notices import Kind, Notice
from taper.options import Method, TaperRequest
from taper.plan import Plan
from taper.products import product_drug
from taper.rational import Fraction
from taper.regimen import check_regimen, request_formulary
from taper.substitution import build_substitution, paced
from taper.table import EquivalenceTable, ratio_to_diazepam


def make_plan(request: TaperRequest, table: EquivalenceTable, *, today: dt.date | None) -> Plan:
    """Build the plan a request describes (a direct taper, or a substitution); a warning that
    the method's pace goes over the ceiling names a remedy checked on this very plan.

    Remembered for the last 64 requests (:func:`_remembered_plan`): the same request with
    the same table on the same day gives the same plan (a plan is immutable), so a batch
    that repeats a scenario, a web page asked again or a revision of the same request plans
    it once. A request that is refused is worked out afresh each time."""
    question = _question(request)
    if question is None:
        return _planned(request, table, today, None)
    # The day a plan without a start date starts on (today's date unless ``today`` is
    # given) decides it too: a remembered plan is not handed out on another day.
    first_day = request.start or today or dt.date.today()
    return _remembered_plan(question, SameTable(table), today, first_day)


@functools.lru_cache(maxsize=64)
def _remembered_plan(
    question: _Question, table: SameTable, today: dt.date | None, first_day: dt.date
) -> Plan:
    return _planned(question.request, table.table, today, question)


def _planned(
    request: TaperRequest,
    table: EquivalenceTable,
    today: dt.date | None,
    question: _Question | None,
) -> Plan:
    """The plan of :func:`make_plan`, worked out afresh (``question``: the request as a key
    of the engine's memos, None if it cannot be one)."""
    plan = _make_plan(request, table, today=today)
    for index, notice in enumerate(plan.warnings):
        if notice.kind is Kind.CEILING and METHOD_PACE_CAUSE in notice.message:
            head = notice.message.partition(METHOD_PACE_CAUSE)[0]
            remedy = _remembered_remedy(request, table, today, question)
            warnings = list(plan.warnings)
            warnings[index] = Notice(Kind.CEILING, f"{head}{METHOD_PACE_CAUSE}{remedy}")
            return replace(plan, warnings=tuple(warnings))
    return plan


#: Kinds of value that are their own key (with their type: ``1``, ``True`` and ``1.0`` are
#: equal, and their keys are not).
_ATOMS = frozenset({str, int, bool, type(None), dt.date})


def _frozen(value: Any) -> Any:
    """A hashable key that tells apart every value a request field can hold: its type, and
    a Decimal by its digits and exponent (``1.0`` and ``1`` are different keys)."""
    kind = type(value)
    if kind in _ATOMS:
        return (kind, value)
    if kind is Decimal:
        return (Decimal, str(value))
    if isinstance(value, dict | MappingProxyType):  # a request's regimens are read-only views
        return (dict, tuple((_frozen(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_frozen(item) for item in value))
    if isinstance(value, Decimal):
        return (Decimal, str(value))
    return (type(value), value)


@dataclass(frozen=True)
class _Question:
    """A request, compared and hashed by the values of all its fields (its regimen is a
    dict, so the request itself is not hashable)."""

    request: TaperRequest = field(compare=False)
    key: tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class SameTable:
    """A table compared by identity (frozen, but holding dicts), held by a memo's key so
    that its id is not reused while the entry lives (the engine's and a batch's memos)."""

    table: EquivalenceTable

    def __hash__(self) -> int:
        return id(self.table)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SameTable) and other.table is self.table


@functools.lru_cache(maxsize=4096)
def _cached_breach(
    question: _Question, table: SameTable, today: dt.date | None
) -> tuple[bool, bool]:
    return _plan_verdict(question.request, table.table, today)


@functools.cache
def _request_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(TaperRequest))


def _question(request: TaperRequest) -> _Question | None:
    """The request as a key of the engine's memos: every field's value (None if a field
    holds a value of a kind that cannot be a key: the answer is then worked out afresh)."""
    try:
        values = request.__dict__  # the fields' values (a request has no other attribute)
        key = tuple([_frozen(values[name]) for name in _request_fields()])
        hash(key)
    except TypeError:
        return None
    return _Question(request, key)


def _breaches(request: TaperRequest, table: EquivalenceTable, today: dt.date | None) -> bool:
    """Whether the method's pace goes over the ceiling in the plan of ``request`` (a request
    that cannot be planned counts as one). Remembered for the last 4,096 questions, keyed by
    every field of the request, the table (by identity) and today: a batch asks the same
    ones again (the same drug and dose at neighbouring rates probe the same slower paces)."""
    return _verdict(request, table, today)[0]


def _verdict(
    request: TaperRequest, table: EquivalenceTable, today: dt.date | None
) -> tuple[bool, bool]:
    """:func:`_plan_verdict`, remembered as :func:`_breaches` says."""
    question = _question(request)
    if question is None:
        return _plan_verdict(request, table, today)
    return _cached_breach(question, SameTable(table), today)


@functools.lru_cache(maxsize=1024)
def _cached_remedy(question: _Question, table: SameTable, today: dt.date | None) -> str:
    return _checked_remedy(question.request, table.table, today)


def _remembered_remedy(
    request: TaperRequest,
    table: EquivalenceTable,
    today: dt.date | None,
    question: _Question | None,
) -> str:
    """The remedy of :func:`_checked_remedy`, remembered for the last 1,024 requests, keyed
    as :func:`_breaches` is (``question``: the request as a key, None if it cannot be one):
    a batch that plans the same request again (a scenario repeated, a web page reloaded)
    asks its remedy once instead of its several slower paces."""
    if question is None:
        return _checked_remedy(request, table, today)
    return _cached_remedy(question, SameTable(table), today)


def _plan_breaches(request: TaperRequest, table: EquivalenceTable, today: dt.date | None) -> bool:
    return _plan_verdict(request, table, today)[0]


def _plan_verdict(
    request: TaperRequest, table: EquivalenceTable, today: dt.date | None
) -> tuple[bool, bool]:
    """Whether the plan of ``request`` goes over the ceiling by the method's pace (a request
    that cannot be planned counts as one), and whether it warns that the method starts
    faster than the guideline's start pace (10% every 2 weeks)."""
    try:
        plan = _make_plan(request, table, today=today)
    except TaperError:
        return True, False
    return (
        any(s.exceeds_ceiling and s.phase in {"taper", "stop"} for s in plan.steps),
        any(notice.kind is Kind.START_PACE for notice in plan.warnings),
    )


def _checked_remedy(request: TaperRequest, table: EquivalenceTable, today: dt.date | None) -> str:
    """The options that keep the method's cuts within the ceiling for this plan, each
    checked by planning with it (the products' rounding can make a pace that looks slow
    enough cut too much in some 2 weeks, and can hide a rate over the ceiling: a rate is
    named only if its own cut in 2 weeks is within the ceiling too). A slower value at the
    same interval, else the same value at a longer interval, else both (a slower value at
    the first longer interval where one keeps the pace); none: the sentence says what was
    tried. A remedy that still starts faster than the guideline's start pace says so."""
    found: list[tuple[str, TaperRequest]] = []

    def largest(count: int, option: Callable[[int], TaperRequest]) -> int | None:
        """The largest n in 1..count whose request keeps the pace (bisection, checked)."""
        low, high = 0, count
        while low < high:
            middle = (low + high + 1) // 2
            if _breaches(option(middle), table, today):
                high = middle - 1
            else:
                low = middle
        return low or None

    slower = _slower_values(request, table)
    if slower is not None:
        top, option, text = slower
        best = largest(_ceiling_units(top - 1, option, request.interval_days, table), option)
        if best is not None:
            found.append((text(best), option(best)))
    longer = [days for days in _LONGER_INTERVALS if days > request.interval_days]
    for days in longer:
        spaced = request.varied(interval_days=days)
        if _pace_within_ceiling(spaced, table) and not _breaches(spaced, table, today):
            found.append((f"--every {_every_text(days)}", spaced))
            break
    if not found and slower is not None:
        top, option, text = slower
        for days in longer:

            def spaced_out(n: int, days: int = days) -> TaperRequest:
                return option(n).varied(interval_days=days)

            best = largest(_ceiling_units(top, option, days, table), spaced_out)
            if best is not None:
                found.append((f"--every {_every_text(days)} with {text(best)}", spaced_out(best)))
                break
    if not found:
        return f"{_what_was_tried(request, table, longer)}; try another --method or --product"
    fast = [text for text, made in found if _starts_fast(made, table, today)]
    caveat = ""
    if fast:
        with_which = "it" if len(found) == 1 else "each" if len(fast) == len(found) else fast[0]
        caveat = (
            ", though the warning that the method starts faster than 10% per 2 weeks "
            f"remains with {with_which}"
        )
    return " or ".join(text for text, _ in found) + f" avoids it (checked on this plan){caveat}"


#: The longer intervals a remedy tries (2, 3 and 4 weeks: the guideline's 2-4 weeks).
_LONGER_INTERVALS = (14, 21, 28)


def _every_text(days: int) -> str:
    """An interval as ``--every`` takes it: ``2w``, or ``10d``."""
    return f"{days // 7}w" if days % 7 == 0 else f"{days}d"


def _slower_values(
    request: TaperRequest, table: EquivalenceTable
) -> tuple[int, Callable[[int], TaperRequest], Callable[[int], str]] | None:
    """The method's own pace as a grid of values: the number of grid units of the pace asked
    for, the request at n units and the option naming it (a rate in steps of 0.5%, a step
    in the products' finest step); None for a method without one."""
    if request.method is Method.PERCENT:
        return (
            int(request.rate_percent * 2),
            lambda n: request.varied(rate_percent=Decimal(n) / 2),
            lambda n: f"--rate {format_number(Decimal(n) / 2)}%",
        )
    if request.method is Method.LINEAR and request.step_mg is not None:
        quantum = _finest_step(request, table)
        return (
            int(Fraction(request.step_mg) / quantum),
            lambda n: request.varied(step_mg=to_decimal(quantum * n)[0]),
            lambda n: f"--step {dose_argument(quantum * n)}",
        )
    return None


def _finest_step(request: TaperRequest, table: EquivalenceTable) -> Fraction:
    """The products' finest step for the drug a linear step tapers (the drug switched to,
    in a substitution)."""
    drug = table.drug(request.switch_to or request.drug)
    return request_formulary(table, drug, request).quantum


def _cuts_in_window(interval_days: int) -> int:
    """The most cuts of a pace that fall in some 2 weeks (a step every 10 days cuts twice
    between days 7 and 21), as the plan's check counts them."""
    return -(-WINDOW_DAYS // interval_days)


def _rate_within_ceiling(rate_percent: Decimal, interval_days: int) -> bool:
    """Whether a percent taper's own cut in 2 weeks, compounded over the cuts that fall in
    them, is within the guideline's ceiling (25% every 2 weeks)."""
    kept = (1 - Fraction(rate_percent) / 100) ** _cuts_in_window(interval_days)
    return 1 - kept <= CEILING_FRACTION


def _pace_within_ceiling(request: TaperRequest, table: EquivalenceTable) -> bool:
    """Whether the method's own pace is within the ceiling at the request's interval: a
    rate, compounded over the cuts in some 2 weeks; a step, over those cuts, from the dose
    of a direct taper (more than 25% and, with a diazepam equivalent, more than CKS's 2 mg,
    as :func:`taper.guideline.over_ceiling` judges). The products' rounding, or the clinical
    end's smaller steps, can keep a faster pace's cuts within it on one plan: a remedy is
    not a pace over the ceiling. A step in a substitution, or another method, is judged by
    the plan's own check alone."""
    if request.method is Method.PERCENT:
        return _rate_within_ceiling(request.rate_percent, request.interval_days)
    if (
        request.method is not Method.LINEAR
        or request.step_mg is None
        or request.switch_to is not None
        or request.also
        or not request.regimen
    ):
        return True
    drug = table.drug(request.drug)
    ratio = ratio_to_diazepam(table, drug, table.source(request.source or table.default_source))
    scale = Fraction(1) if ratio is None else ratio[0]
    total = Fraction(sum(request.regimen.values(), Decimal(0)))
    cut = min(total, Fraction(request.step_mg) * _cuts_in_window(request.interval_days))
    return not over_ceiling(scale * total, scale * (total - cut), ratio is not None)


def _ceiling_units(
    top: int,
    option: Callable[[int], TaperRequest],
    interval_days: int,
    table: EquivalenceTable,
) -> int:
    """The most grid units, up to ``top``, a remedy may have at this interval: those whose
    pace is within the ceiling (:func:`_pace_within_ceiling`)."""
    units = top
    while units and not _pace_within_ceiling(
        option(units).varied(interval_days=interval_days), table
    ):
        units -= 1
    return units


def _what_was_tried(request: TaperRequest, table: EquivalenceTable, longer: list[int]) -> str:
    """The sentence for no remedy found: exactly which paces were planned and failed."""
    intervals = [_every_text(d) for d in (request.interval_days, *longer)]
    at = intervals[0] if len(intervals) == 1 else ", ".join(intervals[:-1]) + f" or {intervals[-1]}"
    if request.method is Method.PERCENT:
        return (
            f"no rate within the ceiling from {format_number(request.rate_percent)}% down to "
            f"0.5% (in steps of 0.5%) every {at} avoids it with these products"
        )
    if request.method is Method.LINEAR and request.step_mg is not None:
        quantum = _finest_step(request, table)
        return (
            f"no step within the ceiling from {format_dose(request.step_mg)} down to "
            f"{format_dose(to_decimal(quantum)[0])} (the products' finest step) every {at} "
            "avoids it with these products"
        )
    if not longer:
        return (
            f"this method has no rate or step to slow, and every {intervals[0]} is already as "
            "slow as the longest interval tried (4w)"
        )
    return f"no longer interval ({', '.join(intervals[1:])}) avoids it with these products"


def _starts_fast(request: TaperRequest, table: EquivalenceTable, today: dt.date | None) -> bool:
    """Whether the plan of ``request`` warns that its method starts faster than the
    guideline's start pace (remembered with :func:`_breaches`: a remedy named was asked)."""
    return _verdict(request, table, today)[1]


def _make_plan(request: TaperRequest, table: EquivalenceTable, *, today: dt.date | None) -> Plan:
    """Build the plan a request describes (a direct taper, or a substitution)."""
    if request.switch_to is not None or request.also:
        return build_substitution(request, table, today=today)
    drug = table.drug(request.drug)
    source = table.source(request.source or table.default_source)
    if not request.regimen:
        raise InvalidRequestError("give the current dose")
    formulary = request_formulary(table, drug, request)
    check_regimen(drug, request.regimen, formulary, request)
    ratio = ratio_to_diazepam(table, drug, source)
    request = paced(request, drug.name, request.regimen)
    taper = taper_segments(request, table, drug, request.regimen, formulary, ratio, source, today)
    warnings = []
    if request.finish_on is not None:
        point = _crossover_point(request, taper.segments, taper.slots, ratio)
        if point is not None:
            lead_in = [*taper.segments[:point], _one_interval(taper.segments[point], request)]
            switch = replace(
                request,
                regimen=dict(zip(taper.slots, taper.segments[point].config, strict=True)),
                switch_to=request.finish_on,
                finish_on=None,
                # Products given without a drug are the current drug's, as in the lead-in.
                products=tuple(
                    text if product_drug(text) else f"{drug.name} {text.strip()}"
                    for text in request.products
                ),
            )
            return build_substitution(switch, table, today=today, lead_in=lead_in, recorded=request)
        warnings.append(
            Notice(
                Kind.FINISH_ON,
                f"the {drug.name} products keep the pace to the end, so the plan does not "
                f"cross over to {request.finish_on}",
            )
        )
    if ratio is None:
        warnings.append(
            Notice(
                Kind.NO_EQUIVALENT,
                f"source {source.id!r} gives no equivalent for {drug.name}: diazepam equivalents "
                "are not shown",
            )
        )
    return assemble_plan(
        request=taper.request,
        drugs=(drug,),
        layout=tuple((drug.name, slot) for slot in taper.slots),
        segments=taper.segments,
        formularies={drug.name: formulary},
        ratios={drug.name: ratio},
        source=source,
        resolved_pace=taper.resolved_pace,
        method_start_cut=taper.start_cut,
        warnings=warnings,
        today=today,
        table=table,
    )


def _crossover_point(
    request: TaperRequest,
    segments: Sequence[Segment],
    slots: tuple[str, ...],
    ratio: tuple[Fraction, Fraction] | None,
) -> int | None:
    """The segment at which a plan that finishes on another drug crosses over: the first at
    or below ``--finish-from``, or by default the first from which even the smallest cut
    the products allow is over the guideline's ceiling (None: there is no such segment)."""
    scale = Fraction(1) if ratio is None else ratio[0]

    def load(config: tuple[Decimal, ...]) -> Fraction:
        return scale * Fraction(sum(config, Decimal(0)))

    for index, segment in enumerate(segments):
        total = sum(segment.config, Decimal(0))
        if request.finish_from_mg is not None:
            if total <= request.finish_from_mg:
                return index
            continue
        possible = segment.next_possible
        if possible is not None and over_ceiling(
            load(segment.config), load(possible), ratio is not None
        ):
            return index
    if request.finish_from_mg is not None:
        raise InvalidRequestError(
            "the plan never reaches {finish_from}",
            parameters={"finish_from": dose_argument(request.finish_from_mg)},
        )
    return None


def _one_interval(segment: Segment, request: TaperRequest) -> Segment:
    """The lead-in's last segment: one interval at the dose before the crossover."""
    notes = tuple(note for note in segment.notes if not note.startswith("held"))
    return replace(
        segment, days=request.interval_days + segment.hold_days, stalled=False, notes=notes
    )
