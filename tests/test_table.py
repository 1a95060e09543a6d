from decimal import Decimal
from pathlib import Path

import pytest

from taper.errors import TableError, UnknownNameError
from taper.table import EquivalenceTable, ValueRange, bundled_table_path, load_table

from .conftest import ROOT, TINY_TABLE

# Clinical reference section 1: dose equal to diazepam 10 mg, per source, as tabulated there
# (values published per diazepam 5 mg already doubled). The data file stores values as
# published; loading must give back exactly this table.
REFERENCE_SECTION_1 = {
    "alprazolam": {
        "ashton": "0.5",
        "va-dod-2021": "1",
        "who-2009": "1",
        "pharmacists-letter-2024": "1",
        "uk-sps": "0.5",
        "medscape": ("0.5", "1"),
    },
    "chlordiazepoxide": {
        "ashton": "25",
        "va-dod-2021": "25",
        "nhs-scotland-2024": "25",
        "pharmacists-letter-2024": ("20", "50"),
        "uk-sps": "25",
        "medscape": ("10", "25"),
    },
    "clobazam": {
        "ashton": "20",
        "nhs-scotland-2024": "20",
        "who-2009": "20",
        "pharmacists-letter-2024": "20",
    },
    "clonazepam": {
        "ashton": "0.5",
        "va-dod-2021": "1",
        "nhs-scotland-2024": "0.5",
        "pharmacists-letter-2024": "0.5",
        "medscape": ("0.25", "0.5"),
    },
    "clorazepate": {
        "ashton": "15",
        "va-dod-2021": "15",
        "pharmacists-letter-2024": "15",
        "medscape": ("7.5", "15"),
    },
    "diazepam": {
        "ashton": "10",
        "va-dod-2021": "10",
        "nhs-scotland-2024": "10",
        "who-2009": "10",
        "pharmacists-letter-2024": "10",
        "uk-sps": "10",
        "medscape": ("5", "10"),
    },
    "lorazepam": {
        "ashton": "1",
        "va-dod-2021": "2",
        "nhs-scotland-2024": "1",
        "who-2009": "1",
        "medscape": ("1", "2"),
    },
    "oxazepam": {
        "ashton": "20",
        "va-dod-2021": "30",
        "nhs-scotland-2024": "20",
        "who-2009": "30",
        "medscape": ("15", "30"),
    },
    "temazepam": {
        "ashton": "20",
        "va-dod-2021": "15",
        "nhs-scotland-2024": "20",
        "who-2009": "20",
        "medscape": ("10", "20"),
    },
    "nitrazepam": {
        "ashton": "10",
        "nhs-scotland-2024": "10",
        "who-2009": "10",
        "medscape": ("2.5", "10"),
    },
    "lormetazepam": {"ashton": ("1", "2"), "nhs-scotland-2024": ("1", "2"), "who-2009": "1.5"},
    "triazolam": {
        "ashton": "0.5",
        "va-dod-2021": "0.25",
        "who-2009": "0.5",
        "medscape": ("0.25", "0.5"),
    },
    "zolpidem": {"ashton": "20", "nhs-scotland-2024": "20"},
    "zopiclone": {"ashton": "15", "nhs-scotland-2024": "15"},
    "zaleplon": {"ashton": "20"},
    "eszopiclone": {"ashton": "3"},
}


def _expected(value: str | tuple[str, str]) -> ValueRange:
    low, high = (value, value) if isinstance(value, str) else value
    return ValueRange(Decimal(low), Decimal(high))


def test_bundled_table_reproduces_the_clinical_reference(table: EquivalenceTable) -> None:
    assert set(table.drugs) == set(REFERENCE_SECTION_1)
    for name, expected in REFERENCE_SECTION_1.items():
        drug = table.drug(name)
        loaded = {
            source.id: table.equivalent(drug, source)
            for source in table.sources.values()
            if source.id in drug.equivalents
        }
        assert loaded == {source: _expected(value) for source, value in expected.items()}, name


def test_bundled_table_has_the_seven_sources_with_provenance(table: EquivalenceTable) -> None:
    assert list(table.sources) == [
        "ashton",
        "va-dod-2021",
        "nhs-scotland-2024",
        "who-2009",
        "pharmacists-letter-2024",
        "uk-sps",
        "medscape",
    ]
    rescaled = {s.id for s in table.sources.values() if table.rescale_factor(s) != 1}
    assert rescaled == {"nhs-scotland-2024", "who-2009", "pharmacists-letter-2024", "uk-sps"}
    assert all(source.title and source.author for source in table.sources.values())
    assert table.default_source == "ashton"
    assert len(table.sha256) == 64


def test_there_is_exactly_one_copy_of_the_data_in_the_repository() -> None:
    copies = [p for p in ROOT.rglob("equivalences.toml") if ".venv" not in p.parts]
    copies = [
        p for p in copies if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    ]
    assert copies == [ROOT / "equivalences.toml"]
    assert bundled_table_path().resolve() == (ROOT / "equivalences.toml").resolve()


@pytest.mark.parametrize(
    ("name", "generic"),
    [
        ("Klonopin", "clonazepam"),
        ("KLONOPIN", "clonazepam"),
        ("librium", "chlordiazepoxide"),
        ("Valium", "diazepam"),
        (" xanax ", "alprazolam"),
        ("Stilnoct", "zolpidem"),
    ],
)
def test_drugs_are_found_by_brand_names_in_any_case(
    table: EquivalenceTable, name: str, generic: str
) -> None:
    assert table.drug(name).name == generic


def test_unknown_drug_suggests_close_names(table: EquivalenceTable) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'clonazepam'") as caught:
        table.drug("clonazepan")
    assert isinstance(caught.value, LookupError)
    with pytest.raises(UnknownNameError, match="'Xanax'"):
        table.drug("xanex")
    with pytest.raises(UnknownNameError, match="taper drugs"):
        table.drug("aspirin")


def test_half_lives_and_maximum_doses_come_with_their_source(table: EquivalenceTable) -> None:
    diazepam = table.drug("diazepam")
    assert diazepam.half_life_hours["ashton"] == ValueRange(Decimal(20), Decimal(100))
    assert diazepam.metabolite_half_life_hours["nhs-scotland-2024"] == ValueRange(
        Decimal(36), Decimal(200)
    )
    assert diazepam.max_daily is not None
    assert diazepam.max_daily.mg == 40
    # The panic-disorder maximum (US label), not the 20 mg seizure dose (issue 19).
    assert table.drug("clonazepam").max_daily.mg == 4  # type: ignore[union-attr]
    assert table.drug("zaleplon").drug_class == "z-drug"
    assert table.drug("alprazolam").tall_man == "ALPRAZolam"


def test_tiny_user_table_loads(tiny_table_path: Path) -> None:
    tiny = load_table(tiny_table_path)
    assert tiny.path == str(tiny_table_path)
    assert tiny.equivalent(tiny.drug("clonazepam"), tiny.source("beta")) == ValueRange(
        Decimal("0.5"), Decimal("1.0")
    )


@pytest.mark.parametrize(
    ("old", "new", "key_path", "reason"),
    [
        (
            "alpha = 0.5\n",
            'alpha = "0.5"\n',
            "drugs.clonazepam.equivalents.alpha",
            "must be a number",
        ),
        (
            "alpha = 0.5\n",
            "alpha = -0.5\n",
            "drugs.clonazepam.equivalents.alpha",
            "greater than zero",
        ),
        ("alpha = 0.5\n", "alpha = 0\n", "drugs.clonazepam.equivalents.alpha", "greater than zero"),
        (
            "alpha = 0.5\n",
            "alpha = true\n",
            "drugs.clonazepam.equivalents.alpha",
            "must be a number",
        ),
        (
            "alpha = 0.5\n",
            "alpha = nan\n",
            "drugs.clonazepam.equivalents.alpha",
            "greater than zero",
        ),
        (
            "beta = [0.25, 0.5]",
            "beta = [0.5, 0.25]",
            "drugs.clonazepam.equivalents.beta",
            "low < high",
        ),
        (
            "beta = [0.25, 0.5]",
            "beta = [1, 2, 3]",
            "drugs.clonazepam.equivalents.beta",
            "[low, high]",
        ),
        (
            "alpha = 0.5\n",
            "gamma = 0.5\n",
            "drugs.clonazepam.equivalents.gamma",
            "unknown source id",
        ),
        (
            'aliases = ["Klonopin"]',
            'aliases = ["VALIUM"]',
            "drugs.clonazepam.aliases",
            "already used by diazepam",
        ),
        (
            'aliases = ["Klonopin"]',
            'aliases = ["Klonopin", "klonopin"]',
            "drugs.clonazepam.aliases",
            "already used",
        ),
        (
            'class = "benzodiazepine"\naliases = ["Klonopin"]',
            'class = "opioid"\naliases = ["Klonopin"]',
            "drugs.clonazepam.class",
            "allowed: benzodiazepine or z-drug",
        ),
        ('grade = "A"', 'grade = "Z"', "sources.alpha.grade", "allowed: A, B or C"),
        ('grade = "A"', 'grade = "A"\ncolour = "red"', "sources.alpha.colour", "not a key"),
        ("year = 2020", 'year = "2020"', "sources.alpha.year", "expected `int | null`, got `str`"),
        (
            'default_source = "alpha"',
            'default_source = "omega"',
            "default_source",
            "unknown source",
        ),
        ('reference_drug = "diazepam"', 'reference_drug = "valium2"', "reference_drug", "no drug"),
        (
            "schema_version = 1",
            "schema_version = 2",
            "schema_version",
            "invalid enum value 2; allowed: 1",
        ),
        ('title = "Alpha table"\n', "", "sources.alpha.title", "required"),
    ],
)
def test_schema_errors_name_the_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, reason: str
) -> None:
    assert old in TINY_TABLE
    path = tmp_path / "bad.toml"
    path.write_text(TINY_TABLE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.key_path == key_path
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}: {key_path}: ")


def test_file_level_errors_are_clear(tmp_path: Path) -> None:
    cases = {
        "syntax.toml": (b"schema_version = = 1\n", "TOML syntax error"),
        "latin1.toml": ("title = 'caf\u00e9'".encode("latin-1"), "not UTF-8"),
        "empty.toml": (b"", "required but missing"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(TableError, match=message):
            load_table(path)
    with pytest.raises(TableError, match="line 1"):
        load_table(tmp_path / "syntax.toml")
    with pytest.raises(TableError, match="cannot be read"):
        load_table(tmp_path / "missing.toml")
    with pytest.raises(TableError, match="directory"):
        load_table(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "key_path"),
    [
        ("[drugs.clonazepam]", '[drugs."=cmd"]', "drugs.=cmd"),
        ('aliases = ["Klonopin"]', 'aliases = ["=HYPERLINK(1)"]', "drugs.clonazepam.aliases"),
    ],
)
def test_names_that_a_spreadsheet_would_run_are_refused(
    tmp_path: Path, old: str, new: str, key_path: str
) -> None:
    text = TINY_TABLE.replace(old, new)
    text = (
        text.replace("[drugs.clonazepam.equivalents]", f"[{new[1:-1]}.equivalents]")
        if old.startswith("[drugs")
        else text
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.key_path == key_path


# Issue 12: products, half-lives, Tall Man lettering and duration of action, each cited.

LONG_ACTING = {
    "diazepam",
    "chlordiazepoxide",
    "clonazepam",
    "clobazam",
    "clorazepate",
    "nitrazepam",
}
SHORT_ACTING = {
    "alprazolam",
    "lorazepam",
    "oxazepam",
    "temazepam",
    "triazolam",
    "lormetazepam",
    "zolpidem",
    "zopiclone",
    "zaleplon",
    "eszopiclone",
}


def _products(table: EquivalenceTable, drug: str, region: str) -> set[tuple[str, str, str]]:
    """(form, strength, split) of a drug's products in a region; liquids as mg/volume."""
    return {
        (
            p.form,
            f"{p.strength_mg}/{p.volume_ml}" if p.volume_ml is not None else f"{p.strength_mg}",
            p.split,
        )
        for p in table.drug(drug).products_in(region)
    }


def test_every_product_names_where_its_marketing_was_confirmed(table: EquivalenceTable) -> None:
    for drug in table.drugs.values():
        for product in drug.products:
            assert product.source.strip(), f"{drug.name} {product.label()} has no source"
            if "uk" in product.regions:
                assert "UK" in product.source or "emc" in product.source, (drug.name, product)


def test_uk_products_of_issue_12(table: EquivalenceTable) -> None:
    assert _products(table, "clonazepam", "uk") == {
        ("tablet", "0.5", "none"),
        ("tablet", "1", "none"),  # emc 13634, not in the clinical reference
        ("tablet", "2", "none"),
        ("solution", "0.5/5", "none"),
        ("solution", "2/5", "none"),
    }
    assert _products(table, "lorazepam", "uk") == {
        ("tablet", "1", "none"),
        ("tablet", "2.5", "half"),
        ("solution", "1/1", "none"),
    }
    assert _products(table, "oxazepam", "uk") == {
        ("tablet", "10", "none"),
        ("tablet", "15", "none"),
    }
    assert _products(table, "temazepam", "uk") == {
        ("tablet", "10", "none"),
        ("tablet", "20", "none"),
        ("solution", "10/5", "none"),
    }
    assert _products(table, "nitrazepam", "uk") == {
        ("tablet", "5", "none"),
        ("suspension", "2.5/5", "none"),
    }
    # The UK diazepam liquid is 2 mg/5 mL; the US 5 mg/5 mL liquids are not UK products.
    assert {p for p in _products(table, "diazepam", "uk") if p[0] == "solution"} == {
        ("solution", "2/5", "none")
    }
    for drug in ("lorazepam", "temazepam", "nitrazepam", "diazepam"):
        for product in table.drug(drug).products_in("uk"):
            if product.is_liquid:
                assert product.min_volume_ml == Decimal("0.1")


def test_us_products_of_issue_12(table: EquivalenceTable) -> None:
    assert _products(table, "oxazepam", "us") == {
        ("capsule", "10", "none"),
        ("capsule", "15", "none"),
        ("capsule", "30", "none"),
    }
    assert _products(table, "temazepam", "us") == {
        ("capsule", "7.5", "none"),
        ("capsule", "15", "none"),
        ("capsule", "22.5", "none"),
        ("capsule", "30", "none"),
    }
    assert _products(table, "nitrazepam", "us") == set()  # not marketed in the US


def test_half_lives_the_reference_lacked_are_cited(table: EquivalenceTable) -> None:
    assert table.drug("clobazam").half_life_hours == {
        "nhs-scotland-2024": ValueRange(Decimal(12), Decimal(60))
    }
    assert table.drug("lormetazepam").half_life_hours == {
        "nhs-scotland-2024": ValueRange(Decimal(10), Decimal(12))
    }
    assert table.drug("clorazepate").half_life_hours == {
        "medscape": ValueRange(Decimal(100), Decimal(100))
    }
    assert table.drug("triazolam").half_life_hours == {
        "medscape": ValueRange(Decimal(2), Decimal(2))
    }
    # Medscape does not say whether its 100 h is the parent's or the metabolite's: the
    # source says so rather than the value being moved.
    assert "active metabolite" in table.source("medscape").note


def test_tall_man_lettering_follows_the_ismp_list(table: EquivalenceTable) -> None:
    lettered = {name: drug.tall_man for name, drug in table.drugs.items() if drug.tall_man}
    assert lettered == {
        "alprazolam": "ALPRAZolam",
        "chlordiazepoxide": "chlordiazePOXIDE",
        "clobazam": "cloBAZam",
        "clonazepam": "clonazePAM",
        "diazepam": "diazePAM",
        "lorazepam": "LORazepam",
    }
    for name, tall_man in lettered.items():
        assert tall_man.casefold() == name.casefold()


def test_every_drug_says_how_long_acting_it_is_and_why(table: EquivalenceTable) -> None:
    assert {name for name, drug in table.drugs.items() if drug.acting == "long"} == LONG_ACTING
    assert {name for name, drug in table.drugs.items() if drug.acting == "short"} == SHORT_ACTING
    for drug in table.drugs.values():
        assert drug.acting_source.strip(), drug.name


def test_largest_single_doses_are_the_labels(table: EquivalenceTable) -> None:
    singles = {
        name: drug.max_daily.single_mg
        for name, drug in table.drugs.items()
        if drug.max_daily is not None and drug.max_daily.single_mg is not None
    }
    # Diazepam's "2 to 10 mg" is the US label's usual range, not a maximum (issue 19).
    assert singles == {"chlordiazepoxide": 25, "oxazepam": 30}
    for drug in table.drugs.values():
        if drug.max_daily is not None:
            assert drug.max_daily.source.strip()
    # The taper's ceiling is the anxiety maximum, the indication of the 25 mg single dose
    # (alcohol withdrawal's 300 mg a day is named in the note).
    chlordiazepoxide = table.drug("chlordiazepoxide").max_daily
    assert chlordiazepoxide is not None
    assert chlordiazepoxide.mg == 100
    assert "300 mg" in chlordiazepoxide.note
    lorazepam = table.drug("lorazepam").max_daily
    assert lorazepam is not None
    assert lorazepam.mg == 10  # US label
    assert "UK SmPCs: at most 4 mg a day" in lorazepam.note


@pytest.mark.parametrize(
    ("old", "new", "key_path", "reason"),
    [
        (
            'aliases = ["Klonopin"]',
            'aliases = ["Klonopin"]\ntall_man = "clonazePAMM"',
            "drugs.clonazepam.tall_man",
            "does not spell 'clonazepam'",
        ),
        (
            'aliases = ["Klonopin"]',
            'aliases = ["Klonopin"]\nacting = "long"',
            "drugs.clonazepam.acting_source",
            "needs its source",
        ),
        (
            'aliases = ["Klonopin"]',
            'aliases = ["Klonopin"]\n'
            '[drugs.clonazepam.max_daily]\nmg = 4\nsingle_mg = 5\nnote = "x"\nsource = "y"',
            "drugs.clonazepam.max_daily.single_mg",
            "larger than the daily maximum",
        ),
    ],
)
def test_new_fields_are_checked(
    tmp_path: Path, old: str, new: str, key_path: str, reason: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(TINY_TABLE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.key_path == key_path
    assert reason in caught.value.reason
