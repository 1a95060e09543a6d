from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taper.convert import convert_dose
from taper.errors import (
    HighDoseError,
    InvalidRequestError,
    NoEquivalenceError,
    UnknownNameError,
)
from taper.table import EquivalenceTable


def test_clonazepam_to_diazepam_under_each_source(table: EquivalenceTable) -> None:
    conversion = convert_dose([("clonazepam", "1.5mg")], "diazepam", table=table)
    assert conversion.chosen.source.id == "ashton"
    assert (conversion.chosen.low_mg, conversion.chosen.high_mg) == (30, 30)
    by_source = {r.source.id: r for r in conversion.results}
    assert by_source["va-dod-2021"].text() == "15 mg"
    assert by_source["nhs-scotland-2024"].text() == "30 mg"
    # Medscape: clonazepam 0.25-0.5 mg and diazepam 5-10 mg, combined end to end.
    assert by_source["medscape"].text() == "15 to 60 mg"
    assert by_source["who-2009"].missing == ("clonazepam",)
    assert conversion.spread is not None
    assert (
        conversion.spread.fold == 2
    )  # the single values 15 and 30 mg; Medscape's range holds them
    assert any("disagree 2-fold" in w.message for w in conversion.warnings)
    assert conversion.disagreement is not None
    assert "va-dod-2021 15 mg (half this)" in conversion.disagreement
    assert "Same with nhs-scotland-2024, pharmacists-letter-2024" in conversion.disagreement


def test_chosen_source_is_used(table: EquivalenceTable) -> None:
    conversion = convert_dose(
        [("clonazepam", "1.5mg")], "diazepam", source="va-dod-2021", table=table
    )
    assert conversion.chosen.text() == "15 mg"
    assert "ashton 30 mg (twice this)" in (conversion.disagreement or "")


def test_several_current_drugs_are_summed(table: EquivalenceTable) -> None:
    conversion = convert_dose(
        [("clonazepam", "1mg"), ("alprazolam", "0.5mg")], "diazepam", table=table
    )
    assert conversion.chosen.text() == "30 mg"  # 20 mg + 10 mg (Ashton)
    by_source = {r.source.id: r for r in conversion.results}
    assert by_source["va-dod-2021"].text() == "15 mg"  # 10 mg + 5 mg


def test_brand_names_and_micrograms(table: EquivalenceTable) -> None:
    conversion = convert_dose([("Klonopin", "500mcg")], "Librium", table=table)
    assert conversion.target.name == "chlordiazepoxide"
    assert conversion.chosen.text() == "25 mg"


def test_ranges_are_shown_never_a_midpoint(table: EquivalenceTable) -> None:
    conversion = convert_dose(
        [("chlordiazepoxide", "25mg")], "diazepam", source="pharmacists-letter-2024", table=table
    )
    assert conversion.chosen.is_range
    assert conversion.chosen.text() == "5 to 12.5 mg"


def test_inexact_results_say_about(table: EquivalenceTable) -> None:
    conversion = convert_dose(
        [("lorazepam", "1mg")], "clorazepate", source="va-dod-2021", table=table
    )
    assert conversion.chosen.low_mg == Decimal("7.5")
    assert conversion.chosen.is_exact
    conversion = convert_dose([("oxazepam", "10mg")], "lorazepam", source="who-2009", table=table)
    assert conversion.chosen.low_mg == Decimal("0.333")  # 1/3, rounded to 0.001 mg
    assert conversion.chosen.text() == "about 0.333 mg"
    assert not conversion.chosen.is_exact


def test_converting_a_drug_to_itself_is_the_identity(table: EquivalenceTable) -> None:
    conversion = convert_dose([("zaleplon", "10mg")], "zaleplon", source="va-dod-2021", table=table)
    assert {(r.low_mg, r.high_mg) for r in conversion.results} == {(10, 10)}
    assert conversion.spread is not None
    assert conversion.spread.fold == 1
    assert conversion.disagreement is None


def test_a_source_without_a_value_names_the_sources_that_have_one(table: EquivalenceTable) -> None:
    with pytest.raises(
        NoEquivalenceError,
        match="sources that do: ashton, nhs-scotland-2024, who-2009, pharmacists-letter-2024",
    ):
        convert_dose([("clobazam", "10mg")], "diazepam", source="va-dod-2021", table=table)


def test_doses_above_the_usual_maximum_need_a_deliberate_override(table: EquivalenceTable) -> None:
    # Clonazepam's maximum is the panic-disorder 4 mg a day (issue 19), no longer 20 mg.
    with pytest.raises(HighDoseError, match="above the usual maximum of 4 mg") as caught:
        convert_dose([("clonazepam", "25mg")], "diazepam", table=table)
    assert "allow_high_dose=True" in str(caught.value)
    conversion = convert_dose(
        [("clonazepam", "25mg")], "diazepam", table=table, allow_high_dose=True
    )
    assert any("above the usual maximum of 4 mg" in w.message for w in conversion.warnings)
    # The result (500 mg diazepam) is far above diazepam's usual maximum: said too.
    assert any(
        "above the usual maximum of 40 mg diazepam" in w.message for w in conversion.warnings
    )


def test_bad_requests(table: EquivalenceTable) -> None:
    with pytest.raises(InvalidRequestError, match="at least one"):
        convert_dose([], "diazepam", table=table)
    with pytest.raises(InvalidRequestError, match="given twice"):
        convert_dose([("clonazepam", "1mg"), ("Klonopin", "1mg")], "diazepam", table=table)
    with pytest.raises(UnknownNameError, match="unknown drug"):
        convert_dose([("clonazepam", "1mg")], "coffee", table=table)
    with pytest.raises(UnknownNameError, match="unknown source"):
        convert_dose([("clonazepam", "1mg")], "diazepam", source="nice", table=table)
    with pytest.raises(InvalidRequestError, match="greater than zero"):
        convert_dose([("clonazepam", Decimal(0))], "diazepam", table=table)


def test_drug_notes_travel_with_the_conversion(table: EquivalenceTable) -> None:
    conversion = convert_dose([("eszopiclone", "3mg")], "diazepam", table=table)
    assert any("grade C" in w.message for w in conversion.warnings)


POINT_SOURCES = ["ashton", "va-dod-2021", "nhs-scotland-2024", "who-2009"]
doses = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5), places=3)


def _pairs_under(table: EquivalenceTable, source: str) -> list[tuple[str, str]]:
    names = [
        n
        for n, d in table.drugs.items()
        if source in d.equivalents and d.equivalents[source].is_point
    ]
    return [(a, b) for a in names for b in names]


@given(data=st.data(), dose=doses, source=st.sampled_from(POINT_SOURCES))
def test_a_to_b_to_a_returns_the_original_dose_exactly(
    table: EquivalenceTable, data: st.DataObject, dose: Decimal, source: str
) -> None:
    first, second = data.draw(st.sampled_from(_pairs_under(table, source)))
    there = convert_dose([(first, dose)], second, source=source, table=table, allow_high_dose=True)
    assert there.chosen.low_mg is not None
    back_factor = convert_dose(
        [(second, Decimal(1))], first, source=source, table=table, allow_high_dose=True
    )
    assert back_factor.chosen.low_mg is not None
    product = there.chosen.low_mg * back_factor.chosen.low_mg
    if there.chosen.is_exact and back_factor.chosen.is_exact:
        assert product == dose
    else:  # each was rounded to 0.001 mg: the error is at most what that rounding allows
        half = Decimal("0.0005")
        bound = half * (there.chosen.low_mg + back_factor.chosen.low_mg) + half * half
        assert abs(product - dose) <= bound


@given(
    data=st.data(),
    dose=doses,
    factor=st.integers(min_value=1, max_value=8),
    source=st.sampled_from([*POINT_SOURCES, "medscape", "pharmacists-letter-2024"]),
)
def test_conversion_is_linear_in_the_dose(
    table: EquivalenceTable, data: st.DataObject, dose: Decimal, factor: int, source: str
) -> None:
    names = [n for n, d in table.drugs.items() if source in d.equivalents]
    first = data.draw(st.sampled_from(names))
    second = data.draw(st.sampled_from(names))
    one = convert_dose([(first, dose)], second, source=source, table=table, allow_high_dose=True)
    many = convert_dose(
        [(first, dose * factor)], second, source=source, table=table, allow_high_dose=True
    )
    assert one.chosen.low_mg is not None
    assert one.chosen.high_mg is not None
    if one.chosen.is_exact:
        assert many.chosen.low_mg == one.chosen.low_mg * factor
        assert many.chosen.high_mg == one.chosen.high_mg * factor
    else:  # rounded to 0.001 mg each: linear within that rounding
        bound = Decimal("0.0005") * (factor + 1)
        assert abs(many.chosen.low_mg - one.chosen.low_mg * factor) <= bound
        assert abs(many.chosen.high_mg - one.chosen.high_mg * factor) <= bound


def test_several_drugs_show_each_drugs_part(run: Any) -> None:
    """Regression: convert with several drugs showed only the sum."""
    result = run("convert", "clonazepam", "1mg", "alprazolam", "1mg", "--to", "diazepam")
    assert result.exit_status == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "clonazepam 1 mg → 20 mg diazepam (by ashton)" in out
    assert "alprazolam 1 mg → 20 mg diazepam (by ashton)" in out


def test_grades_are_explained_and_agreement_is_said_in_words(run: Any) -> None:
    """Regression: grades A/B had no legend; "15 mg (1-fold)" for sources that agree."""
    result = run("convert", "diazepam", "15mg", "--to", "diazepam", "--all-sources")
    out = " ".join(result.stdout.split())
    assert "Grade: A = a guideline, regulator or label; B = a professional secondary source" in out
    assert "(all 7 sources with a value agree)" in out
    assert "1-fold" not in out


def test_medscapes_paired_range_ends_made_chlordiazepoxide_disagree_5_fold(
    table: EquivalenceTable,
) -> None:
    """Regression: "sources disagree 5-fold" for chlordiazepoxide 25 mg, where four sources
    give 10 mg and the 5-fold was Medscape's low end over its high end."""
    conversion = convert_dose("chlordiazepoxide", "25mg", "diazepam", table=table)
    assert conversion.spread is not None
    assert conversion.spread.fold == 1
    assert not any(w.kind == "source-spread" for w in conversion.warnings)
    # A range that contains the value is no agreement (a pharmacist's review): say which agree.
    assert conversion.spread.agreement() == (
        "the 4 single values agree; the ranges of pharmacists-letter-2024, medscape include "
        "that value; 1 has none"
    )


def test_zolpidem_said_all_sources_agree_when_five_of_seven_had_no_value(
    table: EquivalenceTable,
) -> None:
    conversion = convert_dose("zolpidem", "10mg", "diazepam", table=table)
    assert conversion.spread is not None
    assert conversion.spread.agreement() == "both sources with a value agree; 5 have none"


def test_ranges_alone_are_compared_at_their_midpoints_and_say_so(
    table: EquivalenceTable,
) -> None:
    # lormetazepam: only ranges (Ashton, NHS Scotland), no two single values.
    conversion = convert_dose("lormetazepam", "1mg", "diazepam", table=table)
    assert conversion.spread is not None
    assert conversion.spread.range_basis == "midpoint"
    assert conversion.spread.basis() == "ashton, nhs-scotland-2024: a range, taken at its midpoint"


def test_a_midpoint_taken_for_a_spread_is_said_on_the_command_line(run: Any) -> None:
    """lormetazepam 1 mg under sources that all give ranges showed "6.667 to 7.5 mg
    (1.125-fold)", a midpoint said only in the JSON (a pharmacist's review)."""
    result = run("convert", "lormetazepam", "1mg", "--to", "diazepam", "--all-sources")
    assert "taken at its midpoint" in " ".join(result.stdout.split())
