"""How a plan shows itself in Python: a short ``repr`` and, in a notebook, an HTML view.

``repr(plan)`` is one line that says what the plan is (the dataclass's own ``repr`` wrote
every field of every step: 23,883 characters for a plain clonazepam taper). In Jupyter and
other notebooks, ``_repr_html_`` shows the regimen, the warnings, the step table and, when
the ``plot`` extra (matplotlib) is installed, the curve as inline SVG.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from taper.formatting import format_dose, format_number

if TYPE_CHECKING:
    from taper.plan import Plan


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def plan_repr(plan: Plan) -> str:
    """``<TaperPlan clonazepam 1 mg a day to 0: 10% of the current dose (exponential) every
    14 days, 2027-01-04 to 2027-09-13 (252 days, 9 steps), source ashton, 1 warning>``."""
    drugs = ", ".join(
        f"{drug} {format_dose(total)} a day"
        for drug, total in plan.steps[0].totals_by_drug().items()
    )
    if plan.is_substitution:
        drugs += f", onto {plan.drug.name}"
    request = plan.request
    pace = plan.resolved_pace or f"{request.pace_text()} every {request.interval_days} days"
    return (
        f"<{type(plan).__name__} {drugs} to 0: {pace}, {plan.start_date.isoformat()} to "
        f"{plan.checks.end_date.isoformat()} ({plan.checks.duration_days} days, "
        f"{_plural(len(plan.steps), 'step')}), source {plan.source.id}, "
        f"{_plural(len(plan.warnings), 'warning')}>"
    )


def _cell(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def steps_html(plan: Plan) -> str:
    """The steps as an HTML table: start, days, phase, the day's doses, its diazepam
    equivalent and the cut."""
    head = ("Step", "Starts", "Days", "Phase", "Daily dose", "Diazepam equivalent", "Cut")
    rows = []
    for step in plan.steps:
        phase = step.phase + (f" (hold {step.hold_days} days)" if step.hold_days else "")
        cut = "" if step.cut_percent is None else f"{format_number(step.cut_percent)}%"
        if step.forced:
            cut += " (forced by the products)"
        cells = (
            str(step.number),
            plan.date_of(step.start_day).isoformat(),
            str(step.days),
            phase,
            plan.doses_text(step.doses),
            plan.diazepam_text(step.doses),
            cut,
        )
        rows.append("<tr>" + "".join(f"<td>{_cell(cell)}</td>" for cell in cells) + "</tr>")
    header = "".join(f"<th>{_cell(cell)}</th>" for cell in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def curve_svg(plan: Plan) -> str | None:
    """The curve as inline SVG, or None without matplotlib (the ``plot`` extra) or for a
    plan whose dates the curve cannot draw. The notebook's own matplotlib backend is left
    as it was."""
    import importlib.util

    from taper.errors import TaperError

    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    from taper.curve import image_plot

    backend = matplotlib.get_backend()
    try:
        svg = image_plot(plan, plan.table, ".svg").decode("utf-8")
    except TaperError:
        return None
    finally:
        if matplotlib.get_backend() != backend:
            matplotlib.use(backend)
    return svg[svg.index("<svg") :]


def plan_html(plan: Plan) -> str:
    """The plan for a notebook: what it is, the regimen, warnings, the steps and the curve."""
    parts = [
        f"<p><strong>{_cell(plan_repr(plan).strip('<>'))}</strong></p>",
        f"<p>{_cell(plan.regimen_text())}</p>",
    ]
    if plan.warnings:
        items = "".join(f"<li>{_cell(notice.message)}</li>" for notice in plan.warnings)
        parts.append(f"<p>Warnings:</p><ul>{items}</ul>")
    parts.append(steps_html(plan))
    svg = curve_svg(plan)
    if svg is not None:
        parts.append(f"<div>{svg}</div>")
    parts.append("<p><em>A draft for clinical review before it reaches a patient.</em></p>")
    return "<div>" + "".join(parts) + "</div>"
