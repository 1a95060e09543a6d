"""What a shell offers on Tab: drug names (and brand names), sources, regions, methods and
paces.

Each function takes the word being typed and returns the matching values with a few words
of help, ``[(value, help), ...]``; the command line attaches them to its arguments (see
``taper --install-completion``). Matching ignores case; in a comma list (``taper sweep
--source ashton,va``) the last item is completed and the others kept. The table is the one
``TAPER_TABLE`` names, else the bundled one; a table that cannot be read offers nothing
(completion never prints an error into the shell).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from taper.errors import TaperError
from taper.table import EquivalenceTable, load_table

Completions = list[tuple[str, str]]

#: The product sets of ``--region``.
REGIONS = {"us": "United States products", "uk": "United Kingdom products"}


def _table() -> EquivalenceTable | None:
    try:
        return load_table(os.environ.get("TAPER_TABLE") or None)
    except TaperError:
        return None


def _matching(incomplete: str, candidates: Iterable[tuple[str, str]]) -> Completions:
    """The candidates that start with the last item of ``incomplete`` (any case), each with
    the items before it."""
    head, comma, last = incomplete.rpartition(",")
    prefix = head + comma
    wanted = last.strip().casefold()
    seen: set[str] = set()
    found: Completions = []
    for value, help_text in candidates:
        if value.casefold().startswith(wanted) and value not in seen:
            seen.add(value)
            found.append((prefix + value, help_text))
    return found


def complete_drugs(incomplete: str) -> Completions:
    """Drug names, then brand and other names (``Xanax``: "alprazolam")."""
    table = _table()
    if table is None:
        return []
    names = [(drug.name, drug.drug_class) for drug in table.drugs.values()]
    brands = [(alias, drug.name) for drug in table.drugs.values() for alias in drug.aliases]
    return _matching(incomplete, [*names, *brands])


def complete_sources(incomplete: str) -> Completions:
    """Equivalence source ids, with their titles."""
    table = _table()
    if table is None:
        return []
    return _matching(incomplete, [(s.id, s.title) for s in table.sources.values()])


def complete_regions(incomplete: str) -> Completions:
    return _matching(incomplete, REGIONS.items())


def complete_methods(incomplete: str) -> Completions:
    """Taper methods (``--method``)."""
    from taper.options import Method

    words = {
        Method.PERCENT: "a fixed % of the current dose",
        Method.LINEAR: "a fixed mg cut",
        Method.BANDS: "NICE CKS fixed steps",
        Method.STEPS: "your list of doses",
        Method.OCCUPANCY: "equal steps in receptor occupancy",
    }
    return _matching(incomplete, [(method.value, words.get(method, "")) for method in Method])


def complete_paces(incomplete: str) -> Completions:
    """Named paces (``--pace``), with their sources."""
    from taper.presets import PACES

    return _matching(incomplete, [(pace.name, pace.source) for pace in PACES.values()])


#: The completion of each option whose values are names, by the option's field name (the
#: command line attaches it to the option built from the field's declaration).
COMPLETIONS = {
    "switch_to": complete_drugs,
    "finish_on": complete_drugs,
    "to": complete_drugs,
    "drug": complete_drugs,
    "source": complete_sources,
    "region": complete_regions,
    "method": complete_methods,
    "pace": complete_paces,
}
