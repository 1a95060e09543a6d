"""The engine's entry: build the plan a request describes.

A direct taper (:mod:`taper.direct`) or, with a drug to switch to, a substitution
(:mod:`taper.substitution`), assembled into a plan (:mod:`taper.assemble`).
"""

from __future__ import annotations

import datetime as dt

from taper.assemble import assemble_plan
from taper.direct import taper_segments
from taper.errors import InvalidRequestError
from taper.notices import Kind, Notice
from taper.options import TaperRequest
from taper.plan import Plan
from taper.regimen import check_regimen, request_formulary
from taper.substitution import build_substitution
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
    segments, slots, request, resolved_pace = taper_segments(
        request, table, drug, request.regimen, formulary, ratio, source, today
    )
    warnings = []
    if ratio is None:
        warnings.append(
            Notice(
                Kind.NO_EQUIVALENT,
                f"source {source.id!r} gives no equivalent for {drug.name}: diazepam equivalents "
                "are not shown",
            )
        )
    return assemble_plan(
        request=request,
        drugs=(drug,),
        layout=tuple((drug.name, slot) for slot in slots),
        segments=segments,
        formularies={drug.name: formulary},
        ratios={drug.name: ratio},
        source=source,
        resolved_pace=resolved_pace,
        warnings=warnings,
        today=today,
        table=table,
    )
