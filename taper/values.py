"""The Python values a library caller gives, checked and written as the text taper reads.

Options are text as people type them (``"10%"``, ``"2w"``, ``"0.5mg"``); a Python caller may
give the values themselves instead: numbers of mg (``int``, ``Decimal``, or ``float`` through
its shortest decimal repr, so ``0.1`` is 0.1 and never binary noise), ``datetime.date``,
``datetime.timedelta``, percentages as numbers (``10`` is 10%), booleans and lists.

The values a notebook holds are taken the same way, by their exact value: numpy integers
(``numpy.int64``) as ints, numpy floats through their shortest repr at their own precision
(``numpy.float64(0.1)`` is 0.1, as the float is; ``numpy.float32(0.1)`` is 0.1 too),
``numpy.bool_`` as a bool, a ``pandas.Timestamp`` (or ``datetime.datetime``,
``numpy.datetime64``) at midnight without a time zone as its date, a ``pandas.Timedelta``
(or ``numpy.timedelta64``) of whole days as its days, and a float that is a whole number
(``65.0``, as a pandas column with a gap holds ages) where a whole number is wanted.
A time of day, a part of a day, a time zone, NaN, ``pandas.NA`` or ``NaT`` is refused.

A percentage given as a Python number below 1 (``rate=0.1``) is refused: rates are
percentages, ``10`` or ``"10%"``, and a fraction is the likeliest slip. A rate below 1% is
still possible, as text with its sign (``rate="0.5%"``).

Each function here takes one value of one named parameter and returns the text the parsers
read, so that every value goes through the same checks whichever way it came; anything else
raises :class:`~taper.errors.ParameterError` naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, get_args, get_type_hints

from taper.errors import PERCENTAGES, ParameterError


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
    #: The label of its field on the web page, where the field's name in words would not do
    #: (``on``: "First day that changes"); the page's own table otherwise.
    label: str | None = None

    @property
    def repeatable(self) -> bool:
        """A list option is given once per item: ``--hold A --hold B``."""
        return self.value is Value.LIST


#: Each dataclass of options' annotations, evaluated (see :func:`_annotations`).
_EVALUATED: dict[type, dict[str, Any]] = {}


def _annotations(options: type) -> dict[str, Any]:
    """The fields' annotations, evaluated once a class (the command line's start builds its
    commands' parameters from them: evaluating them again cost it about 5 ms, issue 26)."""
    if options not in _EVALUATED:
        _EVALUATED[options] = get_type_hints(options, include_extras=True)
    return _EVALUATED[options]


def option_types(options: type[Any]) -> dict[str, Any]:
    """The type of each field of a dataclass of options, by field name (its
    ``Annotated[type, OptionSpec(...)]`` without the declaration)."""
    return {
        name: get_args(annotation)[0] if hasattr(annotation, "__metadata__") else annotation
        for name, annotation in _annotations(options).items()
    }


def option_specs(options: type[Any]) -> dict[str, OptionSpec]:
    """The :class:`OptionSpec` of each field of a dataclass of options, by field name, in
    the order of the fields; a field without one is a mistake, named."""
    specs: dict[str, OptionSpec] = {}
    for name, annotation in _annotations(options).items():
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


def _from_numpy(value: object) -> bool:
    return type(value).__module__ == "numpy"


def is_bool(value: object) -> bool:
    """True for ``True``/``False`` and numpy's booleans (never a number here)."""
    return isinstance(value, bool) or (_from_numpy(value) and type(value).__name__ == "bool")


def is_number(value: object) -> bool:
    """A real number taper reads by its exact value: an int or numpy integer, a Decimal, or a
    float or numpy float (not a bool, a complex number or a Fraction)."""
    if is_bool(value):
        return False
    if isinstance(value, numbers.Integral | Decimal | float):
        return True
    return _from_numpy(value) and isinstance(value, numbers.Real)


def is_missing(value: object) -> bool:
    """None, NaN (float, numpy or Decimal), ``pandas.NA`` or ``NaT``: a cell left empty."""
    if value is None:
        return True
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, float) or (_from_numpy(value) and isinstance(value, numbers.Real)):
        return value != value  # NaN
    return type(value).__name__ in {"NAType", "NaTType"} or (
        _from_numpy(value)
        and type(value).__name__ in {"datetime64", "timedelta64"}
        and str(value) == "NaT"
    )


def decimal_of(value: object, parameter: str) -> Decimal:
    """An exact Decimal from an int, a Decimal or a float (through its shortest repr), or
    their numpy kinds (a numpy float through its shortest repr at its own precision)."""
    if not is_number(value):
        raise ParameterError(parameter, value, "a number")
    if isinstance(value, numbers.Integral):
        number = Decimal(int(value))
    elif isinstance(value, Decimal):
        number = value
    elif _from_numpy(value):
        # numpy writes its floats shortest-first at their own precision; repr() would give
        # "np.float64(0.1)", which is not a number
        number = _decimal_text(str(value), value, parameter)
    else:
        number = _decimal_text(repr(value), value, parameter)
    if not number.is_finite():
        raise ParameterError(parameter, value, "a finite number")
    if number and not -_MAX_EXPONENT <= number.adjusted() <= _MAX_EXPONENT:
        raise ParameterError(parameter, value, "a number of a plausible size")
    return number


def _decimal_text(text: str, value: object, parameter: str) -> Decimal:
    import decimal

    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        raise ParameterError(parameter, value, "a finite number") from None


def whole_number(value: object, parameter: str, expected: str = "a whole number") -> int | None:
    """The int a number holds exactly (``3``, ``numpy.int64(3)``, ``3.0``), or None if it is
    not a number; a number with a fraction is refused."""
    if not is_number(value):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    number = decimal_of(value, parameter)
    if number != number.to_integral_value():
        raise ParameterError(parameter, value, expected)
    return int(number)


def number_text(value: Decimal) -> str:
    """A Decimal written plainly: ``Decimal("1E+1")`` -> ``"10"``, never an exponent."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _text(value: object, parameter: str) -> str | None:
    if isinstance(value, str):
        return value
    if is_number(value) or is_bool(value):
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
    """``10``, ``7.5`` or ``"10%"`` -> ``"10%"`` (a number is a number of percent).

    A number above 0 and below 1 is refused: ``rate=0.1`` is almost surely 10% written as a
    fraction, and read as 0.1% it would make a plan of years. Below 1%, write text with
    the sign, ``"0.5%"``."""
    text = _text(value, parameter)
    if text is not None:
        return text
    number = decimal_of(value, parameter)
    if 0 < number < 1:
        raise ParameterError(
            parameter, value, f"a number of percent ({PERCENTAGES}; below 1%, text such as '0.5%')"
        )
    return number_text(number) + "%"


def number_value_text(value: object, parameter: str) -> str:
    text = _text(value, parameter)
    return text if text is not None else number_text(decimal_of(value, parameter))


def _numpy_count(value: Any, unit: str) -> int:
    """A numpy datetime64 or timedelta64 as a count of ``unit`` (since 1970 for a date);
    of nanoseconds, only those a value at nanosecond precision has (others would overflow)."""
    if unit.endswith("[ns]") and not str(value.dtype).endswith("[ns]"):
        return 0
    return int(value.astype(unit).astype("int64"))


def _whole_days(value: object, parameter: str) -> int | None:
    if isinstance(value, str):
        return None
    expected = "a number of days, a timedelta or text such as '2w'"
    given = value
    if _from_numpy(value) and type(value).__name__ == "timedelta64" and not is_missing(value):
        if _numpy_count(value, "timedelta64[ns]") % 1000:
            raise ParameterError(parameter, given, "a whole number of days")
        value = dt.timedelta(microseconds=_numpy_count(value, "timedelta64[us]"))
    if isinstance(value, dt.timedelta):
        if value % dt.timedelta(days=1) or getattr(value, "nanoseconds", None):
            raise ParameterError(parameter, given, "a whole number of days")
        days = value.days
    elif (number := whole_number(value, parameter, expected)) is not None:
        days = number
    else:
        raise ParameterError(parameter, given, expected)
    if not 0 <= days <= _MAX_DAYS:
        raise ParameterError(parameter, given, f"from 0 to {_MAX_DAYS:,} days")
    return days


def days_value(value: object, parameter: str) -> int:
    """A whole number of days from a number, a ``timedelta`` or ``pandas.Timedelta``, or a
    numpy ``timedelta64`` (not text)."""
    if isinstance(value, str):
        raise ParameterError(parameter, value, "a number of days or a timedelta")
    days = _whole_days(value, parameter)
    assert days is not None  # only text gives None
    return days


def days_text(value: object, parameter: str) -> str:
    """``14``, ``timedelta(weeks=2)`` or ``"2w"`` -> text of days (``"14d"``)."""
    days = _whole_days(value, parameter)
    return value if isinstance(value, str) else f"{days}d"


def date_value(value: object, parameter: str) -> dt.date:
    """A ``datetime.date``; a datetime (``pandas.Timestamp``, ``numpy.datetime64``) only at
    midnight without a time zone, read as its date."""
    given = value
    if is_missing(value):
        raise ParameterError(parameter, given, "a datetime.date or text YYYY-MM-DD")
    without_time = "a date without a time (datetime.date)"
    if _from_numpy(value) and type(value).__name__ == "datetime64":
        if _numpy_count(value, "datetime64[ns]") % 1000:
            raise ParameterError(parameter, given, without_time)
        microseconds = _numpy_count(value, "datetime64[us]")
        value = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=microseconds)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None or value.time() != dt.time():
            raise ParameterError(parameter, given, without_time)
        if getattr(value, "nanosecond", 0):
            raise ParameterError(parameter, given, without_time)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ParameterError(parameter, given, "a datetime.date or text YYYY-MM-DD")


def date_text(value: object, parameter: str) -> str:
    """``date(2027, 1, 4)``, ``pandas.Timestamp("2027-01-04")`` or ``"2027-01-04"`` ->
    ``"2027-01-04"``."""
    if isinstance(value, str):
        return value
    return date_value(value, parameter).isoformat()


def int_value(value: object, parameter: str) -> int:
    number = whole_number(value, parameter)
    if number is None:
        raise ParameterError(parameter, value, "a whole number")
    return number


def bool_value(value: object, parameter: str) -> bool:
    if not is_bool(value):
        raise ParameterError(parameter, value, "True or False")
    return bool(value)


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
