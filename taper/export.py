"""Plain records of results (dicts of str, int, Decimal, lists) and their JSON text.

The CLI and library users get the same records. Numbers stay exact: ``Decimal`` values are
written into JSON as numbers by simplejson, never through a float.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from taper.convert import Conversion, SourceResult
from taper.formatting import format_dose, to_decimal
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ValueRange

if TYPE_CHECKING:
    from collections.abc import Iterable

    from taper.check import PlanCheck
    from taper.plan import DispensedProduct, DoseTime, Plan, Step, TaperRequest

#: Version of every JSON document `taper` writes; bumped on any incompatible change.
SCHEMA_VERSION = 1

Record = dict[str, Any]


def number(value: Decimal | Fraction | int) -> int | Decimal:
    """A JSON-ready exact number at display precision: ``30`` not ``30.000``."""
    decimal, _ = to_decimal(value)
    return int(decimal) if decimal == decimal.to_integral_value() else decimal.normalize()


def provenance(table: EquivalenceTable) -> Record:
    from taper import __version__

    return {
        "tool": {"name": "taper", "version": __version__},
        "table": {"path": table.path, "sha256": table.sha256},
    }


def _range(value: ValueRange) -> int | Decimal | list[int | Decimal]:
    return number(value.low) if value.is_point else [number(value.low), number(value.high)]


def source_record(table: EquivalenceTable, source: EquivalenceSource) -> Record:
    return {
        "id": source.id,
        "title": source.title,
        "author": source.author,
        "year": source.year,
        "url": source.url,
        "reference_drug": table.reference_drug,
        "reference_dose_mg": number(source.reference_dose_mg),
        "rescaled": source.reference_dose_mg != table.reference_dose_mg,
        "rescale_factor": number(table.rescale_factor(source)),
        "grade": source.grade,
        "note": source.note,
    }


def drug_record(table: EquivalenceTable, drug: Drug) -> Record:
    equivalents = {}
    for source in table.sources.values():
        value = table.equivalent(drug, source)
        if value is not None:
            equivalents[source.id] = _range(value)
    return {
        "name": drug.name,
        "aliases": list(drug.aliases),
        "class": drug.drug_class,
        "tall_man": drug.tall_man,
        "half_life_hours": {k: _range(v) for k, v in drug.half_life_hours.items()},
        "metabolite_half_life_hours": {
            k: _range(v) for k, v in drug.metabolite_half_life_hours.items()
        },
        "max_daily": None
        if drug.max_daily is None
        else {
            "mg": number(drug.max_daily.mg),
            "note": drug.max_daily.note,
            "source": drug.max_daily.source,
        },
        "equivalents_per_reference": equivalents,
        "published_equivalents": {k: _range(v) for k, v in drug.equivalents.items()},
        "notes": list(drug.notes),
    }


def drugs_document(table: EquivalenceTable, drugs: list[Drug]) -> Record:
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "reference": {"drug": table.reference_drug, "dose_mg": number(table.reference_dose_mg)},
        "drugs": [drug_record(table, drug) for drug in drugs],
    }


def sources_document(table: EquivalenceTable) -> Record:
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "default_source": table.default_source,
        "sources": [source_record(table, source) for source in table.sources.values()],
    }


def _result_record(result: SourceResult) -> Record:
    record: Record = {"source": result.source.id, "grade": result.source.grade}
    if result.low_mg is None or result.high_mg is None:
        return record | {
            "dose_mg": None,
            "dose_mg_low": None,
            "dose_mg_high": None,
            "is_range": False,
            "exact": True,
            "text": result.text(),
            "missing": list(result.missing),
        }
    return record | {
        "dose_mg": None if result.is_range else number(result.low_mg),
        "dose_mg_low": number(result.low_mg),
        "dose_mg_high": number(result.high_mg),
        "is_range": result.is_range,
        "exact": result.is_exact,
        "text": result.text(),
        "missing": [],
    }


def conversion_document(
    conversion: Conversion, table: EquivalenceTable, *, all_sources: bool, allow_high_dose: bool
) -> Record:
    results = conversion.results if all_sources else (conversion.chosen,)
    spread = conversion.spread
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "input": {
            "doses": [
                {
                    "drug": item.drug.name,
                    "dose_mg": number(item.dose_mg),
                    "text": format_dose(item.dose_mg),
                }
                for item in conversion.inputs
            ],
            "to": conversion.target.name,
            "source": conversion.chosen.source.id,
            "all_sources": all_sources,
            "allow_high_dose": allow_high_dose,
        },
        "results": [_result_record(result) for result in results],
        "spread": None
        if spread is None
        else {
            "low_mg": number(spread.low_mg),
            "high_mg": number(spread.high_mg),
            "fold": number(spread.fold),
            "sources": spread.source_count,
            "wide": spread.is_wide,
        },
        "disagreement": conversion.disagreement,
        "warnings": list(conversion.warnings),
    }


def request_record(request: TaperRequest) -> Record:
    """Every parameter of a plan, normalised, so that the plan can be rebuilt exactly."""
    return {
        "drug": request.drug,
        "regimen_mg": {slot: number(dose) for slot, dose in request.regimen.items()},
        "method": request.method.value,
        "rate_percent": number(request.rate_percent),
        "interval_days": request.interval_days,
        "step_mg": None if request.step_mg is None else number(request.step_mg),
        "steps_mg": [number(dose) for dose in request.steps_mg],
        "slow_below_mg": None if request.slow_below_mg is None else number(request.slow_below_mg),
        "slow_rate_percent": None
        if request.slow_rate_percent is None
        else number(request.slow_rate_percent),
        "final_mg": None if request.final_mg is None else number(request.final_mg),
        "holds": [hold.text() for hold in request.holds],
        "order": request.order.value,
        "start": None if request.start is None else request.start.isoformat(),
        "until": None if request.until is None else request.until.isoformat(),
        "duration_days": request.duration_days,
        "region": request.region,
        "products": list(request.products),
        "source": request.source,
        "ed50_mg": None if request.ed50_mg is None else number(request.ed50_mg),
        "emax_percent": number(request.emax_percent),
        "occupancy_step": number(request.occupancy_step),
        "supply_days": request.supply_days,
        "allow_high_dose": request.allow_high_dose,
        "also": [
            {"drug": name, "regimen_mg": {slot: number(dose) for slot, dose in regimen.items()}}
            for name, regimen in request.also
        ],
        "switch_to": request.switch_to,
        "crossover": request.crossover.value,
        "stage_days": request.stage_days,
        "stabilize_days": request.stabilize_days,
        "part_mg": None if request.part_mg is None else number(request.part_mg),
        "used_for_days": request.factors.used_for_days,
        "days_per_week": request.factors.days_per_week,
        "age": request.factors.age,
        "seizures": request.factors.seizures,
        "with_opioids": request.factors.with_opioids,
        "with_alcohol": request.factors.with_alcohol,
        "liver_impairment": request.factors.liver_impairment,
        "cautious": request.cautious,
    }


def _diazepam(
    plan: Plan, doses: Iterable[DoseTime]
) -> tuple[int | Decimal | None, int | Decimal | None]:
    value = plan.diazepam_of(doses)
    return (None, None) if value is None else (number(value[0]), number(value[1]))


def _step_record(plan: Plan, step: Step) -> Record:
    low, high = _diazepam(plan, step.doses)
    return {
        "step": step.number,
        "phase": step.phase,
        "start_day": step.start_day,
        "end_day": step.end_day,
        "start_date": plan.date_of(step.start_day).isoformat(),
        "end_date": plan.date_of(step.end_day).isoformat(),
        "days": step.days,
        "hold_days": step.hold_days,
        "doses": [
            {
                "drug": dose.drug,
                "slot": dose.slot,
                "dose_mg": number(dose.dose_mg),
                "take": dose.preparation.text(),
            }
            for dose in step.doses
        ],
        "total_mg_by_drug": {drug: number(total) for drug, total in step.totals_by_drug().items()},
        "diazepam_eq_mg_low": low,
        "diazepam_eq_mg_high": high,
        "cut_percent": None if step.cut_percent is None else number(step.cut_percent),
        "forced_by_products": step.forced,
        "exceeds_guideline_ceiling": step.exceeds_ceiling,
        "notes": list(step.notes),
    }


def _dispensed(items: tuple[DispensedProduct, ...]) -> list[Record]:
    return [
        {
            "drug": item.product.drug,
            "product": item.product.label(),
            "quantity": number(item.quantity),
            "unit": item.unit,
        }
        for item in items
    ]


def plan_summary(plan: Plan) -> Record:
    """One flat record per plan (the batch summary row), with its provenance."""
    checks = plan.checks
    return {
        "drug": plan.drug.name,
        "switched_from": ", ".join(d.name for d in plan.drugs[:-1]),
        "source": plan.source.id,
        "start_date": plan.start_date.isoformat(),
        "start_date_is_today": plan.start_is_default,
        "end_date": checks.end_date.isoformat(),
        "duration_days": checks.duration_days,
        "steps": len(plan.steps),
        "reductions": checks.reductions,
        "largest_14_day_reduction_percent": number(checks.largest_14_day_reduction_percent),
        "first_14_day_reduction_percent": number(checks.first_14_day_reduction_percent),
        "exceeds_guideline_ceiling": checks.largest_14_day_reduction_percent > 25,
        "starts_faster_than_guideline": checks.first_14_day_reduction_percent > 10,
        "forced_by_products": any(step.forced for step in plan.steps),
        "stop_from_mg": number(checks.stop_from_mg),
        "dispensing": "; ".join(
            f"{item.product.drug} {item.product.label()}: "
            + (format_dose(item.quantity, "mL") if item.unit == "mL" else f"{item.quantity}")
            for item in plan.dispensing
        ),
        "warnings": len(plan.warnings),
    }


def plan_document(plan: Plan, table: EquivalenceTable) -> Record:
    checks = plan.checks
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "meta": {
            "parameters": request_record(plan.request),
            "drug": plan.drug.name,
            "source": plan.source.id,
            "start_date": plan.start_date.isoformat(),
            "start_date_is_today": plan.start_is_default,
            "drugs": [drug.name for drug in plan.drugs],
            "products": {
                drug.name: [product.label() for product in plan.formularies[drug.name].products]
                for drug in plan.drugs
            },
            "resolved_pace": plan.resolved_pace,
            "risk": None
            if plan.risk is None
            else {
                "level": plan.risk.level,
                "summary": plan.risk.summary,
                "dose_band": plan.risk.dose_band,
            },
            "switch": None
            if plan.conversion is None
            else conversion_document(
                plan.conversion, table, all_sources=True, allow_high_dose=True
            )["results"],
        },
        "steps": [_step_record(plan, step) for step in plan.steps],
        "days": [
            {
                "day": day.day,
                "date": day.date.isoformat(),
                "step": day.step,
                "phase": day.phase,
                "doses": [
                    {"drug": dose.drug, "slot": dose.slot, "dose_mg": number(dose.dose_mg)}
                    for dose in day.doses
                ],
            }
            for day in plan.days()
        ],
        "checks": {
            "duration_days": checks.duration_days,
            "reductions": checks.reductions,
            "end_date": checks.end_date.isoformat(),
            "largest_14_day_reduction_percent": number(checks.largest_14_day_reduction_percent),
            "largest_14_day_window_start_day": checks.largest_14_day_window_start,
            "first_14_day_reduction_percent": number(checks.first_14_day_reduction_percent),
            "stop_from_mg": number(checks.stop_from_mg),
            "smallest_dose_mg": number(checks.smallest_dose_mg),
        },
        "warnings": list(plan.warnings),
        "dispensing": {
            "total": _dispensed(plan.dispensing),
            "periods": [
                {"start_day": p.start_day, "end_day": p.end_day, "items": _dispensed(p.items)}
                for p in plan.supply
            ],
        },
    }


def check_document(result: PlanCheck, table: EquivalenceTable) -> Record:
    """``taper check`` as JSON: the steps found, the problems and the total to dispense."""
    from taper.check import describe_doses

    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "input": {"path": result.path, "sha256": result.sha256, "source": result.source.id},
        "clean": result.clean,
        "drugs": list(result.drugs),
        "first_date": None if result.first_date is None else result.first_date.isoformat(),
        "steps": [
            {
                "start_day": step.start_day,
                "end_day": step.end_day,
                "doses": describe_doses(step),
                "total_mg_by_drug": {d: number(t) for d, t in step.totals_by_drug().items()},
                "cut_percent": None if step.cut_percent is None else number(step.cut_percent),
                "diazepam_eq_mg": {
                    source: [number(low), number(high)]
                    for source, (low, high) in step.diazepam_by_source.items()
                },
            }
            for step in result.steps
        ],
        "problems": [
            {"kind": problem.kind, "day": problem.day, "message": problem.message}
            for problem in result.problems
        ],
        "notes": list(result.notes),
        "dispensing": _dispensed(result.dispensing),
    }


CSV_COLUMNS = (
    "day",
    "date",
    "step",
    "phase",
    "drug",
    "slot",
    "dose_mg",
    "diazepam_eq_mg",
    "diazepam_eq_mg_low",
    "diazepam_eq_mg_high",
    "take",
)


#: Characters that make a spreadsheet read a cell as a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'`` (OWASP)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def plan_csv(plan: Plan, table: EquivalenceTable, *, raw: bool = False) -> str:
    """Tidy CSV: one row per day, drug and dose time. Provenance leads as ``#`` lines.

    Text cells that a spreadsheet would read as a formula are neutralised unless ``raw``.
    """
    from taper import __version__

    buffer = io.StringIO()
    parameters = dumps_compact_json(request_record(plan.request))
    buffer.write(f"# taper {__version__}; table {table.path} sha256 {table.sha256}\n")
    buffer.write(f"# source {plan.source.id}; parameters {parameters}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(plan_csv_rows(plan, raw=raw))
    return buffer.getvalue()


def plan_csv_rows(plan: Plan, *, raw: bool = False) -> Iterator[tuple[object, ...]]:
    """The data rows of :func:`plan_csv` (without header or provenance): one per day, drug
    and dose time, from day 1 to the first day without any drug."""
    cell = (lambda text: text) if raw else neutralise_cell
    cells: dict[DoseTime, tuple[object, ...]] = {}

    def dose_cells(dose: DoseTime) -> tuple[object, ...]:
        if dose not in cells:  # the same dose is written on many days: format it once
            value = plan.diazepam_of((dose,))
            if value is None:
                low = high = point = ""
            else:
                low_value, high_value = number(value[0]), number(value[1])
                low, high = str(low_value), str(high_value)
                point = low if low_value == high_value else ""
            text = cell(dose.preparation.text())
            cells[dose] = (cell(dose.drug), dose.slot, number(dose.dose_mg), point, low, high, text)
        return cells[dose]

    first = plan.start_date.toordinal() - 1
    for step in plan.steps:
        doses = [dose_cells(dose) for dose in step.doses]
        for day in range(step.start_day, step.end_day + 1):
            phase = step.phase
            if step.hold_days and day > step.end_day - step.hold_days:
                phase = "hold"
            date = dt.date.fromordinal(first + day).isoformat()
            for values in doses:
                yield (day, date, step.number, phase, *values)


def dumps_compact_json(record: Record) -> str:
    """One line of JSON with exact decimal numbers (for CSV comments and JSON Lines)."""
    import simplejson

    return str(
        simplejson.dumps(record, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    )


def dumps_json(record: Record) -> str:
    """JSON text with exact decimal numbers, keys in the order built, UTF-8 kept."""
    import simplejson

    return str(simplejson.dumps(record, use_decimal=True, indent=2, ensure_ascii=False)) + "\n"
