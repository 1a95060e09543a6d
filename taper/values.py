"""The Python values a library caller gives, checked and written as the text taper reads.

Options are text as people type them (``"10%"``, ``"2w"``, ``"0.5mg"``); a Python caller may
give the values themselves instead: numbers of mg (``int``, ``Decimal``, or ``float`` through
its shortest decimal repr, so ``0.1`` is 0.1 and never binary noise), ``datetime.date``,
``datetime.timedelta``, percentages as numbers (``10`` is 10%), booleans and lists. Each
function here takes one value of one named parameter and returns the text the parsers read,
so that every value goes through the same checks whichever way it came; anything else raises
:class:`~taper.errors.ParameterError` naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, get_type_hints

from taper.errors import ParameterError


class Value(StrEnum):
    """What an option's value means, and so which Python values it takes."""

    TEXT = "text"  # a name or a choice: str
    DOSE = "dose"  # mg: a number, or text with a unit
    DOSES = "doses"  # several doses: a list of doses, or comma-separated text
    PERCENT = "percent"  # a number of percent, or text such as "10%"
    DAYS = "days"  # a whole number of days, a timedelta, or text such as "2w"
    DURATION_OF_USE = "duration-of-use"  # days, a timedelta, or text such as "18m"
    DATE = "date"  # a datetime.date, or text YYYY-MM-DD
    NUMBER = "number"  # a plain number, or its text
    INT = "int"  # a whole number
    BOOL = "bool"  # True or False
    LIST = "list"  # a list of texts (one text is a list of one)
    PATH = "path"  # a file's path: text or a pathlib.Path


@dataclass(frozen=True)
class OptionSpec:
    """How one option is given: its flag, short name, placeholder, help panel and help text,
    the kind of value it takes and, for a closed set, its choices.

    A dataclass of options (:class:`taper.options.ScheduleOptions`,
    :class:`taper.outputs.PlanOutputs`) carries one in each field's ``Annotated[...]``, and
    every surface that takes the option is built from it: the command's parameters
    (``cli.py``), the columns of a batch scenario file, the Python values the library accepts
    and the way an error names the option on the command line. Nothing here imports a
    command-line library.
    """

    #: What the value means, and so which Python values it takes.
    value: Value
    #: The long flag, ``"--rate"``.
    flag: str
    #: The help panel of ``taper schedule --help`` it is listed in.
    panel: str
    #: One sentence or two of help, shown as written.
    help: str
    #: The placeholder in the help (``"PERCENT"``); None for an on/off switch.
    placeholder: str | None = None
    #: The short flag, ``"-r"``, if any.
    short: str | None = None
    #: The closed set of values, if any (the enumeration's values are what people type).
    choices: type[StrEnum] | None = None
    #: The environment variable that gives a default, if any.
    envvar: str | None = None
    #: Bounds of a whole number, if any (inclusive).
    minimum: int | None = None
    maximum: int | None = None
    #: Whether the default is shown in the help (``[default: percent]``).
    show_default: bool = True

    @property
    def repeatable(self) -> bool:
        """A list option is given once per item: ``--hold A --hold B``."""
        return self.value is Value.LIST


def option_specs(options: type[Any]) -> dict[str, OptionSpec]:
    """The :class:`OptionSpec` of each field of a dataclass of options, by field name, in
    the order of the fields; a field without one is a mistake, named."""
    specs: dict[str, OptionSpec] = {}
    for name, annotation in get_type_hints(options, include_extras=True).items():
        found = [m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, OptionSpec)]
        if len(found) != 1:
            raise TypeError(f"{options.__name__}.{name} needs one OptionSpec in its Annotated[]")
        specs[name] = found[0]
    return specs


#: Largest and smallest decimal exponents of a number accepted from Python (keeps a number
#: such as ``Decimal("1e999999")`` from being written out in full).
_MAX_EXPONENT = 12
#: Most days accepted as a number or a timedelta (the parsers then apply their own limits).
_MAX_DAYS = 99_999


def decimal_of(value: object, parameter: str) -> Decimal:
    """An exact Decimal from an int, a Decimal or a float (through its shortest repr)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise ParameterError(parameter, value, "a number")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ParameterError(parameter, value, "a finite number")
    if number and not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        raise ParameterError(parameter, value, "a number of a plausible size")
    return number


def number_text(value: Decimal) -> str:
    """A Decimal written plainly: ``Decimal("1E+1")`` -> ``"10"``, never an exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text(value: object, parameter: str) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | Decimal | float):
        return None
    raise ParameterError(parameter, value, "a number or text")


def dose_text(value: object, parameter: str) -> str:
    """``0.5``, ``Decimal("0.5")`` or ``"0.5mg"`` -> ``"0.5mg"``."""
    text = _text(value, parameter)
    return text if text is not None else number_text(decimal_of(value, parameter)) + "mg"


def doses_text(value: object, parameter: str) -> str:
    """A list of doses, or comma-separated text -> ``"0.75mg,0.5mg"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and value:
        return ",".join(dose_text(item, parameter) for item in value)
    raise ParameterError(parameter, value, "a list of doses or text such as '0.75mg,0.5mg'")


def percent_text(value: object, parameter: str) -> str:
    """``10``, ``7.5`` or ``"10%"`` -> ``"10%"`` (a number is a number of percent)."""
    text = _text(value, parameter)
    return text if text is not None else number_text(decimal_of(value, parameter)) + "%"


def number_value_text(value: object, parameter: str) -> str:
    text = _text(value, parameter)
    return text if text is not None else number_text(decimal_of(value, parameter))


def _whole_days(value: object, parameter: str) -> int | None:
    if isinstance(value, str):
        return None
    if isinstance(value, dt.timedelta):
        if value % dt.timedelta(days=1):
            raise ParameterError(parameter, value, "a whole number of days")
        days = value.days
    elif isinstance(value, int) and not isinstance(value, bool):
        days = value
    else:
        raise ParameterError(parameter, value, "a number of days, a timedelta or text such as '2w'")
    if not 0 <= days <= _MAX_DAYS:
        raise ParameterError(parameter, value, f"from 0 to {_MAX_DAYS:,} days")
    return days


def days_text(value: object, parameter: str) -> str:
    """``14``, ``timedelta(weeks=2)`` or ``"2w"`` -> text of days (``"14d"``)."""
    days = _whole_days(value, parameter)
    return value if isinstance(value, str) else f"{days}d"


def date_text(value: object, parameter: str) -> str:
    """``date(2027, 1, 4)`` or ``"2027-01-04"`` -> ``"2027-01-04"``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        raise ParameterError(parameter, value, "a date without a time (datetime.date)")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise ParameterError(parameter, value, "a datetime.date or text YYYY-MM-DD")


def int_value(value: object, parameter: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(parameter, value, "a whole number")
    return value


def bool_value(value: object, parameter: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(parameter, value, "True or False")
    return value


def text_value(value: object, parameter: str) -> str:
    if not isinstance(value, str):
        raise ParameterError(parameter, value, "text")
    return value


def text_list(value: object, parameter: str) -> tuple[str, ...]:
    """A list (or tuple) of texts; one text is a list of one, never read letter by letter."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ParameterError(parameter, value, "a list of texts")


def option_value(kind: Value, value: object, parameter: str) -> object:
    """One option's value as the options take it (text, int, bool or a tuple of texts)."""
    convert = {
        Value.TEXT: text_value,
        Value.DOSE: dose_text,
        Value.DOSES: doses_text,
        Value.PERCENT: percent_text,
        Value.DAYS: days_text,
        Value.DURATION_OF_USE: days_text,
        Value.DATE: date_text,
        Value.NUMBER: number_value_text,
        Value.INT: int_value,
        Value.BOOL: bool_value,
        Value.LIST: text_list,
        Value.PATH: path_value,
    }[kind]
    return convert(value, parameter)


def path_value(value: object, parameter: str) -> str | os.PathLike[str]:
    """A file's path: text or an ``os.PathLike`` (a ``pathlib.Path``)."""
    if not isinstance(value, str | os.PathLike):
        raise ParameterError(parameter, value, "a path (str or pathlib.Path)")
    return value


def regimen_text(value: object, parameter: str) -> str:
    """A current dose: a daily total (a number of mg or text) or doses per dose time
    (``{"morning": 0.5, "night": 1}`` or ``"morning=0.5mg,night=1mg"``)."""
    if isinstance(value, Mapping):
        if not value or not all(isinstance(slot, str) for slot in value):
            raise ParameterError(parameter, value, "dose times (text) with their doses")
        return ",".join(
            f"{slot}={dose_text(dose, f'{parameter}[{slot!r}]')}" for slot, dose in value.items()
        )
    return dose_text(value, parameter)
