"""Plain records of results (dicts of str, int, Decimal, lists) and their JSON text.

The CLI and library users get the same records. Numbers stay exact: ``Decimal`` values are
written into JSON as numbers by simplejson, never through a float.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from taper.convert import Conversion, SourceResult
from taper.formatting import format_dose, to_decimal
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ValueRange

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


def dumps_json(record: Record) -> str:
    """JSON text with exact decimal numbers, keys in the order built, UTF-8 kept."""
    import simplejson

    return str(simplejson.dumps(record, use_decimal=True, indent=2, ensure_ascii=False)) + "\n"
