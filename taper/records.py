"""Plain records of results (dicts of str, int, Decimal, lists) and their JSON text.

The CLI and library users get the same records. Numbers stay exact: ``Decimal`` values are
written into JSON as numbers by simplejson, never through a float.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from taper import __version__
from taper.errors import shorten
from taper.formatting import format_dose, to_decimal
from taper.guardrails import PatientFactors
from taper.notices import Kind, Notice
from taper.options import TaperRequest
from taper.params import Hold
from taper.plan import DispensedProduct, DoseTime, Plan, Step, SupplyPeriod
from taper.rational import Fraction
from taper.reviews import plan_reviews
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ValueRange

if TYPE_CHECKING:
    from taper.convert import Conversion, SourceResult

#: Version of every JSON document `taper` writes; bumped on any incompatible change.
SCHEMA_VERSION = 2

Record = dict[str, Any]


def number(value: Decimal | Fraction | int) -> int | Decimal:
    """A JSON-ready exact number at display precision: ``30`` not ``30.000``."""
    decimal, _ = to_decimal(value)
    return int(decimal) if decimal == decimal.to_integral_value() else decimal.normalize()


def notice_records(notices: Iterable[Notice]) -> list[Record]:
    """Warnings as ``{"kind": ..., "message": ...}``."""
    return [{"kind": notice.kind.value, "message": notice.message} for notice in notices]


def provenance(table: EquivalenceTable) -> Record:
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
        "acting": drug.acting,
        "acting_source": drug.acting_source,
        "half_life_hours": {k: _range(v) for k, v in drug.half_life_hours.items()},
        "metabolite_half_life_hours": {
            k: _range(v) for k, v in drug.metabolite_half_life_hours.items()
        },
        "max_daily": None
        if drug.max_daily is None
        else {
            "mg": number(drug.max_daily.mg),
            "single_mg": None
            if drug.max_daily.single_mg is None
            else number(drug.max_daily.single_mg),
            "note": drug.max_daily.note,
            "source": drug.max_daily.source,
        },
        "equivalents_per_reference": equivalents,
        "published_equivalents": {k: _range(v) for k, v in drug.equivalents.items()},
        "products": [
            {
                "regions": list(product.regions),
                "product": product.label(),
                "form": product.form,
                "strength_mg": number(product.strength_mg),
                "volume_ml": None if product.volume_ml is None else number(product.volume_ml),
                "split": product.split,
                "note": product.note,
                "region_notes": dict(product.region_notes),
                "source": product.source,
            }
            for product in drug.products
        ],
        "notes": list(drug.notes),
    }


def drugs_document(table: EquivalenceTable, drugs: list[Drug]) -> Record:
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "reference": {"drug": table.reference_drug, "dose_mg": number(table.reference_dose_mg)},
        "drugs": [drug_record(table, drug) for drug in drugs],
    }


def paces_document() -> Record:
    """The named paces (``taper paces --format json``): what each sets (by option name, as
    text), the drugs its source covers (null: every drug) and its source."""
    from taper.presets import PACES

    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "taper", "version": __version__},
        "paces": [
            {
                "name": pace.name,
                "summary": pace.summary,
                "sets": dict(pace.sets),
                "drugs": None if pace.drugs is None else list(pace.drugs),
                "covers": pace.covers or None,
                "source": pace.source,
            }
            for pace in PACES.values()
        ],
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
            "sources_without_value": spread.without_value,
            "ranges": list(spread.ranges),
            "range_basis": spread.range_basis if spread.ranges else None,
            "wide": spread.is_wide,
        },
        "disagreement": conversion.disagreement,
        "warnings": notice_records(conversion.warnings),
    }


def request_record(request: TaperRequest) -> Record:
    """Every parameter of a plan, normalised, so that the plan can be rebuilt exactly.

    One entry per field of :class:`~taper.options.TaperRequest`, in its order (the regimens
    as ``regimen_mg``, the patient factors one entry each).
    """
    record: Record = {}
    for f in dataclasses.fields(request):
        value = getattr(request, f.name)
        if isinstance(value, PatientFactors):
            record |= {g.name: getattr(value, g.name) for g in dataclasses.fields(value)}
        else:
            record["regimen_mg" if f.name == "regimen" else f.name] = _parameter(value)
    return record


def _parameter(value: object) -> Any:
    """One recorded parameter as plain JSON data (exact numbers, text for the rest)."""
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Hold):
        return value.text()
    if isinstance(value, Mapping):
        return {slot: number(dose) for slot, dose in value.items()}
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):  # further drugs: (name, regimen) pairs
            return [{"drug": name, "regimen_mg": _parameter(regimen)} for name, regimen in value]
        return [_parameter(item) for item in value]
    return value


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


def period_records(periods: Iterable[SupplyPeriod]) -> list[Record]:
    return [
        {"start_day": p.start_day, "end_day": p.end_day, "items": dispensed_records(p.items)}
        for p in periods
    ]


def dispensed_records(items: tuple[DispensedProduct, ...]) -> list[Record]:
    return [
        {
            "drug": item.product.drug,
            "product": item.product.label(),
            "quantity": number(item.quantity),
            "unit": item.unit,
        }
        for item in items
    ]


#: Parameters whose summary column has another name: the first drug's regimen is its daily
#: total; the target end is told from the plan's own duration and end date.
_PARAMETER_COLUMN_NAMES = {
    "regimen": "dose_mg",
    "duration_days": "target_duration_days",
    "until": "target_end_date",
}


def _parameter_columns() -> tuple[str, ...]:
    """The plan's parameters as summary columns: each field of the request (the patient
    factors one each); the drug, source and start are the summary's own ``drug`` and
    ``switched_from``, ``source`` and ``start_date``."""
    names: list[str] = []
    for f in dataclasses.fields(TaperRequest):
        if f.name == "factors":
            names += [g.name for g in dataclasses.fields(PatientFactors)]
        elif f.name not in {"drug", "source", "start"}:
            names.append(_PARAMETER_COLUMN_NAMES.get(f.name, f.name))
    return tuple(names)


#: One column per warning kind (its count), named ``warnings_`` and the kind with underscores.
WARNING_COLUMNS = tuple(f"warnings_{kind.value.replace('-', '_')}" for kind in Kind)
#: One column per parameter of the plan (numbers as numbers, lists joined by ``;``).
PARAMETER_COLUMNS = _parameter_columns()
#: Total quantities to dispense, by unit.
DISPENSED_COLUMNS = {"tablets": "dispensed_tablets", "capsules": "dispensed_capsules",
                     "mL": "dispensed_ml"}  # fmt: skip
#: The keys of :func:`plan_summary`, in order.
SUMMARY_FIELDS = (
    "drug",
    "switched_from",
    "source",
    "start_date",
    "start_date_is_today",
    "end_date",
    "duration_days",
    "steps",
    "reductions",
    "largest_14_day_reduction_percent",
    "first_14_day_reduction_percent",
    "exceeds_guideline_ceiling",
    "starts_faster_than_guideline",
    "forced_by_products",
    "stop_from_mg",
    "dispensing",
    *DISPENSED_COLUMNS.values(),
    "warnings",
    *WARNING_COLUMNS,
    *PARAMETER_COLUMNS,
)


def _summary_parameters(request: TaperRequest) -> Record:
    record = request_record(request)
    record |= {new: record.get(old) for old, new in _PARAMETER_COLUMN_NAMES.items()}
    values: Record = {}
    for name in PARAMETER_COLUMNS:
        if name == "dose_mg":
            values[name] = number(sum(request.regimen.values(), Decimal(0)))
        elif name == "also":
            values[name] = "; ".join(
                f"{drug} {format_dose(sum(regimen.values(), Decimal(0)))}"
                for drug, regimen in request.also
            )
        elif isinstance(record[name], list):
            values[name] = "; ".join(str(item) for item in record[name])
        else:
            values[name] = record[name]
    return values


def plan_summary(plan: Plan) -> Record:
    """One flat record per plan (the batch summary row): its checks, what to dispense, the
    count of each kind of warning and every parameter, with numbers as numbers."""
    checks = plan.checks
    dispensed = dict.fromkeys(DISPENSED_COLUMNS.values(), Decimal(0))
    for item in plan.dispensing:
        dispensed[DISPENSED_COLUMNS[item.unit]] += item.quantity
    kinds = Counter(notice.kind for notice in plan.warnings)
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
        "exceeds_guideline_ceiling": any(step.exceeds_ceiling for step in plan.steps),
        "starts_faster_than_guideline": any(w.kind is Kind.START_PACE for w in plan.warnings),
        "forced_by_products": any(step.forced for step in plan.steps),
        "stop_from_mg": number(checks.stop_from_mg),
        "dispensing": "; ".join(
            f"{item.product.drug} {item.product.label()}: "
            + (format_dose(item.quantity, "mL") if item.unit == "mL" else f"{item.quantity}")
            for item in plan.dispensing
        ),
        **{column: number(total) for column, total in dispensed.items()},
        "warnings": len(plan.warnings),
        **{column: kinds[kind] for column, kind in zip(WARNING_COLUMNS, Kind, strict=True)},
        **_summary_parameters(plan.request),
    }


def revision_records(plan: Plan) -> list[Record]:
    """The plan's revisions, oldest first, as recorded in its outputs (what rebuilds them)."""
    return [
        {
            "revision": revision.number,
            "on": revision.on.isoformat(),
            "action": revision.action,
            "reason": revision.reason,
            "description": revision.description,
            "parameters": {
                name: {slot: number(dose) for slot, dose in value.items()}
                if isinstance(value, Mapping)
                else _parameter(value)
                for name, value in revision.parameters.items()
            },
            "replaces_sha256": revision.replaces_sha256,
            "replaces_start_date": revision.replaces_start.isoformat(),
            "notes": list(revision.notes),
        }
        for revision in plan.revisions
    ]


def review_records(plan: Plan) -> list[Record]:
    """The plan's review schedule (:mod:`taper.reviews`)."""
    return [
        {
            "day": review.day,
            "date": review.date.isoformat(),
            "kind": review.kind,
            "reason": review.reason,
            "source": review.source,
        }
        for review in plan_reviews(plan)
    ]


def plan_document(plan: Plan, table: EquivalenceTable) -> Record:
    checks = plan.checks
    return {
        "schema_version": SCHEMA_VERSION,
        **provenance(table),
        "plan_sha256": plan.content_sha256(),
        "meta": {
            "revision": plan.revision,
            "revisions": revision_records(plan),
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
                "dose_band_basis": plan.risk.band_basis,
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
        "warnings": notice_records(plan.warnings),
        "reviews": review_records(plan),
        "dispensing": {
            "total": dispensed_records(plan.dispensing),
            "periods": period_records(plan.supply),
        },
    }


def dumps_compact_json(record: Record | list[Record]) -> str:
    """One line of JSON with exact decimal numbers (for CSV comments and JSON Lines)."""
    import simplejson  # only when JSON is written: not at start-up

    return _escape_invisible(
        simplejson.dumps(record, use_decimal=True, ensure_ascii=False, separators=(",", ":"))
    )


#: Characters JSON may carry raw that a terminal obeys or that reorder or break lines: C1
#: controls (``\x9b`` starts an escape sequence), bidi controls (Trojan Source), U+2028/9.
_INVISIBLE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape_invisible(text: str) -> str:
    """JSON text with those characters written as ``\\u`` escapes: the same JSON values,
    safe on a terminal (they only ever occur inside strings)."""
    return _INVISIBLE.sub(lambda match: f"\\u{ord(match[0]):04x}", str(text))


def _one_of_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys each appear once: with a key twice, readers disagree on what
    the file says (most keep the last, some the first), so such a file is refused."""
    record = dict(pairs)
    if len(record) != len(pairs):
        twice = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise ValueError(f"the key {shorten(twice, 40)!r} appears twice in one object")
    return record


def loads_json(text: str, **options: Any) -> Any:
    """JSON text as Python values, refusing an object with a key twice (see
    :func:`_one_of_each`); ``options`` as :func:`json.loads` takes them."""
    return json.loads(text, object_pairs_hook=_one_of_each, **options)


def dumps_json(record: Record) -> str:
    """JSON text with exact decimal numbers, keys in the order built, UTF-8 kept; control
    characters a terminal would obey written as escapes."""
    import simplejson  # only when JSON is written: not at start-up

    dumped = simplejson.dumps(record, use_decimal=True, indent=2, ensure_ascii=False)
    return _escape_invisible(dumped) + "\n"
