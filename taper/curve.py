"""The taper curve: the plan's daily diazepam equivalent over time, drawn for people.

:func:`curve_data` gathers the series from a plan (exact numbers); :func:`terminal_plot`
draws it with plotext and :func:`image_plot` writes a PNG or SVG with matplotlib. Both
libraries are optional extras (``pip install 'taper[plot]'``), imported only here and only
when a plot is asked for. Plot coordinates are the one place numbers become floats: they
position lines on a picture, and no dose is read back from them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from taper.errors import InvalidRequestError, require_extra
from taper.plan import Plan
from taper.table import EquivalenceTable, ratio_to_diazepam

PHASE_HATCH = {
    "crossover": "///",
    "stabilization": "...",
    "hold": "xx",
    "held: products": "\\\\",
}
LINE_STYLES = ("-", "--", ":", "-.")


@dataclass(frozen=True)
class CurveData:
    """Day-by-day series of a plan, in exact numbers."""

    days: tuple[int, ...]
    #: Diazepam equivalent per day under the plan's source (low end of a range).
    diazepam: tuple[Fraction, ...]
    #: The same doses under another source that disagrees, with its id (or None).
    other_source: str | None
    other: tuple[Fraction, ...]
    #: Each drug's own daily mg.
    drugs: dict[str, tuple[Fraction, ...]]
    #: (phase, first day, last day) for crossover, stabilisation and hold stretches.
    phases: tuple[tuple[str, int, int], ...]
    #: Days on which the dose changes.
    step_days: tuple[int, ...]
    #: Days on which a cut larger than the method asked begins, because the products make no
    #: smaller one (the steps the table marks "forced").
    forced_days: tuple[int, ...] = ()


def curve_data(plan: Plan, table: EquivalenceTable) -> CurveData:
    """The series to draw: see :class:`CurveData`."""

    days = tuple(day for step in plan.steps for day in range(step.start_day, step.end_day + 1))
    first = plan.diazepam_exact(plan.steps[0].doses)
    if first is None:
        raise InvalidRequestError(
            f"source {plan.source.id!r} gives no equivalent for {plan.drug.name}: there is no "
            "diazepam-equivalent curve to draw; choose another {source}",
            parameters={"source": None},
        )
    other_id, other_ratios = None, None
    spread = Fraction(1)
    for source in table.sources.values():
        if source.id == plan.source.id:
            continue
        found = {drug.name: ratio_to_diazepam(table, drug, source) for drug in plan.drugs}
        ratios = {name: r[0] for name, r in found.items() if r is not None and r[0] == r[1]}
        if len(ratios) < len(found):
            continue
        total = sum(
            (ratios[d.drug] * Fraction(d.dose_mg) for d in plan.steps[0].doses), Fraction(0)
        )
        distance = max(total / first[0], first[0] / total) if total else Fraction(1)
        if distance > spread:
            spread, other_id, other_ratios = distance, source.id, ratios

    diazepam, other = [], []
    drugs: dict[str, list[Fraction]] = {drug.name: [] for drug in plan.drugs}
    for step in plan.steps:
        value = plan.diazepam_exact(step.doses)
        assert value is not None
        totals = step.totals_by_drug()
        alternative = Fraction(0)
        if other_ratios is not None:
            for dose in step.doses:
                alternative += other_ratios[dose.drug] * Fraction(dose.dose_mg)
        for _ in range(step.days):
            diazepam.append(value[0])
            other.append(alternative)
            for name, series in drugs.items():
                series.append(Fraction(totals.get(name, 0)))

    phases: list[tuple[str, int, int]] = []
    for step in plan.steps:
        if step.phase in PHASE_HATCH:
            phases.append((step.phase, step.start_day, step.end_day))
        held_to = step.end_day - step.hold_days
        interval = plan.request.interval_days
        if step.phase == "taper" and held_to - step.start_day + 1 > interval:
            # The products could not make the next cut in time: a hold nobody asked for.
            phases.append(("held: products", step.start_day + interval, held_to))
        if step.hold_days:
            phases.append(("hold", held_to + 1, step.end_day))
    return CurveData(
        days=days,
        diazepam=tuple(diazepam),
        other_source=other_id,
        other=tuple(other) if other_id else (),
        drugs={name: tuple(series) for name, series in drugs.items()},
        phases=tuple(phases),
        step_days=tuple(step.start_day for step in plan.steps[1:]),
        forced_days=tuple(step.start_day for step in plan.steps[1:] if step.forced),
    )


#: The smallest plot drawn on a terminal, whatever its width says.
MIN_PLOT_WIDTH, MIN_PLOT_HEIGHT = 40, 10


def terminal_plot(plan: Plan, table: EquivalenceTable, *, width: int = 80, height: int = 20) -> str:
    """The curve as text for a terminal (plotext), ``width`` columns wide (at least
    :data:`MIN_PLOT_WIDTH`: ``COLUMNS=0`` is no width to draw in)."""
    require_extra("plotext", "a terminal plot", "plot", parameter="plot")
    import plotext

    width, height = max(MIN_PLOT_WIDTH, width), max(MIN_PLOT_HEIGHT, height)
    data = curve_data(plan, table)
    plotext.clear_figure()
    plotext.plotsize(width, height)
    plotext.theme("clear")
    days = list(data.days)
    # No labels: plotext puts its legend over the top left of the plot, where a taper's
    # line starts; the key is written under the plot instead.
    plotext.plot(days, [float(v) for v in data.diazepam], marker="braille")
    key = [f"\u28ff the plan under {plan.source.id} (its equivalents)"]
    if data.other_source:
        plotext.plot(days, [float(v) for v in data.other], marker="dot")
        key.append(f"\u2022 same doses under {data.other_source} (its equivalents)")
    plotext.title(f"{plan.drug.name} plan: diazepam equivalent per day (mg)")
    ticks = days[:: max(1, len(days) // max(2, width // 16))]
    plotext.xticks(ticks, [plan.date_of(day).isoformat() for day in ticks])
    plotext.xlabel("date")
    plotext.clear_color()
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(plotext.build()))  # plain text, no colour codes
    plotext.clear_figure()
    merged: list[tuple[str, int, int]] = []
    for phase, first, last in data.phases:
        if merged and merged[-1][0] == phase and merged[-1][2] + 1 == first:
            merged[-1] = (phase, merged[-1][1], last)
        else:
            merged.append((phase, first, last))
    phases = "; ".join(
        f"{phase} {plan.date_of(first).isoformat()} to {plan.date_of(last).isoformat()}"
        for phase, first, last in merged
    )
    lines = [text, textwrap.fill("; ".join(key), width)]
    if data.forced_days:
        days_forced = ", ".join(plan.date_of(day).isoformat() for day in data.forced_days)
        lines.append(textwrap.fill(f"larger cuts forced by the products: {days_forced}", width))
    if phases:
        lines.append(textwrap.fill(phases, width))
    return "\n".join(lines)


def image_plot(plan: Plan, table: EquivalenceTable, suffix: str) -> bytes:
    """The curve as a PNG or SVG image (matplotlib), readable in black and white.

    The diazepam equivalent on top; below it, each drug in its own panel with its own scale
    (alprazolam's 0-3 mg is not flattened by diazepam's 0-60 mg). Dates along the bottom;
    crossover, stabilisation, asked-for holds and holds the products forced are hatched; a
    hollow triangle marks each cut the products forced larger than the method asked. The
    legend sits above the curve, outside it, so it covers no line, marker or hatched stretch.
    The same plan gives the same bytes (``svg.hashsalt`` and no date in the metadata).
    """
    if suffix not in {".png", ".svg"}:
        raise InvalidRequestError(f"a plot file ends in .png or .svg, not {suffix!r}")
    require_extra("matplotlib", "a plot file", "plot", parameter="plot_file")
    last = plan.checks.end_date
    if plan.start_date < dt.date(1, 2, 1) or last > dt.date(9999, 11, 30):
        raise InvalidRequestError(
            "the curve's date axis runs from February of year 1 to November of year 9999; "
            f"this plan runs from {plan.start_date.isoformat()} to {last.isoformat()}"
        )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = curve_data(plan, table)
    dates = [plan.date_of(day) for day in data.days]

    def when(day: float) -> dt.datetime:
        """The moment day ``day`` of the plan begins (fractions of a day allowed)."""
        start = dt.datetime.combine(plan.start_date, dt.time())
        return start + dt.timedelta(days=day - 1)

    panels = 1 + len(data.drugs)
    with matplotlib.rc_context({"svg.hashsalt": "taper", "svg.fonttype": "path"}):
        figure, axes = plt.subplots(
            panels,
            1,
            figsize=(10, 4 + 2 * len(data.drugs)),
            sharex=True,
            gridspec_kw={"height_ratios": [3] + [2] * len(data.drugs)},
        )
        try:
            return _draw(plan, data, dates, when, figure, list(axes), suffix)
        finally:
            plt.close(figure)


def _draw(
    plan: Plan,
    data: CurveData,
    dates: list[dt.date],
    when: Callable[[float], dt.datetime],
    figure: Any,
    axes: list[Any],
    suffix: str,
) -> bytes:
    import matplotlib.dates as mdates

    top, panels = axes[0], axes[1:]
    top.plot(
        dates,
        [float(v) for v in data.diazepam],
        "k-",
        lw=2.5,
        label=f"the plan under {plan.source.id} (its equivalents)",
    )
    if data.other_source:
        # Drawn over the plan's line in grey dashes, so it stays visible where they meet.
        top.plot(
            dates,
            [float(v) for v in data.other],
            linestyle="--",
            color="0.55",
            lw=1.6,
            zorder=3,
            label=f"same doses under {data.other_source} (its equivalents)",
        )
    step_values = [float(data.diazepam[day - 1]) for day in data.step_days]
    step_dates = [plan.date_of(day) for day in data.step_days]
    top.plot(step_dates, step_values, "k|", ms=9, label="dose changes")
    if data.forced_days:
        # Halfway down each forced cut, hollow so the line shows through it.
        top.plot(
            [plan.date_of(day) for day in data.forced_days],
            [
                float(data.diazepam[day - 2] + data.diazepam[day - 1]) / 2
                for day in data.forced_days
            ],
            linestyle="none",
            marker="v",
            ms=9,
            mew=1.5,
            markerfacecolor="white",
            markeredgecolor="black",
            zorder=4,
            label="larger cut forced by the products",
        )
    top.set_ylabel("diazepam equivalent\n(mg a day)")
    # A switch is named by its drugs in order ("clonazepam to diazepam"), a taper by its drug.
    what = " to ".join(drug.name for drug in plan.drugs) if plan.is_substitution else plan.drug.name
    figure.suptitle(f"{what}: draft taper for clinical review")
    for index, (axis, (name, series)) in enumerate(zip(panels, data.drugs.items(), strict=True)):
        # No legend: the panel's axis label names its drug.
        axis.plot(
            dates,
            [float(v) for v in series],
            color="black",
            linestyle=LINE_STYLES[index % len(LINE_STYLES)],
        )
        axis.set_ylabel(f"{name}\n(mg a day)")
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    axes[-1].xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    axes[-1].xaxis.set_major_formatter(formatter)
    axes[-1].set_xlabel(f"date (day 1 = {plan.start_date.isoformat()})")
    for axis in axes:
        shown: set[str] = set()
        for phase, first, last in data.phases:
            axis.axvspan(
                when(first - 0.5),
                when(last + 0.5),
                facecolor="0.9",
                edgecolor="0.5",
                hatch=PHASE_HATCH[phase],
                lw=0,
                label=None if phase in shown or axis is not top else phase,
            )
            shown.add(phase)
        axis.set_ylim(bottom=0)
        axis.grid(True, color="0.85", lw=0.5)
    # Above the curve, outside it, so that it covers no line, marker or hatched stretch.
    top.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.02, 1, 0),
        mode="expand",
        ncol=2,
        fontsize=8,
        borderaxespad=0,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
    figure.savefig(buffer, format=suffix[1:], dpi=100, metadata=metadata)
    return buffer.getvalue()
