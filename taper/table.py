"""The equivalence table: sources, drugs and their per-source equivalents.

:func:`load_table` reads ``equivalences.toml`` (or a user's file with the same schema),
validates it and returns an immutable :class:`EquivalenceTable`. Values are kept *as
published*; :meth:`EquivalenceTable.equivalent` rescales them to the table's reference dose
(diazepam 10 mg) exactly, for display. Conversions use the published values of one source
for both drugs, so rescaling never changes a conversion.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taper._trusted_table import CHECKED_SHA256
from taper.errors import ParameterError, TableError, UnknownNameError
from taper.files import read_text, too_long
from taper.products import LIQUID_FORMS, Form, Product
from taper.rational import Fraction
from taper.readonly import ReadOnlyMappings

if TYPE_CHECKING:
    from taper._schema import DrugSpec, ProductSpec, SourceSpec, TableSpec

TABLE_FILE_NAME = "equivalences.toml"
#: Names are plain words: nothing that a spreadsheet or terminal would interpret.
DRUG_NAME = r"[a-z][a-z0-9-]*"
ALIAS = r"[A-Za-z0-9][A-Za-z0-9 .'-]*"
#: Files larger than this are not equivalence tables.
MAX_TABLE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ValueRange:
    """A published value: a single number (``low == high``) or a range. Never a midpoint."""

    low: Decimal
    high: Decimal

    @property
    def is_point(self) -> bool:
        return self.low == self.high

    def scaled(self, factor: Decimal) -> ValueRange:
        return ValueRange(self.low * factor, self.high * factor)


@dataclass(frozen=True)
class EquivalenceSource:
    """One published equivalence table."""

    id: str
    title: str
    author: str
    year: int | None
    url: str
    #: The diazepam dose the source's values are published against (5 or 10 mg).
    reference_dose_mg: Decimal
    grade: str
    note: str = ""


@dataclass(frozen=True)
class MaxDailyDose(ReadOnlyMappings):
    mg: Decimal
    note: str
    source: str
    #: The largest single dose the label gives, if the table records it.
    single_mg: Decimal | None = None
    #: Where a region's label is lower: region -> its maximum (mg, single_mg, note, source).
    regions: Mapping[str, MaxDailyDose] = field(default_factory=dict)

    _mappings = ("regions",)

    def in_region(self, region: str) -> MaxDailyDose:
        """The maximum that applies in ``region`` (its own where the table gives one)."""
        own = self.regions.get(region)
        return self if own is None else own


@dataclass(frozen=True)
class Drug(ReadOnlyMappings):
    """A drug with its names, half-lives and per-source equivalents (as published)."""

    name: str
    drug_class: str
    aliases: tuple[str, ...]
    equivalents: Mapping[str, ValueRange]
    half_life_hours: Mapping[str, ValueRange] = field(default_factory=dict)
    metabolite_half_life_hours: Mapping[str, ValueRange] = field(default_factory=dict)
    max_daily: MaxDailyDose | None = None
    tall_man: str | None = None
    #: The brand names a handout prints beside the generic name, by region (only names
    #: confirmed as sold there; see ``brands_source``).
    brands: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    brands_source: str = ""
    notes: tuple[str, ...] = ()
    products: tuple[Product, ...] = ()
    #: "long" or "short" acting (by half-life, with its source), or None if not recorded.
    acting: str | None = None
    acting_source: str = ""

    _mappings = ("equivalents", "half_life_hours", "metabolite_half_life_hours", "brands")

    def maximum(self, region: str) -> MaxDailyDose | None:
        """The usual maximum in ``region`` (``"us"``, ``"uk"``), or None if not recorded."""
        return None if self.max_daily is None else self.max_daily.in_region(region)

    def products_in(self, region: str) -> tuple[Product, ...]:
        """The products marketed in ``region`` (``"us"``, ``"uk"``)."""
        return tuple(product for product in self.products if region in product.regions)


@dataclass(frozen=True)
class EquivalenceTable(ReadOnlyMappings):
    """A validated equivalence table; look drugs up by any of their names."""

    reference_drug: str
    reference_dose_mg: Decimal
    default_source: str
    sources: Mapping[str, EquivalenceSource]
    drugs: Mapping[str, Drug]
    #: Where the table was read from, and the SHA-256 of its bytes (provenance).
    path: str = "<memory>"
    sha256: str = ""

    _mappings = ("sources", "drugs")

    @cached_property
    def _names(self) -> dict[str, tuple[str, str]]:
        """Every name in lower case -> (generic name, the name as the table spells it)."""
        return {
            spelling.casefold(): (drug.name, spelling)
            for drug in self.drugs.values()
            for spelling in (drug.name, *drug.aliases)
        }

    def drug(self, name: str) -> Drug:
        """The drug called ``name`` (generic or brand name, any case)."""
        if not isinstance(name, str):
            raise ParameterError("drug", name, "a drug name (text)")
        key = name.strip().casefold()
        if key in self._names:
            return self.drugs[self._names[key][0]]
        import difflib  # only to suggest names: not at start-up

        close = difflib.get_close_matches(key, list(self._names), n=3, cutoff=0.6)
        raise UnknownNameError("drug", name, [self._names[match][1] for match in close])

    def source(self, source_id: str) -> EquivalenceSource:
        """The source with id ``source_id``."""
        if not isinstance(source_id, str):
            raise ParameterError("source", source_id, "a source id (text)")
        key = source_id.strip().lower()
        if key in self.sources:
            return self.sources[key]
        import difflib

        close = difflib.get_close_matches(key, list(self.sources), n=3, cutoff=0.5)
        raise UnknownNameError("source", source_id, close)

    def rescale_factor(self, source: EquivalenceSource) -> Decimal:
        """What a source's published values are multiplied by to read per reference dose."""
        return self.reference_dose_mg / source.reference_dose_mg

    def equivalent(self, drug: Drug, source: EquivalenceSource) -> ValueRange | None:
        """The dose of ``drug`` equal to the reference dose under ``source`` (rescaled)."""
        published = drug.equivalents.get(source.id)
        return None if published is None else published.scaled(self.rescale_factor(source))


def ratio_to_diazepam(
    table: EquivalenceTable, drug: Drug, source: EquivalenceSource
) -> tuple[Fraction, Fraction] | None:
    """Diazepam mg per mg of ``drug`` under ``source`` as (low, high), or None."""
    if drug.name == table.reference_drug:
        return Fraction(1), Fraction(1)
    own = drug.equivalents.get(source.id)
    reference = table.drugs[table.reference_drug].equivalents.get(source.id)
    if own is None or reference is None:
        return None
    return (
        Fraction(reference.low) / Fraction(own.high),
        Fraction(reference.high) / Fraction(own.low),
    )


#: How the bundled table is named in outputs (not located: outputs do not depend on the install).
BUNDLED_NAME = f"{TABLE_FILE_NAME} (bundled)"


def table_file(table: EquivalenceTable) -> Path | None:
    """The file a table was read from (the bundled one located), or None for one in memory:
    so that no output ever replaces the table a command reads."""
    if table.path == BUNDLED_NAME:
        return bundled_table_path()
    return None if table.path == "<memory>" else Path(table.path)


def bundled_table_path() -> Path:
    """The table shipped with `taper`: inside the wheel, or at the root of a checkout."""
    here = Path(__file__).resolve().parent
    packaged = here / TABLE_FILE_NAME
    return packaged if packaged.is_file() else here.parent / TABLE_FILE_NAME


def load_table(path: str | os.PathLike[str] | None = None) -> EquivalenceTable:
    """Read and validate an equivalence table (the bundled one when ``path`` is None).

    A table given by ``path`` is always checked in full. The bundled one is too, unless the
    bytes read are exactly those whose checks the tests ran (their SHA-256 is recorded in
    the package): the same bytes pass the same checks."""
    if path is not None and not isinstance(path, str | os.PathLike):
        raise ParameterError("path", path, "the path of a table file (str or os.PathLike)")
    table_path = Path(path) if path is not None else bundled_table_path()
    # The bundled table is named, not located, so that outputs do not depend on the install.
    shown = str(path) if path is not None else BUNDLED_NAME
    text, sha256 = read_text(
        table_path,
        kind="TOML table",
        max_bytes=MAX_TABLE_BYTES,
        fail=lambda _line, reason: TableError(shown, "", reason),
        allow_empty=True,
    )
    import tomllib

    try:
        document = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise TableError(shown, "", f"TOML syntax error: {exc}") from exc
    except RecursionError:
        raise TableError(str(table_path), "", "arrays or tables nested too deeply") from None
    except ValueError as exc:  # an integer longer than Python reads (4,300 digits)
        raise TableError(shown, "", f"a number is too long to read: {too_long(exc)}") from None
    if path is None and sha256 == CHECKED_SHA256:
        # The bundled file, byte for byte as the tests checked it in full: the schema's
        # checks would pass again (taper/_trusted_table.py).
        return _checked_table(document, path=shown, sha256=sha256)
    return table_from_document(document, path=shown, sha256=sha256)


def table_of(table: EquivalenceTable | str | os.PathLike[str] | None) -> EquivalenceTable:
    """A loaded table: the one given, the one at a path, or the bundled one (None)."""
    if table is None or isinstance(table, str | os.PathLike):
        return load_table(table)
    if not isinstance(table, EquivalenceTable):
        raise ParameterError("table", table, "an EquivalenceTable or the path of a table file")
    return table


def table_from_document(
    document: Mapping[str, object], *, path: str = "<memory>", sha256: str = ""
) -> EquivalenceTable:
    """Validate a parsed TOML document and build the table from it."""
    from taper._schema import validate

    top, sources, drugs = validate(document, path)
    _check_references(top, sources, drugs, path)
    return _checked_table(document, path=path, sha256=sha256)


def _checked_table(document: Mapping[str, Any], *, path: str, sha256: str) -> EquivalenceTable:
    """The table of a document every check has passed: validated by
    :func:`table_from_document`, or the bundled file's bytes whose checks the tests ran (see
    :func:`load_table`). The defaults of optional keys are the schema's (``taper._schema``;
    the tests build every table both ways)."""
    return EquivalenceTable(
        reference_drug=document["reference_drug"],
        reference_dose_mg=Decimal(document["reference_dose_mg"]),
        default_source=document["default_source"],
        sources={
            source_id: EquivalenceSource(
                id=source_id,
                title=source["title"],
                author=source["author"],
                year=source.get("year"),
                url=source["url"],
                reference_dose_mg=Decimal(source["reference_dose_mg"]),
                grade=source["grade"],
                note=source.get("note", ""),
            )
            for source_id, source in document["sources"].items()
        },
        drugs={name: _drug(name, drug) for name, drug in document["drugs"].items()},
        path=path,
        sha256=sha256,
    )


def _value_range(value: Any) -> ValueRange:
    """A checked value: a positive number, or ``[low, high]``."""
    low, high = value if isinstance(value, list) else (value, value)
    return ValueRange(Decimal(low), Decimal(high))


def _optional_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _drug(name: str, spec: Mapping[str, Any]) -> Drug:
    def ranges(section: str) -> dict[str, ValueRange]:
        return {key: _value_range(value) for key, value in spec.get(section, {}).items()}

    limit = spec.get("max_daily")
    return Drug(
        name=name,
        drug_class=spec["class"],
        aliases=tuple(spec["aliases"]),
        equivalents=ranges("equivalents"),
        half_life_hours=ranges("half_life_hours"),
        metabolite_half_life_hours=ranges("metabolite_half_life_hours"),
        max_daily=None if limit is None else _max_daily(limit),
        tall_man=spec.get("tall_man"),
        brands={region: tuple(names) for region, names in spec.get("brands", {}).items()},
        brands_source=spec.get("brands_source", ""),
        acting=spec.get("acting"),
        acting_source=spec.get("acting_source", ""),
        notes=tuple(spec.get("notes", ())),
        products=tuple(
            Product(
                drug=name,
                form=Form(product["form"]),
                strength_mg=Decimal(product["strength_mg"]),
                split=product.get("split", "none"),
                volume_ml=_optional_decimal(product.get("volume_ml")),
                min_volume_ml=_optional_decimal(product.get("min_volume_ml")),
                regions=tuple(product["regions"]),
                note=product.get("note", ""),
                source=product.get("source", ""),
                region_notes=tuple(product.get("region_notes", {}).items()),
            )
            for product in spec.get("products", ())
        ),
    )


def _max_daily(limit: Mapping[str, Any]) -> MaxDailyDose:
    """A drug's usual maximum, and where a region's label is lower, that region's (its
    daily and single maxima default to the drug's)."""
    single = _optional_decimal(limit.get("single_mg"))
    return MaxDailyDose(
        Decimal(limit["mg"]),
        limit["note"],
        limit["source"],
        single,
        {
            region: MaxDailyDose(
                Decimal(own.get("mg", limit["mg"])),
                own["note"],
                own["source"],
                single if own.get("single_mg") is None else Decimal(own["single_mg"]),
            )
            for region, own in limit.get("regions", {}).items()
        },
    )


def _check_references(
    top: TableSpec, sources: Mapping[str, SourceSpec], drugs: Mapping[str, DrugSpec], path: str
) -> None:
    """What the shape cannot say: every source id exists, every name is unique."""
    if top.default_source not in sources:
        raise TableError(path, "default_source", f"unknown source {top.default_source!r}")
    if top.reference_drug not in drugs:
        raise TableError(path, "reference_drug", f"no drug called {top.reference_drug!r}")
    known = ", ".join(sources)
    owner_of: dict[str, str] = {}
    for name, drug in drugs.items():
        if not re.fullmatch(DRUG_NAME, name):
            raise TableError(
                path, f"drugs.{name}", "a drug name is lower-case letters, digits, '-'"
            )
        for alias in drug.aliases:
            if not re.fullmatch(ALIAS, alias):
                raise TableError(
                    path,
                    f"drugs.{name}.aliases",
                    f"{alias!r}: use letters, digits, space, '-', '.'",
                )
        for section in ("equivalents", "half_life_hours", "metabolite_half_life_hours"):
            for source_id in getattr(drug, section):
                if source_id not in sources:
                    raise TableError(
                        path,
                        f"drugs.{name}.{section}.{source_id}",
                        f"unknown source id (known: {known})",
                    )
        for index, spelling in enumerate((name, *drug.aliases)):
            key_path = f"drugs.{name}" if index == 0 else f"drugs.{name}.aliases"
            if spelling.casefold() in owner_of:
                owner = owner_of[spelling.casefold()]
                raise TableError(path, key_path, f"name {spelling!r} is already used by {owner}")
            owner_of[spelling.casefold()] = name
        if not drug.equivalents:
            raise TableError(path, f"drugs.{name}.equivalents", "needs at least one source")
        if drug.tall_man is not None and drug.tall_man.casefold() != name.casefold():
            raise TableError(
                path, f"drugs.{name}.tall_man", f"{drug.tall_man!r} does not spell {name!r}"
            )
        if drug.brands and not drug.brands_source.strip():
            raise TableError(path, f"drugs.{name}.brands_source", "'brands' needs its source")
        if drug.acting is not None and not drug.acting_source.strip():
            raise TableError(path, f"drugs.{name}.acting_source", "'acting' needs its source")
        limit = drug.max_daily
        if limit is not None and limit.single_mg is not None and limit.single_mg > limit.mg:
            raise TableError(
                path, f"drugs.{name}.max_daily.single_mg", "is larger than the daily maximum"
            )
        for region, own in ({} if limit is None else limit.regions).items():
            daily = own.mg if own.mg is not None else limit.mg  # type: ignore[union-attr]
            if own.single_mg is not None and own.single_mg > daily:
                raise TableError(
                    path,
                    f"drugs.{name}.max_daily.regions.{region}.single_mg",
                    "is larger than the daily maximum",
                )
        for index, product in enumerate(drug.products):
            _check_product(product, f"drugs.{name}.products[{index}]", path)


def _check_product(product: ProductSpec, key_path: str, path: str) -> None:
    liquid = product.form in LIQUID_FORMS
    if liquid and (product.volume_ml is None or product.min_volume_ml is None):
        raise TableError(path, key_path, "a liquid needs volume_ml and min_volume_ml")
    if not liquid and (product.volume_ml is not None or product.min_volume_ml is not None):
        raise TableError(path, key_path, "only a liquid has volume_ml and min_volume_ml")
    if liquid and product.split != "none":
        raise TableError(path, f"{key_path}.split", "a liquid cannot be split")
    if product.form in {"capsule", "odt"} and product.split != "none":
        raise TableError(path, f"{key_path}.split", f"a {product.form} cannot be split")
    pieces = {"none": 1, "half": 2, "quarter": 4}[product.split]
    smallest = (
        Decimal(product.strength_mg) / Decimal(product.volume_ml) * Decimal(product.min_volume_ml)
        if liquid and product.volume_ml and product.min_volume_ml
        else Decimal(product.strength_mg) / pieces
    )
    if smallest % Decimal("0.001") != 0:
        raise TableError(path, key_path, "its smallest piece or volume is finer than 0.001 mg")
