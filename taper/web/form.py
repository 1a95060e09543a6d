"""The plan form, generated from :class:`~taper.options.ScheduleOptions`, and its reading.

:func:`option_fields` is the one place that turns the options into form fields: one field per
field of ``ScheduleOptions``, in their order, so an option added there appears on the page
without a change here. A field's input follows its :class:`~taper.values.Value` kind (a
checkbox for ``BOOL``, a date for ``DATE``, lines for ``LIST``...) and its choices come from
the enumeration of its closed set. Its label, command-line flag, placeholder, panel and help
are read from the field's own metadata when it declares them (``dataclasses.field(metadata=
{"help": ...})`` or an object in its ``Annotated`` extras with those attributes: ``label``,
``flag``, ``panel``, ``help``, ``choices``, and ``example`` for the input's placeholder, which
is an example value such as ``0.5mg``, not the command line's metavar), and otherwise from
the tables below, which are the only copy of them for the page.

:func:`read_plan_form` turns what a browser sent back into the arguments of
:func:`taper.plan_taper`, with the same parsers and the same one-line errors as the command
line. The revise form is built the same way from :class:`~taper.options.ReviseOptions`
(``option_fields(table, ReviseOptions)``), and :func:`read_revise_form` reads it into the
keywords of :meth:`taper.TaperPlan.revise`. Nothing here imports the web framework.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_type_hints

from taper.errors import InvalidRequestError
from taper.options import Crossover, End, Method, Order, ScheduleOptions
from taper.params import SLOTS
from taper.presets import PACES
from taper.table import EquivalenceTable
from taper.values import Value

#: The options of each panel, unless a field declares its panel (``taper schedule --help``).
PANEL_OPTIONS = {
    "Regimen": "times source allow_high_dose",
    "Pace": "pace method rate every step steps slow_below slow_rate final end holds order start "
    "until duration ed50 emax occupancy_step cautious",
    "Products": "region products supply",
    "Switch": "switch_to finish_on finish_from switch_reduction crossover stage stabilize part",
    "Patient": "used_for days_per_week age seizures with_opioids with_alcohol liver_impairment",
}
#: The panels of the form, in order.
PANELS = tuple(PANEL_OPTIONS)
PANEL_OF = {name: panel for panel, names in PANEL_OPTIONS.items() for name in names.split()}

#: Command-line flags that are not the field's name with dashes.
FLAG_OF = {"holds": "--hold", "products": "--product", "liver_impairment": "--liver"}

#: Labels that are not the field's name in words.
LABEL_OF = {
    "times": "Dose times a day",
    "every": "Interval between cuts",
    "step": "Linear step",
    "steps": "Listed steps",
    "final": "Final dose",
    "holds": "Holds",
    "start": "First day",
    "until": "Stop by",
    "ed50": "ED50",
    "emax": "Emax",
    "source": "Equivalence source",
    "supply": "Supply period",
    "switch_to": "Switch to",
    "products": "Products",
    "used_for": "Used for",
    "days_per_week": "Days a week taken",
    "age": "Age (years)",
    "seizures": "History of seizures",
    "with_opioids": "Taken with opioids",
    "with_alcohol": "Taken with alcohol",
    "liver_impairment": "Liver impairment",
    "allow_high_dose": "Allow a dose above the usual maximum",
}

#: Help under each field (what ``taper schedule --help`` says, in the page's words).
HELP_OF = {
    "pace": "A published method by name; it sets the method, interval, order and crossover, and "
    "options you give override it (see the presets page of the documentation).",
    "times": "Split a daily total over 1-4 usual dose times.",
    "method": "percent: a fixed % of the current dose; linear: fixed mg; bands: NICE CKS fixed "
    "steps; steps: your list; occupancy: equal steps in receptor occupancy (needs ED50).",
    "rate": "percent: cut per interval (default 10%; 5% with cautious).",
    "every": "Interval between cuts: 14d, 2w (default 2w).",
    "step": "linear: mg cut per interval, e.g. 0.125mg.",
    "steps": "steps: daily doses in order, e.g. 0.75mg,0.5mg,0.25mg.",
    "slow_below": "Use the slow rate at or below this dose.",
    "slow_rate": "percent: cut per interval at low doses.",
    "final": "Stop after this daily dose (default: see End).",
    "end": "clinical: stop from about 1 mg diazepam equivalent, fixed steps below 10 mg (NICE "
    "CKS); micro: percent cuts down to the smallest dose the products make (much longer).",
    "holds": "Stay longer at a dose, one a line: after-step:3:2w, every:3:2w, at:0.5mg:4w.",
    "order": "Which dose times go down first: auto (daytime-first for long-acting drugs, even "
    "for short-acting ones), daytime-first, even, night-first.",
    "start": "First day of the plan (default: today).",
    "until": "Find the pace that stops by this date.",
    "duration": "Find the pace that stops within e.g. 26w.",
    "region": "The products marketed in the US or the UK.",
    "products": "Use these products instead of the region's, one a line, e.g. 0.5mg tablet "
    "scored, 0.5mg/5mL solution.",
    "source": "Whose diazepam equivalents the plan uses (default: the table's, ashton).",
    "ed50": "occupancy: dose giving half of Emax (cite it).",
    "emax": "occupancy: maximum occupancy, %.",
    "occupancy_step": "occupancy: points of occupancy per step.",
    "supply": "Also count what to dispense per period, e.g. 28d.",
    "switch_to": "Cross over to this drug before tapering it.",
    "finish_on": "Taper the current drug while its products keep the pace, then cross over to "
    "this drug and finish on it (Ashton Manual).",
    "finish_from": "With Finish on: the daily dose at which to cross over.",
    "switch_reduction": "Start the new drug this much below the full equivalent, e.g. 25%.",
    "crossover": "slot: one whole dose time per stage, night first (Ashton); partial: Part of "
    "one dose time per stage; direct: everything at once.",
    "stage": "Length of a crossover stage, e.g. 1w.",
    "stabilize": "Time on the new drug before the taper (0 allowed).",
    "part": "partial: mg of the current drug switched per stage (default: half).",
    "used_for": "How long the drug has been used: 10d, 6w, 18m, 2y.",
    "days_per_week": "Days a week it is taken (1-7).",
    "age": "The patient's age in years.",
    "seizures": "The patient has a history of seizures.",
    "with_opioids": "Taken together with opioids.",
    "with_alcohol": "Taken together with alcohol.",
    "liver_impairment": "The patient has liver impairment.",
    "cautious": "Slower defaults: 5% every 2 weeks, a 2-week hold after every third cut.",
    "allow_high_dose": "Accept doses above the usual maximum, with a warning.",
}

#: Options that name a drug of the table.
DRUG_OPTIONS = frozenset({"switch_to", "finish_on"})

#: Placeholders of single options, where the kind's example would mislead.
PLACEHOLDER_OF = {
    "supply": "e.g. 28d",
    "duration": "e.g. 26w",
    "stage": "e.g. 1w",
    "switch_reduction": "e.g. 25%",
    "slow_rate": "e.g. 5%",
    "final": "e.g. 1mg",
    "finish_from": "e.g. 10mg",
    "step": "e.g. 0.125mg",
}

#: Placeholders by kind of value (a field may declare its own).
PLACEHOLDER_OF_VALUE = {
    Value.DOSE: "e.g. 0.5mg",
    Value.DOSES: "e.g. 0.75mg,0.5mg",
    Value.PERCENT: "e.g. 10%",
    Value.DAYS: "e.g. 2w",
    Value.DURATION_OF_USE: "e.g. 18m",
    Value.DATE: "YYYY-MM-DD",
    Value.NUMBER: "",
}

#: Closed sets that the options declare as text today (an enumeration in the annotation or
#: the metadata takes precedence). Callables of the table give the table's own names.
CHOICES_OF: dict[str, Callable[[EquivalenceTable], Sequence[tuple[str, str]]]] = {
    "method": lambda table: _members(Method),
    "order": lambda table: _members(Order),
    "end": lambda table: _members(End),
    "crossover": lambda table: _members(Crossover),
    "pace": lambda table: tuple((name, name) for name in PACES),
    "region": lambda table: (("us", "us: United States"), ("uk", "uk: United Kingdom")),
    "times": lambda table: tuple((str(n), str(n)) for n in range(1, 5)),
    "source": lambda table: source_choices(table),
    **dict.fromkeys(DRUG_OPTIONS, lambda table: drug_choices(table)),
}

#: The most lines a list field (holds, products) takes, and the longest value of any field.
MAX_LIST_ITEMS = 20
MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class Field:
    """One input of the form, for one option."""

    name: str
    label: str
    #: The command-line flag, shown beside the label so that errors naming it are clear.
    flag: str
    value: Value
    #: "text", "number", "date", "checkbox", "select" or "lines".
    widget: str
    #: (value, label) pairs of a select; the first is "" (not given) unless the option has a
    #: default.
    choices: tuple[tuple[str, str], ...]
    default: str
    placeholder: str
    help: str
    panel: str
    #: The option has no default: the command line refuses to go without it.
    required: bool = False

    @property
    def id(self) -> str:
        return f"opt-{self.name.replace('_', '-')}"


def _members(kind: type[Enum]) -> tuple[tuple[str, str], ...]:
    return tuple((str(member.value), str(member.value)) for member in kind)


def drug_choices(table: EquivalenceTable) -> tuple[tuple[str, str], ...]:
    """Each drug of the table by its generic name, with its brand names to find it by."""
    return tuple(
        (drug.name, f"{drug.name} ({', '.join(drug.aliases)})" if drug.aliases else drug.name)
        for drug in sorted(table.drugs.values(), key=lambda drug: drug.name)
    )


def source_choices(table: EquivalenceTable) -> tuple[tuple[str, str], ...]:
    return tuple(
        (source.id, f"{source.id}: {source.title}" if source.title else source.id)
        for source in table.sources.values()
    )


def _declared(field: dataclasses.Field[Any], extras: Sequence[Any], key: str) -> Any:
    """What the option itself declares for ``key`` (its metadata), if anything."""
    if key in field.metadata:
        return field.metadata[key]
    for extra in extras:
        if not isinstance(extra, Value) and getattr(extra, key, None) is not None:
            return getattr(extra, key)
    return None


def option_fields(
    table: EquivalenceTable, options: type[Any] = ScheduleOptions
) -> tuple[Field, ...]:
    """The form's fields: one per field of ``options`` (a dataclass of options annotated
    with their :class:`~taper.values.Value`, as :class:`ScheduleOptions`), in its order."""
    hints = get_type_hints(options, include_extras=True)
    fields = []
    for field in dataclasses.fields(options):
        annotated = hints[field.name]
        base, *extras = get_args(annotated)
        value = next(
            (
                kind
                for kind in (*extras, *(getattr(extra, "value", None) for extra in extras))
                if isinstance(kind, Value)
            ),
            Value.TEXT,
        )
        enum = next(
            (t for t in (base, *get_args(base)) if isinstance(t, type) and issubclass(t, Enum)),
            None,
        )
        declared_choices = _declared(field, extras, "choices")
        if declared_choices is not None:
            choices = tuple((str(c), str(c)) for c in declared_choices)
        elif enum is not None:
            choices = _members(enum)
        elif field.name in CHOICES_OF:
            choices = tuple(CHOICES_OF[field.name](table))
        else:
            choices = ()
        default = field.default if field.default is not dataclasses.MISSING else None
        default_text = "" if default is None or isinstance(default, bool | tuple) else str(default)
        if isinstance(default, Enum):
            default_text = str(default.value)
        if choices:
            widget = "select"
            if not default_text:  # drugs: none to switch to; else the option's default
                blank = "(none)" if field.name in DRUG_OPTIONS else "(default)"
                choices = (("", blank), *choices)
        else:
            widget = {
                Value.BOOL: "checkbox",
                Value.DATE: "date",
                Value.INT: "number",
                Value.LIST: "lines",
            }.get(value, "text")
        flag = _declared(field, extras, "flag") or FLAG_OF.get(
            field.name, "--" + field.name.replace("_", "-")
        )
        fields.append(
            Field(
                name=field.name,
                label=_declared(field, extras, "label")
                or LABEL_OF.get(field.name, field.name.replace("_", " ").capitalize()),
                flag=flag,
                value=value,
                widget=widget,
                choices=choices,
                default=default_text,
                placeholder=_declared(field, extras, "example")
                or PLACEHOLDER_OF.get(field.name, PLACEHOLDER_OF_VALUE.get(value, "")),
                help=_declared(field, extras, "help") or HELP_OF.get(field.name, ""),
                panel=_declared(field, extras, "panel") or PANEL_OF.get(field.name, "Pace"),
                required=field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING,
            )
        )
    return tuple(fields)


def panels(fields: Sequence[Field]) -> list[tuple[str, list[Field]]]:
    """The fields grouped by panel, panels in the order of :data:`PANELS` (others after)."""
    grouped: dict[str, list[Field]] = {name: [] for name in PANELS}
    for field in fields:
        grouped.setdefault(field.panel, []).append(field)
    return [(name, items) for name, items in grouped.items() if items]


Form = Mapping[str, str]


def _text(form: Form, name: str) -> str:
    text = form.get(name, "")
    if not isinstance(text, str):
        raise InvalidRequestError(f"the form field {name!r} must be text")
    if len(text) > MAX_VALUE_CHARS * (MAX_LIST_ITEMS if name.startswith("opt-") else 1):
        raise InvalidRequestError(f"the form field {name!r} is too long")
    return text.strip()


@dataclass(frozen=True)
class PlanForm:
    """What a plan form asked for: the current drug with its dose text, and the options."""

    drug: str
    dose: str
    options: dict[str, Any]
    #: The submitted values to send back with a download (field name -> text).
    values: dict[str, str]

    def command(self, fields: Sequence[Field]) -> str:
        """The same plan on the command line (for the page to show)."""
        return command_line(["taper", "schedule", self.drug, self.dose], self.options, fields)


def command_line(words: list[str], options: Mapping[str, Any], fields: Sequence[Field]) -> str:
    """``words`` and then each option given, as a shell command line."""
    for field in fields:
        value = options.get(field.name)
        if value is None or value is False:
            continue
        if value is True:
            words.append(field.flag)
        elif isinstance(value, tuple):
            for item in value:
                words += [field.flag, item]
        else:
            words += [field.flag, str(value)]
    return " ".join(shlex.quote(word) for word in words)


def read_plan_form(form: Form, fields: Sequence[Field]) -> PlanForm:
    """The drug, dose and options a submitted plan form gives (refused in one line, as the
    command line refuses them)."""
    values: dict[str, str] = {}
    drug = _text(form, "drug")
    if not drug:
        raise InvalidRequestError("choose the current drug")
    values["drug"] = drug
    total = _text(form, "dose")
    values["dose"] = total
    per_time = {}
    for slot in SLOTS:
        text = _text(form, f"dose-{slot}")
        values[f"dose-{slot}"] = text
        if text:
            per_time[slot] = text
    if total and per_time:
        raise InvalidRequestError("give the daily total or the dose at each dose time, not both")
    if not total and not per_time:
        raise InvalidRequestError("give the current daily dose, or the dose at each dose time")
    dose = total or ",".join(f"{slot}={text}" for slot, text in per_time.items())
    options = read_options(form, fields, values)
    return PlanForm(drug=drug, dose=dose, options=options, values=values)


def read_options(form: Form, fields: Sequence[Field], values: dict[str, str]) -> dict[str, Any]:
    """The options given in a submitted form's ``fields`` (by name), each as the command line
    takes it (text, a tuple of lines, a whole number, True); ``values`` gets the text sent,
    to send back with a download."""
    options: dict[str, Any] = {}
    for field in fields:
        key = field.id
        if field.widget == "checkbox":
            given = key in form and form.get(key) not in ("", None)
            if given:
                values[key] = "on"
                options[field.name] = True
            continue
        text = _text(form, key)
        values[key] = text
        if not text:
            continue
        if field.widget == "lines":
            items = tuple(line.strip() for line in text.splitlines() if line.strip())
            if len(items) > MAX_LIST_ITEMS:
                raise InvalidRequestError(f"{field.flag}: at most {MAX_LIST_ITEMS} lines")
            options[field.name] = items
        elif field.value is Value.INT:
            if not re.fullmatch(r"[0-9]{1,6}", text):
                raise InvalidRequestError(f"{field.flag} must be a whole number, not {text!r}")
            if text != field.default:
                options[field.name] = int(text)
        elif text != field.default:  # a default sent back is the option not given
            options[field.name] = text
    return options


@dataclass(frozen=True)
class ReviseForm:
    """What a revision form asked for: the options of ``taper revise`` (by name, as
    :meth:`taper.TaperPlan.revise` takes them)."""

    options: dict[str, Any]
    #: The submitted values to send back with a download (field name -> text).
    values: dict[str, str]

    def command(self, name: str, fields: Sequence[Field]) -> str:
        """The same revision of the file ``name`` on the command line (for the page to show)."""
        return command_line(["taper", "revise", name], self.options, fields)


def read_revise_form(form: Form, fields: Sequence[Field]) -> ReviseForm:
    """The options of a submitted revision form (``fields``: those of
    :class:`~taper.options.ReviseOptions`); a missing date is refused as the command line
    refuses a missing ``--on``."""
    values: dict[str, str] = {}
    options = read_options(form, fields, values)
    for field in fields:
        if field.required and field.name not in options:
            raise InvalidRequestError(f"Missing option '{field.flag}'")
    return ReviseForm(options=options, values=values)
