"""The schema of ``equivalences.toml`` as msgspec structs (imported only to load a table).

msgspec checks types, required and unknown keys fast enough for a command that should feel
instant. Mappings keyed by a name (``drugs``, ``equivalents``...) are validated entry by
entry so that every error names its full key path, e.g.
``drugs.clonazepam.equivalents.ashton``. The references between parts (source ids, aliases)
are checked in :mod:`taper.table`; the grammar is documented at the top of
``equivalences.toml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from taper.errors import TableError

T = TypeVar("T")
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
RegionCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]


#: Every number of a table (mg, mL, hours) lies in this range: nothing a formulary needs is
#: outside it, and arithmetic on it stays exact and fast.
SMALLEST_VALUE = Decimal("0.000001")
LARGEST_VALUE = Decimal(1_000_000)
#: Significant digits a table number may have (a million digits made a conversion hang).
MAX_DIGITS = 15


class PositiveNumber(Decimal):
    """A TOML integer or float (read as Decimal) greater than zero; never a string or bool."""


class ValueOrRange(tuple[Decimal, Decimal]):
    """A positive number, or ``[low, high]`` with ``0 < low < high``; kept as (low, high)."""


def _positive(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ValueError(f"must be a number, not {type(value).__name__} {value!r}")
    number = Decimal(value)
    if not number.is_finite() or number <= 0:
        raise ValueError(f"must be greater than zero, not {_short(value)}")
    if not SMALLEST_VALUE <= number <= LARGEST_VALUE:
        raise ValueError(
            f"must be from {SMALLEST_VALUE:f} to {LARGEST_VALUE:,f}, not {_short(value)}"
        )
    if len(number.as_tuple().digits) > MAX_DIGITS:
        raise ValueError(f"has more than {MAX_DIGITS} significant digits: {_short(value)}")
    return number


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _value_or_range(value: Any) -> tuple[Decimal, Decimal]:
    if isinstance(value, list):
        if len(value) != 2:
            raise ValueError(f"a range is [low, high]; got {len(value)} values")
        low, high = _positive(value[0]), _positive(value[1])
        if low >= high:
            raise ValueError(f"a range needs low < high; got [{low}, {high}]")
        return low, high
    number = _positive(value)
    return number, number


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is PositiveNumber:
        return PositiveNumber(_positive(value))
    if kind is ValueOrRange:
        return ValueOrRange(_value_or_range(value))
    raise NotImplementedError(kind)


class _Spec(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


class SourceSpec(_Spec, frozen=True):
    title: NonEmpty
    author: NonEmpty
    url: str
    reference_dose_mg: PositiveNumber
    grade: Literal["A", "B", "C"]
    year: int | None = None
    note: str = ""


class RegionMaxSpec(_Spec, frozen=True):
    note: NonEmpty
    source: NonEmpty
    mg: PositiveNumber | None = None
    single_mg: PositiveNumber | None = None


class MaxDailySpec(_Spec, frozen=True):
    mg: PositiveNumber
    note: NonEmpty
    source: NonEmpty
    single_mg: PositiveNumber | None = None
    regions: dict[RegionCode, RegionMaxSpec] = {}


class ProductSpec(_Spec, frozen=True):
    regions: Annotated[list[RegionCode], msgspec.Meta(min_length=1)]
    form: Literal["tablet", "odt", "capsule", "solution", "suspension", "concentrate"]
    strength_mg: PositiveNumber
    split: Literal["none", "half", "quarter"] = "none"
    volume_ml: PositiveNumber | None = None
    min_volume_ml: PositiveNumber | None = None
    note: str = ""
    #: What holds in one region only (``{ uk = "off-licence in the UK" }``), said after the
    #: note in that region's plans.
    region_notes: dict[RegionCode, NonEmpty] = {}
    source: str = ""


class DrugSpec(_Spec, frozen=True, rename={"drug_class": "class"}):
    drug_class: Literal["benzodiazepine", "z-drug"]
    aliases: list[NonEmpty]
    equivalents: dict[str, Any]
    half_life_hours: dict[str, Any] = {}
    metabolite_half_life_hours: dict[str, Any] = {}
    max_daily: MaxDailySpec | None = None
    products: list[ProductSpec] = []
    tall_man: str | None = None
    brands: dict[Literal["us", "uk"], list[NonEmpty]] = {}
    brands_source: str = ""
    acting: Literal["long", "short"] | None = None
    acting_source: str = ""
    notes: list[str] = []


class TableSpec(_Spec, frozen=True):
    schema_version: Literal[1]
    reference_drug: NonEmpty
    reference_dose_mg: PositiveNumber
    default_source: NonEmpty
    sources: dict[str, Any]
    drugs: dict[str, Any]


def _convert(value: Any, kind: type[T], path: str, key_path: str) -> T:
    try:
        return msgspec.convert(value, kind, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise _table_error(str(exc), path, key_path) from exc


def _table_error(message: str, path: str, prefix: str) -> TableError:
    """msgspec's ``Expected `int`, got `str` - at `$.year``` -> key path ``prefix.year``."""
    where = re.search(r" - at `\$(.*)`$", message)
    suffix = where.group(1) if where else ""
    reason = message[: where.start()] if where else message
    unknown = re.fullmatch(r"Object contains unknown field `(.+)`", reason)
    missing = re.fullmatch(r"Object missing required field `(.+)`", reason)
    if unknown or missing:
        field = (unknown or missing).group(1)  # type: ignore[union-attr]
        suffix += f".{field}"
        reason = "is not a key this schema knows" if unknown else "is required but missing"
    key_path = (prefix + suffix).lstrip(".")
    reason = reason[0].lower() + reason[1:]
    if reason.startswith("invalid enum value"):
        reason += f"; allowed: {_ALLOWED.get(key_path.rsplit('.', 1)[-1], '?')}"
    return TableError(path, key_path, reason)


#: The allowed values of the enumerated keys, for error messages.
_ALLOWED = {
    "grade": "A, B or C",
    "class": "benzodiazepine or z-drug",
    "schema_version": "1",
    "form": "tablet, odt, capsule, solution, suspension or concentrate",
    "split": "none, half or quarter",
    "acting": "long or short",
}


def _entries(
    mapping: Mapping[str, Any], convert: Callable[[Any, str], T], prefix: str, path: str
) -> dict[str, T]:
    entries = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", key):
            raise TableError(path, f"{prefix}.{key}", "names use letters, digits and '-'")
        entries[key] = convert(value, f"{prefix}.{key}")
    return entries


def validate(
    document: Mapping[str, Any], path: str
) -> tuple[TableSpec, dict[str, SourceSpec], dict[str, DrugSpec]]:
    """Check a parsed TOML document; returns the top level, the sources and the drugs."""
    top = _convert(document, TableSpec, path, "")
    for section in ("sources", "drugs"):
        if not getattr(top, section):
            raise TableError(path, section, "needs at least one entry")
    sources = _entries(
        top.sources, lambda value, key: _convert(value, SourceSpec, path, key), "sources", path
    )
    drugs = {}
    for name, raw in top.drugs.items():
        drug = _convert(raw, DrugSpec, path, f"drugs.{name}")
        for section in ("equivalents", "half_life_hours", "metabolite_half_life_hours"):
            values = _entries(
                getattr(drug, section),
                lambda value, key: _convert(value, ValueOrRange, path, key),
                f"drugs.{name}.{section}",
                path,
            )
            drug = msgspec.structs.replace(drug, **{section: values})
        drugs[name] = drug
    return top, sources, drugs
