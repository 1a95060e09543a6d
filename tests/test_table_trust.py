"""The bundled table skips the schema's checks only as the bytes the tests checked in full.

Validating the table with msgspec cost every command that reads it, and every process's
first plan, about 12 ms (issue 26). The bundled file's SHA-256 is recorded in the package
(``taper/_trusted_table.py``) by the first test here, once the file passes every check;
``load_table()`` builds the bundled table without the checks only when the bytes it read
have that digest. A byte changed in the bundled file, and every table given by path, are
checked in full. Every table is built by one function; the checks decide nothing in it but
whether to build, which the spec-based build below (the one before issue 26) confirms.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import taper._schema
import taper.table
from taper._trusted_table import CHECKED_SHA256
from taper.errors import TableError
from taper.products import Form, Product
from taper.table import (
    Drug,
    EquivalenceSource,
    EquivalenceTable,
    MaxDailyDose,
    ValueRange,
    bundled_table_path,
    load_table,
    table_from_document,
)

from .conftest import ROOT, TINY_TABLE

TRUSTED = ROOT / "taper" / "_trusted_table.py"
#: Every optional key of the schema, at least once.
FULL_TABLE = """
schema_version = 1
reference_drug = "diazepam"
reference_dose_mg = 10
default_source = "alpha"

[sources.alpha]
title = "Alpha"
author = "A"
url = ""
reference_dose_mg = 10
grade = "A"
year = 2001
note = "a note"

[sources.beta]
title = "Beta"
author = "B"
url = "https://example.org"
reference_dose_mg = 5
grade = "C"

[drugs.diazepam]
class = "benzodiazepine"
aliases = ["Valium"]
tall_man = "diazePAM"
brands = {us = ["Valium"], uk = ["Valium", "Diazemuls"]}
brands_source = "a formulary"
acting = "long"
acting_source = "a review"
notes = ["first", "second"]
[drugs.diazepam.equivalents]
alpha = 10
beta = 5.0
[drugs.diazepam.half_life_hours]
alpha = [20, 100]
[drugs.diazepam.metabolite_half_life_hours]
beta = 36.50
[drugs.diazepam.max_daily]
mg = 30
note = "label"
source = "alpha"
single_mg = 10
[drugs.diazepam.max_daily.regions.uk]
note = "UK label"
source = "beta"
[drugs.diazepam.max_daily.regions.us]
mg = 40
single_mg = 20
note = "US label"
source = "alpha"
[[drugs.diazepam.products]]
regions = ["us", "uk"]
form = "tablet"
strength_mg = 2
split = "half"
note = "scored"
source = "a label"
[[drugs.diazepam.products]]
regions = ["uk"]
form = "solution"
strength_mg = 2
volume_ml = 5
min_volume_ml = 0.5

[drugs.zolpidem]
class = "z-drug"
aliases = []
[drugs.zolpidem.equivalents]
alpha = [10, 20]
[drugs.zolpidem.max_daily]
mg = 10
note = "label"
source = "alpha"
[drugs.zolpidem.max_daily.regions.uk]
single_mg = 5
note = "UK label"
source = "beta"
"""


def _spec_built(document: Mapping[str, Any], path: str, sha256: str) -> EquivalenceTable:
    """The table as the code before issue 26 built it: from the schema's validated structs
    (their defaults, their conversions)."""
    top, sources, drugs = taper._schema.validate(document, path)

    def ranges(values: Mapping[str, tuple[Decimal, Decimal]]) -> dict[str, ValueRange]:
        return {key: ValueRange(Decimal(low), Decimal(high)) for key, (low, high) in values.items()}

    def drug(name: str, spec: taper._schema.DrugSpec) -> Drug:
        limit = spec.max_daily
        maximum = None
        if limit is not None:
            single = None if limit.single_mg is None else Decimal(limit.single_mg)
            regions = {
                region: MaxDailyDose(
                    Decimal(own.mg if own.mg is not None else limit.mg),
                    own.note,
                    own.source,
                    Decimal(own.single_mg) if own.single_mg is not None else single,
                )
                for region, own in limit.regions.items()
            }
            maximum = MaxDailyDose(Decimal(limit.mg), limit.note, limit.source, single, regions)
        products = tuple(
            Product(
                drug=name,
                form=Form(product.form),
                strength_mg=Decimal(product.strength_mg),
                split=product.split,
                volume_ml=None if product.volume_ml is None else Decimal(product.volume_ml),
                min_volume_ml=None
                if product.min_volume_ml is None
                else Decimal(product.min_volume_ml),
                regions=tuple(product.regions),
                note=product.note,
                source=product.source,
                region_notes=tuple(product.region_notes.items()),
            )
            for product in spec.products
        )
        return Drug(
            name=name,
            drug_class=spec.drug_class,
            aliases=tuple(spec.aliases),
            equivalents=ranges(spec.equivalents),
            half_life_hours=ranges(spec.half_life_hours),
            metabolite_half_life_hours=ranges(spec.metabolite_half_life_hours),
            max_daily=maximum,
            tall_man=spec.tall_man,
            brands={region: tuple(names) for region, names in spec.brands.items()},
            brands_source=spec.brands_source,
            acting=spec.acting,
            acting_source=spec.acting_source,
            notes=tuple(spec.notes),
            products=products,
        )

    return EquivalenceTable(
        reference_drug=top.reference_drug,
        reference_dose_mg=Decimal(top.reference_dose_mg),
        default_source=top.default_source,
        sources={
            source_id: EquivalenceSource(
                id=source_id,
                title=spec.title,
                author=spec.author,
                year=spec.year,
                url=spec.url,
                reference_dose_mg=Decimal(spec.reference_dose_mg),
                grade=spec.grade,
                note=spec.note,
            )
            for source_id, spec in sources.items()
        },
        drugs={name: drug(name, spec) for name, spec in drugs.items()},
        path=path,
        sha256=sha256,
    )


def _document(text: str) -> dict[str, Any]:
    return tomllib.loads(text, parse_float=Decimal)


def _same(one: EquivalenceTable, other: EquivalenceTable) -> None:
    """Equal, and written the same (a Decimal's exponent, the order of every mapping)."""
    assert one == other
    assert repr(one) == repr(other)


def test_the_bundled_table_passes_every_check_and_its_digest_is_recorded(
    request: pytest.FixtureRequest,
) -> None:
    raw = bundled_table_path().read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    document = _document(raw.decode("utf-8-sig"))
    checked = table_from_document(document, path=taper.table.BUNDLED_NAME, sha256=digest)
    _same(checked, _spec_built(document, taper.table.BUNDLED_NAME, digest))
    if request.config.getoption("--update-golden") and digest != CHECKED_SHA256:
        text = TRUSTED.read_text(encoding="utf-8")
        TRUSTED.write_text(text.replace(CHECKED_SHA256, digest), encoding="utf-8")
        pytest.skip("re-recorded the bundled table's digest: run the tests again")
    assert digest == CHECKED_SHA256, (
        "the bundled table changed and passes every check: record its digest with "
        "pytest tests/test_table_trust.py --update-golden"
    )
    _same(load_table(), checked)


@pytest.mark.parametrize("text", [TINY_TABLE, FULL_TABLE], ids=["tiny", "every-optional-key"])
def test_every_table_is_built_as_the_schema_s_structs_said(text: str) -> None:
    document = _document(text)
    _same(table_from_document(document), _spec_built(document, "<memory>", ""))


def _bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    """The bundled table with ``old`` replaced by ``new``, where taper looks for it."""
    text = bundled_table_path().read_text(encoding="utf-8")
    assert text.count(old) == 1
    copy = tmp_path / "equivalences.toml"
    copy.write_text(text.replace(old, new), encoding="utf-8")
    monkeypatch.setattr(taper.table, "bundled_table_path", lambda: copy)


#: clonazepam's equivalent under the default source (ashton), as the bundled table writes it.
CLONAZEPAM = "[drugs.clonazepam.equivalents]\nashton = 0.5\n"


@pytest.mark.parametrize(
    ("new", "key_path"),
    [
        (CLONAZEPAM.replace("0.5", "-0.5"), "drugs.clonazepam.equivalents.ashton"),
        (CLONAZEPAM.replace("0.5", '"0.5"'), "drugs.clonazepam.equivalents.ashton"),
        (CLONAZEPAM + "asthon = 0.5\n", "drugs.clonazepam.equivalents.asthon"),
        (CLONAZEPAM.replace("equivalents]", "equivalents]\nmg = 2"), "drugs.clonazepam"),
    ],
    ids=["negative", "text", "unknown-source", "unknown-key"],
)
def test_a_changed_bundled_table_is_checked_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new: str, key_path: str
) -> None:
    """Regression guard: were the bundled file trusted by its name rather than its bytes, a
    negative or textual equivalent, a misspelt source or an unknown key would be built."""
    _bundled_copy(tmp_path, monkeypatch, CLONAZEPAM, new)
    with pytest.raises(TableError, match=key_path.replace(".", r"\.")):
        load_table()


def test_a_changed_bundled_value_is_read_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bundled_copy(tmp_path, monkeypatch, CLONAZEPAM, CLONAZEPAM.replace("0.5", "0.25"))
    table = load_table()
    assert table.drugs["clonazepam"].equivalents["ashton"] == ValueRange(
        Decimal("0.25"), Decimal("0.25")
    )
    assert table.sha256 != CHECKED_SHA256


def test_a_table_given_by_path_is_always_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even a copy of the bundled bytes, or the bundled file named by its path."""
    copy = tmp_path / "copy.toml"
    copy.write_bytes(bundled_table_path().read_bytes())
    checked: list[str] = []

    def validate(document: Mapping[str, Any], path: str) -> Any:
        checked.append(path)
        return real(document, path)

    real = taper._schema.validate
    monkeypatch.setattr(taper._schema, "validate", validate)
    paths = [copy, str(copy), bundled_table_path()]
    tables = [load_table(path) for path in paths]
    assert checked == [str(path) for path in paths]
    for table in tables:
        assert table.sha256 == CHECKED_SHA256
        assert table.drugs == tables[0].drugs


def test_the_bundled_table_is_read_without_msgspec() -> None:
    """The speed this buys: no schema module, no msgspec, for the bundled table."""
    code = "import sys, taper; taper.load_table(); print('msgspec' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]
