"""Named paces (``pace="ashton"``, ``--pace ashton``): published methods, each with its source.

A pace sets the options its source fixes (method, rate, interval, order of dose times, the
crossover style and the stabilisation); options given explicitly override it, and the plan
says so. A pace whose source covers only some drugs is refused for the others. The figures
come from the project's clinical reference (``shared/reference/clinical.md``), sections 4,
8 and 9; what could not be confirmed is said in ``docs/presets.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from taper.errors import InvalidRequestError
from taper.params import SLOTS

ASHTON_MANUAL = (
    "C. H. Ashton, Benzodiazepines: How They Work and How to Withdraw (the Ashton Manual), "
    "2002, chapter II and its withdrawal schedules, https://www.benzo.org.uk/manual/"
)
CKS = (
    "NICE Clinical Knowledge Summaries, Benzodiazepine and z-drug withdrawal (adapted from "
    "the Ashton Manual), as reproduced in https://docslib.org/doc/8834537"
)
CLONAZEPAM_LABEL = (
    "US clonazepam (Klonopin) prescribing information: decrease by 0.125 mg twice daily "
    "every 3 days (panic disorder)"
)
JOINT = (
    "2025 Joint Clinical Practice Guideline on Benzodiazepine Tapering: 5-10% every 2-4 "
    "weeks, generally not more than 25% every 2 weeks, "
    "https://eguideline.guidelinecentral.com/i/1532950-benzodiazepine-tapering/7"
)
DEPRESCRIBING = (
    "deprescribing.org benzodiazepine receptor agonist algorithm (Pottie et al., Can Fam "
    "Physician 2018): '25% every 2 weeks, and if possible, 12.5% reductions near end', "
    "offered to adults 65 and over"
)


@dataclass(frozen=True)
class Pace:
    """A published method: the options it sets (as ``ScheduleOptions`` text) and its source."""

    name: str
    summary: str
    source: str
    #: The options the pace sets, by ``ScheduleOptions`` field name.
    sets: Mapping[str, str]
    #: The drugs the source covers (the drug tapered), or None for every drug.
    drugs: tuple[str, ...] | None = None
    #: What the source does not cover, in words, for the refusal.
    covers: str = ""
    #: Options the pace works out from the dose tapered (the Ashton diazepam steps replace
    #: the method and rate it sets): any of them given overrides the pace.
    derived: frozenset[str] = frozenset()


PACES: dict[str, Pace] = {
    pace.name: pace
    for pace in (
        Pace(
            "ashton",
            "the Ashton Manual: switch one dose time at a time, night first, then morning, "
            "then midday, in halves of a large dose time, cutting about 10 mg diazepam "
            "equivalent a week during the crossover above 40 mg; no stabilisation; then "
            "diazepam 2 mg less from the daytime doses, then 1 mg less from the night dose, "
            "every 2 weeks (other drugs: about a tenth every 2 weeks)",
            ASHTON_MANUAL,
            {
                "method": "percent",
                "rate": "10%",
                "every": "2w",
                # Daytime first for diazepam and other long-acting drugs; a short-acting one
                # tapered directly keeps its dose times (inter-dose withdrawal).
                "order": "auto",
                "crossover": "ashton",
                "stabilize": "0",
            },
            derived=frozenset({"method", "rate", "steps"}),
        ),
        Pace(
            "cks",
            "NICE CKS fixed-step bands through diazepam (2-4, 1-2, 1 and 0.5-1 mg), every 2 weeks",
            CKS,
            {"method": "bands", "every": "2w", "order": "daytime-first"},
            drugs=("diazepam",),
            covers="diazepam (taper diazepam, or switch to it with --switch-to diazepam)",
        ),
        Pace(
            "label",
            "the clonazepam label: 0.125 mg twice daily less (0.25 mg a day) every 3 days",
            CLONAZEPAM_LABEL,
            {
                "method": "linear",
                "step": "0.25mg",
                "every": "3d",
                "order": "even",
            },
            drugs=("clonazepam",),
            covers="clonazepam only",
            # The label's last dose, 0.125 mg twice daily, as the final dose (see
            # taper.substitution.paced): a final dose given overrides it.
            derived=frozenset({"final"}),
        ),
        Pace(
            "joint-slow",
            "the 2025 Joint Guideline's slow end: 5% of the current dose every 4 weeks",
            JOINT,
            {"method": "percent", "rate": "5%", "every": "4w"},
        ),
        Pace(
            "joint-moderate",
            "the 2025 Joint Guideline's faster end: 10% of the current dose every 2 weeks",
            JOINT,
            {"method": "percent", "rate": "10%", "every": "2w"},
        ),
        Pace(
            "deprescribing",
            "deprescribing.org for older adults: 25% every 2 weeks, 12.5% steps once the "
            "dose is a quarter of the start or less",
            DEPRESCRIBING,
            {"method": "percent", "rate": "25%", "every": "2w", "slow_rate": "12.5%"},
        ),
    )
}

#: The fraction of the starting daily dose below which deprescribing.org's 12.5% steps
#: apply: the algorithm says "near end" without a figure; a quarter is this tool's choice.
DEPRESCRIBING_NEAR_END = Decimal("0.25")


#: The clonazepam label's last daily dose before stopping: 0.125 mg twice daily.
LABEL_LAST_DOSE_MG = Decimal("0.25")


def find_pace(name: str) -> Pace:
    """The pace called ``name`` (an error naming the known paces otherwise)."""
    key = name.strip().lower()
    if key not in PACES:
        raise InvalidRequestError(f"unknown pace {name!r}; use {', '.join(PACES)}")
    return PACES[key]


def check_pace_covers(pace: Pace, tapered: str) -> None:
    """Refuse a pace for a drug its source does not cover (``tapered``: the drug tapered,
    the new one after a switch)."""
    if pace.drugs is not None and tapered not in pace.drugs:
        raise InvalidRequestError(
            f"pace={pace.name!r} covers {pace.covers}, not {tapered}: its source does not "
            "give a pace for it; choose another pace"
        )


def ashton_diazepam_steps(regimen: Mapping[str, Decimal]) -> tuple[Decimal, ...]:
    """The daily totals of the Ashton Manual's diazepam phase from ``regimen``: 2 mg less
    a step while there are daytime doses (clinical reference section 9: "about 2 mg of
    diazepam every 1-2 weeks from daytime doses first"), then 1 mg less from the night dose,
    down to 1 mg (the plan's clinical end stops from there)."""
    night = regimen.get("night", Decimal(0)) + regimen.get("evening", Decimal(0))
    if not night and regimen:  # no night dose: the last dose time of the day stands for it
        night = regimen[[slot for slot in SLOTS if slot in regimen][-1]]
    total = sum(regimen.values(), Decimal(0))
    steps: list[Decimal] = []
    while total > night:
        total = max(total - 2, night)
        steps.append(total)
    while total > 1:
        total -= 1
        steps.append(total)
    return tuple(step for step in steps if step > 0)
