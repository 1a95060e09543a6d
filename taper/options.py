"""The options of a schedule, declared once, and the request they resolve into.

:class:`ScheduleOptions` holds the options as people give them (``rate="10%"``,
``every="2w"``): the ``taper schedule`` command builds one from its parameters, a batch
scenario row converts into one, and :func:`taper.plan_taper` takes its fields as keyword
arguments. :func:`resolve_request` parses them, once, into a :class:`TaperRequest`: exact,
typed and normalised, which with the equivalence table reproduces a plan exactly and is
written into every output as its provenance.

Adding an option means: a field of :class:`ScheduleOptions` carrying its :class:`OptionSpec`
(flag, placeholder, help panel, help, and the kind of value it takes), and its parsing in
:func:`resolve_request`. The ``schedule`` command's parameters, the batch columns and the
Python API are all built from the fields; the documentation's CLI reference is regenerated
from the command's help.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, make_dataclass, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from taper.doses import parse_dose
from taper.errors import InvalidRequestError
from taper.formatting import format_dose, format_number
from taper.guardrails import PatientFactors, parse_duration_of_use
from taper.params import (
    Hold,
    Region,
    parse_choice,
    parse_date,
    parse_days,
    parse_dose_list,
    parse_hold,
    parse_percent,
    parse_positive_number,
)
from taper.presets import Pace, check_pace_covers, find_pace
from taper.readonly import ReadOnlyMappings, read_only
from taper.values import OptionSpec, Value, option_specs, option_value


class Method(StrEnum):
    PERCENT = "percent"
    LINEAR = "linear"
    BANDS = "bands"
    STEPS = "steps"
    OCCUPANCY = "occupancy"


class Order(StrEnum):
    #: By the drug: daytime-first for long-acting drugs, even for short-acting ones.
    AUTO = "auto"
    DAYTIME_FIRST = "daytime-first"
    EVEN = "even"
    NIGHT_FIRST = "night-first"


class End(StrEnum):
    #: Stop from about 1 mg diazepam equivalent, fixed steps below 10 mg (NICE CKS).
    CLINICAL = "clinical"
    #: Percent cuts down to the smallest dose the products make (hyperbolic school).
    MICRO = "micro"


class Crossover(StrEnum):
    SLOT = "slot"
    PARTIAL = "partial"
    DIRECT = "direct"
    #: The Ashton Manual's: night, then morning, then midday; large dose times in halves;
    #: above 40 mg diazepam equivalent, the old drug cut as it is replaced.
    ASHTON = "ashton"


#: The help panels of ``taper schedule``, in the order they are listed.
REGIMEN, PACE, PRODUCTS, SWITCH, PATIENT = "Regimen", "Pace", "Products", "Switch", "Patient"


@dataclass(frozen=True, kw_only=True)
class ScheduleOptions:
    """Every option of a schedule besides the current drugs and doses, as people give them.

    The field names are the keyword arguments of :func:`taper.plan_taper`, the parameters
    of the ``taper schedule`` command and the columns of a batch scenario file. Each field's
    :class:`OptionSpec` declares how it is given everywhere: its flag, placeholder, help
    panel and help, and the kind of value (:class:`~taper.values.Value`) that says which
    Python values it also takes (``rate=10``, ``every=timedelta(weeks=2)``,
    ``start=date(2027, 1, 4)``, ``step=0.125``). Adding an option is one field here and its
    parsing in :func:`resolve_request`.
    """

    times: Annotated[
        int | None,
        OptionSpec(Value.INT, "--times", REGIMEN, "Split a daily total over 1-4 usual dose times.",
                   "N", minimum=1, maximum=4),
    ] = None  # fmt: skip
    pace: Annotated[
        str | None,
        OptionSpec(Value.TEXT, "--pace", PACE,
                   "A published method by name: ashton, cks, label (clonazepam), joint-slow, "
                   "joint-moderate, deprescribing; options given override it (docs/presets.md).",
                   "NAME"),
    ] = None  # fmt: skip
    #: None: the default ("percent"), or the pace's.
    method: Annotated[
        str | None,
        OptionSpec(
            Value.TEXT, "--method", PACE,
            "percent (exponential: a fixed % of the current dose), linear (fixed mg), bands "
            "(NICE CKS fixed steps), steps (your list), occupancy (equal steps in receptor "
            "occupancy; needs --ed50, for which no published benzodiazepine value exists).",
            "METHOD", short="-m", choices=Method, show_default=False,
        ),
    ] = None  # fmt: skip
    rate: Annotated[
        str | None,
        OptionSpec(Value.PERCENT, "--rate", PACE,
                   "percent: cut per interval (default 10%; 5% --cautious).", "PERCENT",
                   short="-r"),
    ] = None  # fmt: skip
    every: Annotated[
        str | None,
        OptionSpec(Value.DAYS, "--every", PACE, "Interval between cuts: '14d', '2w' (default 2w).",
                   "INTERVAL", short="-e"),
    ] = None  # fmt: skip
    step: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--step", PACE, "linear: mg cut per interval, e.g. 0.125mg.",
                   "DOSE"),
    ] = None  # fmt: skip
    steps: Annotated[
        str | None,
        OptionSpec(Value.DOSES, "--steps", PACE,
                   "steps: daily doses in order, e.g. '0.75mg,0.5mg,0.25mg'.", "DOSES"),
    ] = None  # fmt: skip
    slow_below: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--slow-below", PACE, "Use --slow-rate at or below this dose.",
                   "DOSE"),
    ] = None  # fmt: skip
    slow_rate: Annotated[
        str | None,
        OptionSpec(Value.PERCENT, "--slow-rate", PACE, "percent: cut per interval at low doses.",
                   "PERCENT"),
    ] = None  # fmt: skip
    final: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--final", PACE, "Stop after this daily dose (default: see --end).",
                   "DOSE"),
    ] = None  # fmt: skip
    end: Annotated[
        str,
        OptionSpec(
            Value.TEXT, "--end", PACE,
            "clinical: stop from about 1 mg diazepam equivalent (or the smallest dose the "
            "products make), in fixed steps below 10 mg diazepam equivalent (NICE CKS, NHS "
            "Scotland); micro: percent cuts down to the smallest dose the products make, e.g. "
            "with a liquid (hyperbolic tapering, Maudsley Deprescribing Guidelines): much "
            "longer plans.",
            "END", choices=End,
        ),
    ] = "clinical"  # fmt: skip
    holds: Annotated[
        tuple[str, ...],
        OptionSpec(Value.LIST, "--hold", PACE,
                   "Stay longer at a dose: 'after-step:3:2w', 'every:3:2w', 'at:0.5mg:4w'. "
                   "Repeatable.", "HOLD"),
    ] = ()  # fmt: skip
    order: Annotated[
        str | None,
        OptionSpec(
            Value.TEXT, "--order", PACE,
            "Which dose times go down first: auto (daytime-first for long-acting drugs, even "
            "for short-acting ones), daytime-first (one dose time at a time: midday, then "
            "morning, then night; Ashton, NHS Scotland), even (largest dose first, keeping "
            "every dose time), night-first.",
            "ORDER", choices=Order, show_default=False,
        ),
    ] = None  # fmt: skip
    start: Annotated[
        str | None,
        OptionSpec(Value.DATE, "--start", PACE,
                   "First day, YYYY-MM-DD (default: today, as the output says).", "DATE"),
    ] = None  # fmt: skip
    until: Annotated[
        str | None,
        OptionSpec(Value.DATE, "--until", PACE, "Find the pace that stops by this date.", "DATE"),
    ] = None  # fmt: skip
    duration: Annotated[
        str | None,
        OptionSpec(Value.DAYS, "--duration", PACE, "Find the pace that stops within e.g. 26w.",
                   "DURATION"),
    ] = None  # fmt: skip
    region: Annotated[
        str,
        OptionSpec(Value.TEXT, "--region", PRODUCTS,
                   "Product set: us or uk (any case; default from TAPER_REGION, else us).",
                   "REGION", choices=Region, envvar="TAPER_REGION"),
    ] = "us"  # fmt: skip
    products: Annotated[
        tuple[str, ...],
        OptionSpec(Value.LIST, "--product", PRODUCTS,
                   "Use these products instead of the region's, e.g. '0.5mg tablet scored', "
                   "'0.125mg odt', '0.5mg/5mL solution'. Repeatable.", "PRODUCT"),
    ] = ()  # fmt: skip
    source: Annotated[
        str | None,
        OptionSpec(Value.TEXT, "--source", REGIMEN,
                   "Equivalence source id (see 'taper sources'). Default: the table's default, "
                   "ashton.", "SOURCE", short="-s", show_default=False),
    ] = None  # fmt: skip
    ed50: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--ed50", PACE, "occupancy: dose giving half of Emax (cite it).",
                   "DOSE"),
    ] = None  # fmt: skip
    emax: Annotated[
        str,
        OptionSpec(Value.NUMBER, "--emax", PACE, "occupancy: maximum occupancy, %.", "PERCENT"),
    ] = "100"  # fmt: skip
    occupancy_step: Annotated[
        str,
        OptionSpec(Value.NUMBER, "--occupancy-step", PACE,
                   "occupancy: points of occupancy per step.", "POINTS"),
    ] = "5"  # fmt: skip
    supply: Annotated[
        str | None,
        OptionSpec(Value.DAYS, "--supply", PRODUCTS,
                   "Also count what to dispense per period, e.g. 28d.", "INTERVAL"),
    ] = None  # fmt: skip
    switch_to: Annotated[
        str | None,
        OptionSpec(Value.TEXT, "--switch-to", SWITCH,
                   "Cross over to this drug (e.g. diazepam, chlordiazepoxide, clonazepam) before "
                   "tapering it.", "DRUG"),
    ] = None  # fmt: skip
    finish_on: Annotated[
        str | None,
        OptionSpec(Value.TEXT, "--finish-on", SWITCH,
                   "Taper the current drug while its products keep the pace (or to "
                   "--finish-from), then cross over to this drug (e.g. diazepam) and finish on "
                   "it (Ashton Manual).", "DRUG"),
    ] = None  # fmt: skip
    finish_from: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--finish-from", SWITCH,
                   "With --finish-on: the daily dose at which to cross over.", "DOSE"),
    ] = None  # fmt: skip
    switch_reduction: Annotated[
        str | None,
        OptionSpec(Value.PERCENT, "--switch-reduction", SWITCH,
                   "Start the new drug this much below the full equivalent, e.g. 25% "
                   "(incomplete cross-tolerance, e.g. in older people).", "PERCENT"),
    ] = None  # fmt: skip
    crossover: Annotated[
        str | None,
        OptionSpec(Value.TEXT, "--crossover", SWITCH,
                   "slot: one whole dose time per stage, night first; partial: --part of one "
                   "dose time per stage; direct: everything at once; ashton: night, morning, "
                   "midday, large dose times in halves, cutting above 40 mg diazepam "
                   "equivalent (default slot).", "STRATEGY", choices=Crossover,
                   show_default=False),
    ] = None  # fmt: skip
    #: None: 1 week, or 2 weeks where a switch reduction needs it.
    stage: Annotated[
        str | None,
        OptionSpec(Value.DAYS, "--stage", SWITCH,
                   "Length of a crossover stage (default 1w; 2w where a --switch-reduction "
                   "would otherwise cut more than 25% in 2 weeks).", "INTERVAL"),
    ] = None  # fmt: skip
    stabilize: Annotated[
        str | None,
        OptionSpec(Value.DAYS, "--stabilize", SWITCH,
                   "Time on the new drug before the taper (0 allowed; default 2w).", "INTERVAL"),
    ] = None  # fmt: skip
    part: Annotated[
        str | None,
        OptionSpec(Value.DOSE, "--part", SWITCH,
                   "partial: mg of the current drug switched per stage (default: half).", "DOSE"),
    ] = None  # fmt: skip
    used_for: Annotated[
        str | None,
        OptionSpec(Value.DURATION_OF_USE, "--used-for", PATIENT,
                   "How long the drug has been used: '10d', '6w', '18m', '2y'.", "DURATION"),
    ] = None  # fmt: skip
    days_per_week: Annotated[
        int | None,
        OptionSpec(Value.INT, "--days-per-week", PATIENT, "Days a week it is taken (1-7).", "DAYS"),
    ] = None  # fmt: skip
    age: Annotated[
        int | None,
        OptionSpec(Value.INT, "--age", PATIENT, "The patient's age in years.", "YEARS"),
    ] = None  # fmt: skip
    seizures: Annotated[
        bool,
        OptionSpec(Value.BOOL, "--seizures", PATIENT, "The patient has a history of seizures."),
    ] = False  # fmt: skip
    with_opioids: Annotated[
        bool, OptionSpec(Value.BOOL, "--with-opioids", PATIENT, "Taken together with opioids.")
    ] = False
    with_alcohol: Annotated[
        bool, OptionSpec(Value.BOOL, "--with-alcohol", PATIENT, "Taken together with alcohol.")
    ] = False
    liver_impairment: Annotated[
        bool, OptionSpec(Value.BOOL, "--liver", PATIENT, "The patient has liver impairment.")
    ] = False
    cautious: Annotated[
        bool,
        OptionSpec(Value.BOOL, "--cautious", PACE,
                   "Slower defaults: 5% every 2 weeks and a 2-week hold after every third cut."),
    ] = False  # fmt: skip
    allow_high_dose: Annotated[
        bool,
        OptionSpec(Value.BOOL, "--allow-high-dose", REGIMEN,
                   "Accept doses above the usual maximum."),
    ] = False  # fmt: skip


#: How each schedule option is given (flag, help, panel, value), by field name.
OPTION_SPECS: dict[str, OptionSpec] = option_specs(ScheduleOptions)
#: The equivalence table a command reads (every command takes it).
TABLE = OptionSpec(
    Value.PATH, "--table", "Options",
    "An equivalence table file with the schema of the bundled equivalences.toml (for a local "
    "formulary). Default: the bundled table.",
    "FILE", envvar="TAPER_TABLE", show_default=False,
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ConvertOptions:
    """The options of ``taper convert`` (:func:`taper.convert_dose`'s keywords, and how the
    result is shown)."""

    to: Annotated[
        str, OptionSpec(Value.TEXT, "--to", "Options", "The drug to convert to.", "DRUG",
                        short="-t", show_default=False)
    ]  # fmt: skip
    source: Annotated[str | None, OPTION_SPECS["source"]] = None
    all_sources: Annotated[
        bool, OptionSpec(Value.BOOL, "--all-sources", "Options",
                         "Show the result under every source.", short="-a")
    ] = False  # fmt: skip
    allow_high_dose: Annotated[bool, OPTION_SPECS["allow_high_dose"]] = False


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    """The options of ``taper check`` (:func:`taper.check_plan`'s keywords)."""

    drug: Annotated[
        str | None, OptionSpec(Value.TEXT, "--drug", "Options",
                               "The drug, when the file has no drug column.", "DRUG", short="-d")
    ] = None  # fmt: skip
    #: None: the region a plan taper wrote names, else us (the report says which).
    region: Annotated[
        str | None, OptionSpec(Value.TEXT, "--region", "Options",
                               "Product set: us or uk (any case; default from TAPER_REGION, "
                               "else the region a plan taper wrote names, else us).", "REGION",
                               choices=Region, envvar="TAPER_REGION", show_default=False)
    ] = None  # fmt: skip
    products: Annotated[
        tuple[str, ...], OptionSpec(Value.LIST, "--product", "Options",
                                    "The products dispensed (as for schedule). Repeatable.",
                                    "PRODUCT")
    ] = ()  # fmt: skip
    source: Annotated[str | None, OPTION_SPECS["source"]] = None
    date_format: Annotated[
        str | None, OptionSpec(Value.TEXT, "--date-format", "Options",
                               "How the file writes dates that are not YYYY-MM-DD: dd/mm/yyyy or "
                               "mm/dd/yyyy.", "FORMAT")
    ] = None  # fmt: skip
    supply: Annotated[
        str | None, OptionSpec(Value.DAYS, "--supply", "Options",
                               "Also count what to dispense per period, e.g. 28d (halves carried "
                               "over).", "INTERVAL")
    ] = None  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class SheetOptions:
    """The options of ``taper sheet`` (:func:`taper.handout.period_sheet`'s keywords and where
    the PDF goes): one supply period's day-by-day sheet from a plan file."""

    period: Annotated[
        int, OptionSpec(Value.INT, "--period", "Options",
                        "The supply period whose sheet to print: 1 is the first (the plan's "
                        "--supply, else 28 days).", "N", minimum=1, show_default=False)
    ]  # fmt: skip
    output: Annotated[
        Path, OptionSpec(Value.PATH, "--output", "Options", "Write the sheet to this .pdf.",
                         "FILE", short="-o", show_default=False)
    ]  # fmt: skip
    patient: Annotated[
        str | None, OptionSpec(Value.TEXT, "--patient", "Options",
                               "The patient's name, at the top of each page.", "NAME")
    ] = None  # fmt: skip
    paper: Annotated[
        str | None, OptionSpec(Value.TEXT, "--paper", "Options",
                               "Paper: a4 or letter (default: letter for a plan of region us, "
                               "a4 for uk).", "SIZE")
    ] = None  # fmt: skip
    force: Annotated[
        bool, OptionSpec(Value.BOOL, "--force", "Options",
                         "Replace the --output file if it exists.")
    ] = False  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """The options of ``taper serve`` (:func:`taper.web.server.serve`)."""

    port: Annotated[
        int, OptionSpec(Value.INT, "--port", "Options", "Port (0: any free one).", "PORT",
                        short="-p", minimum=0, maximum=65535)
    ] = 8000  # fmt: skip
    host: Annotated[
        str | None, OptionSpec(Value.TEXT, "--host", "Options",
                               "Serve on this address instead of 127.0.0.1 (this machine only); "
                               "warns, as the page has no login.", "ADDRESS", show_default=False)
    ] = None  # fmt: skip
    open_browser: Annotated[
        bool, OptionSpec(Value.BOOL, "--open", "Options", "Open the page in the default browser.")
    ] = False  # fmt: skip


#: The options ``taper sweep`` takes as comma-separated lists, each with its example.
SWEEP_EXAMPLES = {
    "rate": "Rates, e.g. 5%,10%,25%.",
    "every": "Intervals, e.g. 2w,4w.",
    "source": "Sources, e.g. ashton,va-dod-2021.",
    "method": "Methods, e.g. percent,bands.",
    "switch_to": "Drugs to cross over to, e.g. diazepam.",
    "times": "Dose times a day, e.g. 1,2,3.",
    "duration": "Target durations, e.g. 26w,52w.",
    "final": "Final doses, e.g. 1mg,2mg.",
}


def _sweep_spec(name: str) -> OptionSpec:
    spec = OPTION_SPECS[name]
    return replace(
        spec,
        value=Value.TEXT,
        placeholder=f"{spec.placeholder},...",
        help=SWEEP_EXAMPLES[name],
        panel="Options",
        minimum=None,
        maximum=None,
    )


#: The values ``taper sweep`` tries, from the schedule options' declarations: each field
#: takes a comma-separated list of what the schedule option takes.
SweepGrid = make_dataclass(
    "SweepGrid",
    [(name, Annotated[str | None, _sweep_spec(name)], None) for name in SWEEP_EXAMPLES],
    frozen=True,
    kw_only=True,
)

#: What each option's value means (:class:`~taper.values.Value`).
OPTION_VALUES: dict[str, Value] = {name: spec.value for name, spec in OPTION_SPECS.items()}
#: The kind of each option's value: "text", "int", "bool" or "list" (batch columns).
OPTION_KINDS: dict[str, str] = {
    name: {Value.INT: "int", Value.BOOL: "bool", Value.LIST: "list"}.get(spec.value, "text")
    for name, spec in OPTION_SPECS.items()
}


_PLAIN_TYPES = {"text": str, "int": int, "bool": bool}


def _plainly(kind: str, value: Any) -> bool:
    """Whether ``value`` is exactly of the field's kind (no subclass, no bool for an int), so
    that msgspec's conversion would return it unchanged."""
    if kind == "list":
        return type(value) is tuple and all(type(item) is str for item in value)
    return type(value) is _PLAIN_TYPES[kind]


def schedule_options(values: Mapping[str, Any]) -> ScheduleOptions:
    """Options from keyword values (text, or the Python values of :mod:`taper.values`), each
    checked against its declared kind; None means not given."""
    unknown = [name for name in values if name not in OPTION_KINDS]
    if unknown:
        raise InvalidRequestError(
            f"unknown option(s) {', '.join(unknown)}; options are {', '.join(OPTION_KINDS)}"
        )
    given = {
        name: option_value(OPTION_VALUES[name], value, name)
        for name, value in values.items()
        if value is not None
    }
    if all(_plainly(OPTION_KINDS[name], value) for name, value in given.items()):
        plain: dict[str, Any] = given
        return ScheduleOptions(**plain)  # what msgspec would return, without importing it
    import msgspec  # validation and its errors: not at import time, nor for plain values

    try:
        return msgspec.convert(given, ScheduleOptions)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"invalid option: {exc}") from None


@dataclass(frozen=True)
class TaperRequest(ReadOnlyMappings):
    """Everything that defines a plan; with the table, it reproduces the plan exactly.

    The fields are in the order of the plan's recorded parameters (``meta.parameters`` in
    JSON, the ``#`` line of a CSV), which :func:`taper.records.request_record` writes out.
    """

    drug: str
    regimen: Mapping[str, Decimal]
    method: Method = Method.PERCENT
    rate_percent: Decimal = Decimal(10)
    interval_days: int = 14
    step_mg: Decimal | None = None
    steps_mg: tuple[Decimal, ...] = ()
    slow_below_mg: Decimal | None = None
    slow_rate_percent: Decimal | None = None
    final_mg: Decimal | None = None
    end: End = End.CLINICAL
    holds: tuple[Hold, ...] = ()
    order: Order = Order.AUTO
    start: dt.date | None = None
    until: dt.date | None = None
    duration_days: int | None = None
    region: Region = Region.US
    products: tuple[str, ...] = ()
    source: str | None = None
    ed50_mg: Decimal | None = None
    emax_percent: Decimal = Decimal(100)
    occupancy_step: Decimal = Decimal(5)
    supply_days: int | None = None
    allow_high_dose: bool = False
    #: Substitution: further current drugs and their regimens, the drug to cross over to,
    #: the crossover strategy, stage and stabilisation lengths, and the part moved per stage.
    also: tuple[tuple[str, Mapping[str, Decimal]], ...] = ()
    switch_to: str | None = None
    #: Finish on another drug: taper the current one to ``finish_from_mg`` (by default where
    #: its products stop keeping the pace), then cross over to ``finish_on`` and taper it.
    finish_on: str | None = None
    finish_from_mg: Decimal | None = None
    #: Start the new drug this much below the full equivalent (incomplete cross-tolerance).
    switch_reduction_percent: Decimal = Decimal(0)
    crossover: Crossover = Crossover.SLOT
    #: None: 7 days, or 14 where a switch reduction would otherwise cut more than the
    #: ceiling within two weeks (a plan records the length it used).
    stage_days: int | None = None
    stabilize_days: int = 14
    part_mg: Decimal | None = None
    #: How the drug has been used and who takes it (the guardrails; recorded flat), and
    #: whether the cautious defaults were asked for.
    factors: PatientFactors = field(default_factory=PatientFactors)
    cautious: bool = False
    #: The named pace (:mod:`taper.presets`), its source, and the options given that
    #: override what it sets (each as ``name=value``).
    pace: str | None = None
    pace_source: str = ""
    pace_overrides: tuple[str, ...] = ()
    #: What the patient factors changed in a switch to a drug that accumulates
    #: (``name=value``; see :func:`resolve_request`).
    adjusted_for_patient: tuple[str, ...] = ()

    _mappings = ("regimen",)

    def __post_init__(self) -> None:
        """The regimens are read-only (:mod:`taper.readonly`): the engine's memos hand a
        request out to every caller that asks the same question."""
        super().__post_init__()
        also = tuple((name, read_only(regimen)) for name, regimen in self.also)
        object.__setattr__(self, "also", also)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["also"] = tuple((name, dict(regimen)) for name, regimen in self.also)
        return state

    def varied(self, **changes: Any) -> TaperRequest:
        """This request with some fields changed: what ``dataclasses.replace`` makes, in a
        fraction of its time (a pace search varies a request dozens of times a plan). A
        request has no init-only fields, and its ``__post_init__`` only makes its regimens
        read-only, so a copy of its fields with the changes (regimens made read-only) is
        exactly the request ``replace`` would build anew."""
        unknown = changes.keys() - self.__dict__.keys()
        if unknown:
            raise TypeError(f"TaperRequest has no field(s) {', '.join(sorted(unknown))}")
        made = object.__new__(TaperRequest)
        made.__dict__.update(self.__dict__)
        made.__dict__.update(changes)
        if "regimen" in changes or "also" in changes:
            made.__post_init__()
        return made

    def pace_text(self) -> str:
        """The method's pace in words: ``"10% of the current dose (exponential)"``."""
        return {
            Method.PERCENT: f"{format_number(self.rate_percent)}% of the current dose "
            "(exponential)",
            Method.LINEAR: f"{format_dose(self.step_mg or 0)} each time",
            Method.BANDS: "NICE CKS bands through diazepam equivalents",
            Method.STEPS: "the listed doses",
            Method.OCCUPANCY: f"{format_number(self.occupancy_step)} occupancy points "
            f"(ED50 {format_dose(self.ed50_mg or 0)}, Emax {format_number(self.emax_percent)}%)",
        }[self.method]


#: The cautious defaults' hold: 2 weeks after every third cut (with a 5% rate where the
#: method is a percent taper and no rate is given).
CAUTIOUS_HOLD = "every:3:2w"


def _conflict(template: str, options: ScheduleOptions) -> InvalidRequestError:
    """An error about options that do not go together, naming each with its value (if
    given)."""
    names = re.findall(r"\{([a-z_0-9]+)\}", template)
    return InvalidRequestError(
        template, parameters={name: getattr(options, name) or None for name in names}
    )


def resolve_request(
    options: ScheduleOptions,
    drug: str,
    switch_to: str | None,
    finish_on: str | None = None,
    *,
    accumulates: bool = False,
) -> TaperRequest:
    """Parse the options into a request for ``drug`` (its regimen left empty).

    ``drug``, ``switch_to`` and ``finish_on`` are the table's names for the drugs;
    ``accumulates``: the drug switched to has long-lived active metabolites (diazepam,
    chlordiazepoxide), which changes a switch for older people and liver impairment.
    """
    given = options
    options, adjusted = _for_the_patient(options, accumulates)
    o, pace, overrides = _with_pace(options, finish_on or switch_to or drug)
    if o.until is not None and o.duration is not None:
        raise _conflict("give a target end date {until} or a {duration}, not both", o)
    method = parse_choice(Method, o.method or Method.PERCENT.value, "method")
    for name, value, wanted in (
        ("steps", o.steps, Method.STEPS),
        ("step", o.step, Method.LINEAR),
        ("ed50", o.ed50, Method.OCCUPANCY),
    ):
        if value and method is not wanted:  # it would be dropped without a word
            raise InvalidRequestError(
                f"{{{name}}} goes with {{method}} (this plan's method is {method.value})",
                parameters={name: value, "method": wanted.value},
            )
    g = given  # what the caller gave, not what a named pace filled in
    for name, value, used, wanted in (
        ("rate", g.rate, g.rate, Method.PERCENT),
        ("slow_below", g.slow_below, g.slow_below, Method.PERCENT),
        ("slow_rate", g.slow_rate, g.slow_rate, Method.PERCENT),
        ("emax", g.emax, g.emax.strip() not in {"", "100"}, Method.OCCUPANCY),
        ("occupancy_step", g.occupancy_step, g.occupancy_step.strip() != "5", Method.OCCUPANCY),
    ):
        if used and method is not wanted:  # it would be ignored without a word
            raise InvalidRequestError(
                f"{{{name}}} is used only by {{method}}; the {method.value} method does not use "
                "it: leave it out",
                parameters={name: value, "method": wanted.value},
            )
    if o.rate and method is Method.PERCENT and (o.until or o.duration):
        raise _conflict(
            "give {rate} or a target end ({until}, {duration}), not both: the target end "
            "finds the rate",
            o,
        )
    if o.step and method is Method.LINEAR and (o.until or o.duration):
        raise _conflict(
            "give {step} or a target end ({until}, {duration}), not both: the target end "
            "finds the step",
            o,
        )
    if o.part and not (o.switch_to or o.finish_on):
        raise _conflict("{part} goes with {switch_to} or {finish_on}", o)
    if not (o.switch_to or o.finish_on):
        for name, value, used in (
            ("crossover", g.crossover, (g.crossover or "slot").strip().lower() != "slot"),
            ("stage", g.stage, g.stage is not None and parse_days(g.stage, "stage") != 7),
            (
                "stabilize",
                g.stabilize,
                g.stabilize is not None
                and (
                    g.stabilize.strip() in {"0", "0d", "0w"}
                    or parse_days(g.stabilize, "stabilization") != 14
                ),
            ),
        ):
            if used:  # it would be ignored without a word: there is no crossover
                raise InvalidRequestError(
                    f"{{{name}}} goes with {{switch_to}} or {{finish_on}}: a direct taper has no "
                    "crossover",
                    parameters={name: value, "switch_to": None, "finish_on": None},
                )
    if o.finish_from and not o.finish_on:
        raise _conflict("{finish_from} needs {finish_on}, the drug to finish on", o)
    if o.switch_reduction and not (o.switch_to or o.finish_on):
        raise _conflict("{switch_reduction} goes with {switch_to} or {finish_on}", o)
    if o.finish_on and o.switch_to:
        raise _conflict("give {switch_to} (switch first) or {finish_on}, not both", o)
    if given.slow_rate and not given.slow_below:
        raise _conflict("{slow_rate} needs {slow_below}, the dose below which it applies", given)
    bounded: tuple[tuple[str, int | None, int, int, str], ...] = (
        ("times", o.times, 1, 4, "1, 2, 3 or 4"),
        ("days_per_week", o.days_per_week, 1, 7, "from 1 to 7"),
        ("age", o.age, 0, 130, "from 0 to 130"),
    )
    for name, number, low, high, allowed in bounded:
        if number is not None and not low <= number <= high:
            raise InvalidRequestError(f"{{{name}}} must be {allowed}", parameters={name: number})
    if o.days_per_week is not None and o.days_per_week <= 3:
        # A plan is a dose every day: it would give more than an intermittent user takes.
        raise InvalidRequestError(
            "{days_per_week}: clinically significant withdrawal is rare at 3 days a week or "
            "fewer (2025 Joint Clinical Practice Guideline, Table 2), and a taper plan gives a "
            "dose every day, more than the patient takes now: review stopping without a taper; "
            "if the drug is in fact taken every day, give 7 days a week",
            parameters={"days_per_week": o.days_per_week},
        )
    holds = o.holds or ((CAUTIOUS_HOLD,) if o.cautious else ())
    return TaperRequest(
        drug=drug,
        regimen={},
        method=method,
        rate_percent=parse_percent(o.rate or ("5%" if o.cautious else "10%")),
        interval_days=parse_days(o.every or "2w"),
        step_mg=parse_dose(o.step) if o.step else None,
        steps_mg=parse_dose_list(o.steps) if o.steps else (),
        slow_below_mg=parse_dose(o.slow_below) if o.slow_below else None,
        slow_rate_percent=parse_percent(o.slow_rate, "slow rate", "slow_rate")
        if o.slow_rate
        else None,
        final_mg=parse_dose(o.final) if o.final else None,
        end=parse_choice(End, o.end, "end"),
        holds=tuple(parse_hold(text) for text in holds),
        order=parse_choice(Order, o.order or Order.AUTO.value, "order"),
        start=parse_date(o.start, "start date") if o.start else None,
        until=parse_date(o.until, "target end date") if o.until else None,
        duration_days=parse_days(o.duration, "duration") if o.duration else None,
        region=parse_choice(Region, o.region, "region"),
        products=o.products,
        source=o.source,
        ed50_mg=parse_dose(o.ed50) if o.ed50 else None,
        emax_percent=parse_positive_number(o.emax, "Emax", maximum=Decimal(100)),
        occupancy_step=parse_positive_number(o.occupancy_step, "occupancy step", Decimal(100)),
        supply_days=parse_days(o.supply, "supply period") if o.supply else None,
        allow_high_dose=o.allow_high_dose,
        switch_to=switch_to,
        finish_on=finish_on,
        finish_from_mg=parse_dose(o.finish_from) if o.finish_from else None,
        switch_reduction_percent=parse_percent(
            o.switch_reduction, "switch reduction", "switch_reduction"
        )
        if o.switch_reduction and o.switch_reduction.strip() not in {"0", "0%"}
        else Decimal(0),  # 0%: the full equivalent, also for an older patient
        crossover=parse_choice(Crossover, o.crossover or Crossover.SLOT.value, "crossover"),
        stage_days=parse_days(o.stage, "stage") if o.stage else None,
        stabilize_days=0
        if (o.stabilize or "2w").strip() in {"0", "0d", "0w"}
        else parse_days(o.stabilize or "2w", "stabilization"),
        part_mg=parse_dose(o.part) if o.part else None,
        factors=PatientFactors(
            used_for_days=parse_duration_of_use(o.used_for) if o.used_for else None,
            days_per_week=o.days_per_week,
            age=o.age,
            seizures=o.seizures,
            with_opioids=o.with_opioids,
            with_alcohol=o.with_alcohol,
            liver_impairment=o.liver_impairment,
        ),
        cautious=o.cautious,
        pace=None if pace is None else pace.name,
        pace_source="" if pace is None else pace.source,
        pace_overrides=overrides,
        adjusted_for_patient=adjusted,
    )


#: A switch to a drug with long-lived active metabolites for an older person or one with
#: liver impairment starts this much below the full equivalent (clinical reference 6b:
#: converters advise 25-50% lower in some patients, e.g. older people; the low end).
PATIENT_SWITCH_REDUCTION = "25%"


def _for_the_patient(
    options: ScheduleOptions, accumulates: bool
) -> tuple[ScheduleOptions, tuple[str, ...]]:
    """A switch to a drug that accumulates, asked for an older person (65 or over) or one
    with liver impairment, starts lower and goes slower unless those are given: the options
    so changed, and what was changed (``name=value``)."""
    older = options.age is not None and options.age >= 65
    if not accumulates or not (older or options.liver_impairment):
        return options, ()
    changed: dict[str, Any] = {}
    if options.switch_reduction is None:
        changed["switch_reduction"] = PATIENT_SWITCH_REDUCTION
    if not options.cautious:
        changed["cautious"] = True
    adjusted = tuple(f"{name}={value}" for name, value in changed.items())
    return replace(options, **changed), adjusted


def _meaning(name: str, text: str) -> object:
    """What an option's text means, so that ``14d`` and ``2w`` are the same interval."""
    kind = OPTION_VALUES[name]
    try:
        if kind is Value.DAYS:
            return 0 if text.strip() in {"0", "0d", "0w"} else parse_days(text)
        if kind is Value.PERCENT:
            return parse_percent(text)
        if kind is Value.DOSE:
            return parse_dose(text)
    except InvalidRequestError:
        pass  # refused where the option is read, with its name
    return text.strip().lower()


def _with_pace(
    options: ScheduleOptions, tapered: str
) -> tuple[ScheduleOptions, Pace | None, tuple[str, ...]]:
    """The options with a named pace's settings filled in where none was given, the pace,
    and the given options that override it (``name=value``); a pace whose source does not
    cover ``tapered`` (the drug tapered, the new one after a switch) is refused."""
    if options.pace is None:
        return options, None, ()
    pace = find_pace(options.pace)
    check_pace_covers(pace, tapered)
    overrides = tuple(
        f"{name}={getattr(options, name)}"
        for name in dict.fromkeys([*pace.sets, *sorted(pace.derived)])
        if getattr(options, name) is not None
        and (
            name in pace.derived
            or _meaning(name, str(getattr(options, name))) != _meaning(name, pace.sets[name])
        )
    )
    filled: dict[str, Any] = {
        name: value for name, value in pace.sets.items() if getattr(options, name) is None
    }
    if options.cautious:
        filled.pop("rate", None)  # the cautious rate, unless a rate is given
    return replace(options, **filled), pace, overrides


#: The help panel of a revision's options.
REVISION = "Revision"


@dataclass(frozen=True, kw_only=True)
class ReviseOptions:
    """What changes in a running plan, and from when (``taper revise``,
    :meth:`taper.TaperPlan.revise`): one of a hold, a step back, the dose taken or a new pace
    (a hold also goes with a step back)."""

    on: Annotated[
        str, OptionSpec(Value.DATE, "--on", REVISION,
                        "The first day the plan changes (YYYY-MM-DD).", "DATE",
                        show_default=False, label="First day that changes")
    ]  # fmt: skip
    hold: Annotated[
        str | None, OptionSpec(Value.DAYS, "--hold", REVISION,
                               "Stay on the dose of the day before for this long (e.g. 2w), "
                               "then go on; with --back, how long to stay on the dose gone "
                               "back to.", "INTERVAL", label="Hold for")
    ] = None  # fmt: skip
    back: Annotated[
        bool, OptionSpec(Value.BOOL, "--back", REVISION,
                         "Go back to the last dose before the current one, then go on slower.",
                         label="Step back")
    ] = False  # fmt: skip
    taken: Annotated[
        str | None, OptionSpec(Value.TEXT, "--taken", REVISION,
                               "The dose actually taken from --on, e.g. 0.5mg or "
                               "'morning=0.25mg,night=0.5mg'.", "DOSE",
                               label="Dose actually taken")
    ] = None  # fmt: skip
    rate: Annotated[
        str | None, OptionSpec(Value.PERCENT, "--rate", REVISION,
                               "A new rate from --on (percent method).", "PERCENT",
                               label="New rate")
    ] = None  # fmt: skip
    every: Annotated[
        str | None, OptionSpec(Value.DAYS, "--every", REVISION,
                               "A new interval between cuts from --on.", "INTERVAL",
                               label="New interval between cuts")
    ] = None  # fmt: skip
    reason: Annotated[
        str | None, OptionSpec(Value.TEXT, "--reason", REVISION, "Why, for the plan's history.",
                               "TEXT")
    ] = None  # fmt: skip
    allow_high_dose: Annotated[
        bool, OptionSpec(Value.BOOL, "--allow-high-dose", REVISION,
                         "Accept a dose taken above the plan's starting dose.",
                         label="Allow a dose taken above the starting dose")
    ] = False  # fmt: skip


@functools.cache
def _flags() -> dict[str, str]:
    """How a command line names every parameter it takes, by name: the schedule's options and
    the outputs' (the first declaration of a name wins; they agree on the flag). Worked out
    when an error first names a parameter, not at import (a plan never needs it)."""
    from taper.outputs import BatchOutputs, PlanOutputs

    return {
        name: spec.flag
        for specs in (
            OPTION_SPECS,
            option_specs(PlanOutputs),
            option_specs(BatchOutputs),
            option_specs(ReviseOptions),
            option_specs(SheetOptions),
        )
        for name, spec in specs.items()
    }


def flag_spelling(name: str, value: object) -> str:
    """A parameter named in a library error as the command line takes it (see
    :mod:`taper.errors`): ``--rate 25%``, ``--allow-high-dose``, ``--switch-to``."""
    flag = _flags().get(name) or "--" + name.replace("_", "-")
    return flag if value is None or isinstance(value, bool) else f"{flag} {value}"
