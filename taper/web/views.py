"""What the pages show, computed by the library and laid out as plain values for templates.

Each function here calls the same library function as the command line (``plan_taper``,
``convert_dose``, ``check_plan``, ``plan_csv``...), so that the page and the command line
give the same results and the same files for the same options.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from taper.errors import InvalidRequestError, TaperError
from taper.formatting import format_cut, format_dose, format_dose_range, format_number
from taper.plan import Plan
from taper.table import EquivalenceTable
from taper.web.form import PlanForm, ReviseForm, source_choices

__all__ = [
    "check_view",
    "conversion_view",
    "curve_svg",
    "download",
    "make_plan",
    "plan_view",
    "revised_plan",
    "source_choices",
]

DRAFT_NOTICE = (
    "Draft for clinical review: equivalences are approximate and vary between people "
    "and between sources."
)


def make_plan(asked: PlanForm, table: EquivalenceTable) -> Plan:
    from taper.schedule import plan_taper

    return plan_taper([(asked.drug, asked.dose)], table=table, **asked.options)


def revised_plan(path: Path, asked: ReviseForm, table: EquivalenceTable) -> Plan:
    """The next revision of the plan file ``path`` (``taper revise FILE --on ...``): the file
    read back and checked against its checksum, then revised."""
    from taper.schedule import load_plan

    return load_plan(path, table=table).revise(**asked.options)


def download(
    plan: Plan, table: EquivalenceTable, kind: str, *, patient: str | None, paper: str | None
) -> bytes:
    """The file ``taper schedule`` writes for ``kind``: ``-o plan.csv``, ``-o plan.json``,
    ``--handout plan.pdf`` or ``--ics plan.ics`` (with ``--patient`` and ``--paper``)."""
    if kind == "csv":
        from taper.csvout import plan_csv

        return plan_csv(plan, table).encode("utf-8")
    if kind == "json":
        from taper.records import dumps_json, plan_document

        return dumps_json(plan_document(plan, table)).encode("utf-8")
    if kind == "pdf":
        from taper.handout import plan_handout

        return plan_handout(plan, patient=patient, paper=paper)
    if kind == "ics":
        from taper.ics import plan_calendar

        return plan_calendar(plan, patient=patient)
    raise InvalidRequestError(f"unknown download {kind!r}")


def _flags(plan: Plan, step: Any) -> list[str]:
    return [
        *(["held"] if any(note.startswith("held") for note in step.notes) else []),
        *([f"hold {step.hold_days} d"] if step.hold_days else []),
        *(["forced"] if step.forced else []),
        *(["over ceiling"] if step.exceeds_ceiling else []),
        *(["stop"] if step.phase == "stop" else []),
    ]


def plan_view(plan: Plan) -> dict[str, Any]:
    """The plan as the page shows it: what the terminal shows, as rows and lines."""
    request = plan.request
    summary = [plan.regimen_text()]
    if plan.conversion is not None:
        current = " + ".join(
            f"{item.drug.name} {format_dose(item.dose_mg)}" for item in plan.conversion.inputs
        )
        summary.append(
            f"Switch {current} a day to {plan.drug.name}: crossover {request.crossover.value}, "
            f"stages of {request.stage_days} days, then {request.stabilize_days} days of "
            "stabilization."
        )
    summary.append(
        f"{plan.drug.tall_man or plan.drug.name}: {request.method.value} taper, "
        f"{request.pace_text()}, every {request.interval_days} days; order "
        f"{request.order.value}; diazepam equivalents by {plan.source.id}."
    )
    summary += [
        f"Products for {drug.name}: {plan.formularies[drug.name].describe()}."
        for drug in plan.drugs
    ]
    if plan.resolved_pace:
        summary.append(f"Pace found for the target end: {plan.resolved_pace}.")
    if plan.risk is not None:
        band = (
            f"; dose band {plan.risk.dose_band} (by {plan.risk.band_basis})"
            if plan.risk.dose_band
            else ""
        )
        summary.append(f"Withdrawal risk: {plan.risk.summary}{band}.")
    checks = plan.checks
    headline = {
        "drug": plan.drug.name,
        "steps": len(plan.steps),
        "days": checks.duration_days,
        "start": plan.start_date.isoformat(),
        "last": plan.date_of(checks.duration_days).isoformat(),
        "today": plan.start_is_default,
    }
    steps = []
    for step in plan.steps:
        steps.append(
            {
                "number": step.number,
                "date": plan.date_of(step.start_day).isoformat(),
                "days": f"{step.days} days" if step.days > 1 else "1 day",
                "phase": step.phase if plan.is_substitution and step.phase != "stop" else "",
                "doses": [
                    plan.doses_text([d for d in step.doses if d.slot == slot]).splitlines()
                    for slot in plan.slots
                ],
                "total": plan.doses_text(step.doses).splitlines(),
                "diazepam": plan.diazepam_text(step.doses),
                "cut": format_cut(step.cut_percent),
                "flags": _flags(plan, step),
            }
        )
    preparations = {
        (dose.drug, dose.dose_mg): dose.preparation
        for step in plan.steps
        for dose in step.doses
        if dose.dose_mg > 0
    }
    from taper.reviews import plan_reviews

    return {
        "notice": DRAFT_NOTICE,
        "headline": headline,
        "summary": summary,
        "revisions": [
            {
                "line": f"Revision {revision.number} from {revision.on.isoformat()}: "
                f"{revision.description}; replaces the plan with sha256 "
                f"{revision.replaces_sha256[:12]}...",
                "notes": list(revision.notes),
            }
            for revision in plan.revisions
        ],
        "revision": plan.revision,
        "reviews": [
            (review.date.isoformat(), review.kind, review.reason) for review in plan_reviews(plan)
        ],
        "sha256": plan.content_sha256(),
        "slots": plan.slots,
        "steps": steps,
        "preparations": [
            (
                format_dose(dose_mg) + (f" {drug}" if plan.is_substitution else ""),
                preparations[drug, dose_mg].text(),
            )
            for drug, dose_mg in sorted(preparations, key=lambda key: (key[0], -key[1]))
        ],
        "cutting_notes": plan.cutting_notes(),
        "checks": (
            f"Duration {checks.duration_days} days, {checks.reductions} reductions, first day "
            f"without {plan.drug.name} {checks.end_date.isoformat()}. Largest cut in any 2 "
            f"weeks: {format_number(checks.largest_14_day_reduction_percent)}% (from day "
            f"{checks.largest_14_day_window_start}); first 2 weeks: "
            f"{format_number(checks.first_14_day_reduction_percent)}%."
        ),
        "warnings": [
            {
                "kind": str(notice.kind),
                "message": notice.message,
                "source": getattr(notice, "source", None),
            }
            for notice in plan.warnings
        ],
        "source": plan.source,
        "dispensing": [
            (
                (f"{entry.product.drug} " if plan.is_substitution else "") + entry.product.label(),
                entry.amount_text(),
            )
            for entry in plan.dispensing
        ],
        "supply": [
            (period.when_text(plan.start_date), period.items_text()) for period in plan.supply
        ],
    }


#: The presentation properties matplotlib writes in ``style`` attributes; on the page they
#: become attributes (a strict Content-Security-Policy refuses inline styles).
_STYLE = re.compile(r'\sstyle="([^"]*)"')
_SVG_START = re.compile(r"<svg\b[^>]*>", re.S)


def _attributes(match: re.Match[str]) -> str:
    parts = []
    for declaration in match.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if re.fullmatch(r"[a-z-]+", name) and value and '"' not in value:
            parts.append(f' {name}="{value}"')
    return "".join(parts)


def curve_svg(plan: Plan, table: EquivalenceTable) -> dict[str, str] | None:
    """The curve as SVG markup to put in the page (the same drawing as ``--plot-file x.svg``,
    its inline styles written as attributes), or None without the plot extra; a plan the
    curve cannot be drawn for gives the reason instead."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    from taper.curve import image_plot

    try:
        svg = image_plot(plan, table, ".svg").decode("utf-8")
    except TaperError as exc:
        return {"svg": "", "reason": str(exc)}
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = _STYLE.sub(_attributes, svg)
    opening = _SVG_START.match(svg)
    assert opening is not None
    root = re.sub(r'\s(width|height)="[^"]*"', "", opening.group(0))
    root = root.replace(
        "<svg",
        '<svg role="img" aria-labelledby="curve-title" class="curve" '
        'stroke-linejoin="round" stroke-linecap="butt"',
        1,
    )
    title = (
        f'<title id="curve-title">{plan.drug.name}: the daily diazepam equivalent over the '
        "plan (the step table gives every value)</title>"
    )
    return {"svg": root + title + svg[opening.end() :], "reason": ""}


def conversion_view(values: Mapping[str, str], table: EquivalenceTable) -> dict[str, Any]:
    """A dose under every source (``taper convert DRUG DOSE --to DRUG --all-sources``)."""
    from taper.convert import convert_dose

    drug, dose, target = (values.get(k, "").strip() for k in ("drug", "dose", "to"))
    if not drug or not target:
        raise InvalidRequestError("choose the current drug and the drug to convert to")
    conversion = convert_dose(
        [(drug, dose)],
        target,
        source=values.get("source") or None,
        table=table,
        allow_high_dose=bool(values.get("allow_high_dose")),
    )
    conversion.require_writable()
    spread = conversion.spread
    return {
        "title": " + ".join(
            f"{item.drug.name} {format_dose(item.dose_mg)}" for item in conversion.inputs
        )
        + f" → {conversion.target.name}",
        "target": conversion.target.name,
        "rows": [
            (result.source.id, result.source.grade, result.text(), result is conversion.chosen)
            for result in conversion.results
        ],
        "spread": None
        if spread is None
        else {
            "text": spread.summary(),
            "count": spread.source_count,
        },
        "warnings": [(str(w.kind), w.message) for w in conversion.warnings],
    }


def check_view(
    path: Path, name: str, values: Mapping[str, str], table: EquivalenceTable
) -> dict[str, Any]:
    """The check of an uploaded plan (``taper check FILE``), the file named as uploaded."""
    from taper.check import check_plan, day_name, describe_doses
    from taper.params import parse_days

    region = values.get("region") or None  # None: the plan's own, else us (as the CLI)
    supply = values.get("supply", "").strip()
    result = check_plan(
        path,
        table,
        drug=values.get("drug") or None,
        region=region,
        source=values.get("source") or None,
        date_format=values.get("date_format") or None,
        supply_days=parse_days(supply, "supply period") if supply else None,
    )
    sources = list(result.steps[0].diazepam_by_source)
    rows = []
    for step in result.steps:
        cut = step.cut_percent
        rows.append(
            {
                "when": day_name(step.start_day, result.first_date)
                if result.first_date is not None
                else f"{step.start_day}"
                + (f"-{step.end_day}" if step.end_day > step.start_day else ""),
                "doses": describe_doses(step, with_drug=len(result.drugs) > 1),
                "how": list(step.how),
                "cut": ""
                if cut is None
                else f"+{format_number(-cut)}%"
                if cut < Decimal(0)
                else f"{format_number(cut)}%",
                "equivalents": [
                    format_dose_range(*step.diazepam_by_source[source]) for source in sources
                ],
            }
        )
    return {
        "name": name,
        "sha256": result.sha256,
        "drugs": ", ".join(result.drugs),
        "source": result.source.id,
        "dated": result.first_date is not None,
        "sources": sources,
        "rows": rows,
        "problems": [(problem.kind, problem.message) for problem in result.problems],
        "clean": result.clean,
        "unchecked": ", ".join(repr(column) for column in result.unchecked),
        "notes": list(result.notes),
        "supply": [
            (period.when_text(result.first_date), period.items_text()) for period in result.supply
        ],
        "dispensing": [
            (f"{entry.product.drug} {entry.product.label()}", entry.amount_text())
            for entry in result.dispensing
        ],
    }
