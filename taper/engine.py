"""The engine's entry: build the plan a request describes.

A direct taper (:mod:`taper.direct`) or, with a drug to switch to, a substitution
(:mod:`taper.substitution`), assembled into a plan (:mod:`taper.assemble`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from taper.assemble import Segment, assemble_plan
from taper.direct import taper_segments
from taper.errors import InvalidRequestError
from taper.formatting import format_dose
from taper.guideline import over_ceiling
from taper.notices import Kind, Notice
from taper.options import TaperRequest
from taper.plan import Plan
from taper.products import product_drug
from taper.regimen import check_regimen, request_formulary
from taper.substitution import build_substitution, paced
from taper.table import EquivalenceTable, ratio_to_diazepam


def make_plan(request: TaperRequest, table: EquivalenceTable, *, today: dt.date | None) -> Plan:
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
            parameters={"finish_from": format_dose(request.finish_from_mg)},
        )
    return None


def _one_interval(segment: Segment, request: TaperRequest) -> Segment:
    """The lead-in's last segment: one interval at the dose before the crossover."""
    notes = tuple(note for note in segment.notes if not note.startswith("held"))
    return replace(
        segment, days=request.interval_days + segment.hold_days, stalled=False, notes=notes
    )
