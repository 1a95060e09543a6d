"""Parsers for the schedule parameters people type: regimens, rates, intervals, dates, holds.

Each is strict, like the dose parser, and raises :class:`~taper.errors.InvalidRequestError`
with a message that says what to type instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from taper.doses import parse_dose
from taper.errors import PERCENTAGES, InvalidRequestError, literal
from taper.formatting import format_dose, format_number, to_decimal

#: Dose times, in the order of the day.
SLOTS = ("morning", "midday", "afternoon", "evening", "night")
SLOT_ALIASES = {"bedtime": "night", "noon": "midday"}
#: The usual dose times for ``--times N``.
TIMES = {
    1: ("night",),
    2: ("morning", "night"),
    3: ("morning", "midday", "night"),
    4: ("morning", "midday", "evening", "night"),
}
_UNIT_DAYS = {"d": 1, "w": 7}
#: Longest interval, hold or duration accepted (five years).
MAX_DAYS = 5 * 366


class Region(StrEnum):
    """The product sets of the table (``regions`` of each product). Any case is accepted:
    ``Region("UK")`` is ``Region.UK``."""

    US = "us"
    UK = "uk"

    @classmethod
    def _missing_(cls, value: object) -> Region | None:
        text = value.strip().lower() if isinstance(value, str) else None
        return next((member for member in cls if member.value == text), None)


_Choice = TypeVar("_Choice", bound=StrEnum)


def parse_choice(kind: type[_Choice], value: object, parameter: str) -> _Choice:
    """The member of the closed set ``kind`` that ``value`` names (a member, or its text in
    the set's case; :class:`Region` in any case); anything else is refused with the choices,
    naming the parameter."""
    try:
        return kind(value)  # type: ignore[arg-type]  # anything else raises ValueError
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidRequestError(
            f"unknown {{{parameter}}}; use {choices}", parameters={parameter: value}
        ) from None


def drug_dose_pairs(items: Sequence[str]) -> list[tuple[str, str]]:
    """``["clonazepam", "1mg", "diazepam", "5mg"]`` -> the (drug, dose) pairs."""
    if len(items) % 2:
        raise InvalidRequestError(
            f"give each current drug with its dose (DRUG DOSE ...); {items[-1]!r} has no dose"
        )
    return list(zip(items[0::2], items[1::2], strict=True))


def parse_slot(text: str) -> str:
    name = text.strip().lower()
    name = SLOT_ALIASES.get(name, name)
    if name not in SLOTS:
        raise InvalidRequestError(
            f"unknown dose time {text.strip()!r}; use {', '.join(SLOTS)} (or bedtime)"
        )
    return name


def parse_regimen(text: str) -> dict[str, Decimal]:
    """``"morning=0.5mg,night=1mg"`` -> {"morning": 0.5, "night": 1} in the order of the day."""
    doses: dict[str, Decimal] = {}
    for part in text.split(","):
        if "=" not in part:
            raise InvalidRequestError(
                f"cannot read dose time {part.strip()!r}; write e.g. 'morning=0.5mg,night=1mg'"
            )
        name, dose = part.split("=", 1)
        slot = parse_slot(name)
        if slot in doses:
            raise InvalidRequestError(f"dose time {slot!r} is given twice")
        doses[slot] = parse_dose(dose)
    return {slot: doses[slot] for slot in SLOTS if slot in doses}


def parse_percent(text: str, what: str = "rate", parameter: str = "rate") -> Decimal:
    """``"10%"`` or ``"10"`` -> Decimal(10); must be above 0 and below 100. Below 1, the %
    sign is needed: ``"0.5"`` is refused (a fresh user's review: ``--rate 0.5`` was read as
    0.5%, a plan of years, where 50% or a fraction was as likely meant), ``"0.5%"`` is not."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*", text, re.ASCII)
    if match is None:
        raise InvalidRequestError(f"cannot read {what} {text!r}; write a percentage such as '10%'")
    value = Decimal(match.group(1))
    if Decimal(0) < value < 1 and not match.group(2):
        raise InvalidRequestError(
            f"{{{parameter}}}: {PERCENTAGES}; below 1%, write the sign, as in "
            f"{literal(repr(text.strip() + '%'))}",
            parameters={parameter: text.strip()},
        )
    if not Decimal(0) < value < Decimal(100):
        raise InvalidRequestError(f"{what} {text!r} must be above 0% and below 100%")
    return value


def parse_days(text: str, what: str = "interval") -> int:
    """``"2w"``, ``"10d"``, ``"14"`` (days) -> a whole number of days, at least 1."""
    match = re.fullmatch(r"\s*([0-9]{1,5})\s*([dw]?)\s*", text.lower(), re.ASCII)
    if match is None:
        raise InvalidRequestError(
            f"cannot read {what} {text!r}; write days or weeks such as '10d' or '2w'"
        )
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2) or "d"]
    if days < 1:
        raise InvalidRequestError(f"{what} {text!r} must be at least one day")
    if days > MAX_DAYS:
        raise InvalidRequestError(f"{what} {text!r} is longer than five years")
    return days


def parse_date(text: str, what: str = "date") -> dt.date:
    """An ISO date, ``2027-01-04``."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text.strip(), re.ASCII):
        raise InvalidRequestError(f"cannot read {what} {text!r}; write it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InvalidRequestError(f"{what} {text!r} is not a real date ({exc})") from exc


def parse_positive_number(text: str, what: str, maximum: Decimal | None = None) -> Decimal:
    """A plain number greater than zero, written as the ISMP rules write numbers (digits, one
    point, a leading zero: no ``1_00``, ``1e3``, ``.5`` or other scripts' digits), that the
    formatter writes back as it is (no digits beyond 0.001), and at most ``maximum``."""
    shown = text if len(text) <= 40 else text[:40] + "..."
    if not re.fullmatch(r"\s*(?:0|[1-9][0-9]*)(?:\.[0-9]+)?\s*", text):
        raise InvalidRequestError(f"cannot read {what} {shown!r}; write a number such as 2.5")
    value = Decimal(text.strip())
    if value <= 0:
        raise InvalidRequestError(f"{what} {shown!r} must be a number greater than zero")
    if maximum is not None and value > maximum:
        raise InvalidRequestError(f"{what} {shown!r} must be at most {format_number(maximum)}")
    if not to_decimal(value)[1]:
        raise InvalidRequestError(
            f"{what} {shown!r} has digits beyond 0.001 and cannot be written faithfully"
        )
    return value


def parse_dose_list(text: str) -> tuple[Decimal, ...]:
    """``"0.75mg,0.5mg,0.25mg"`` -> the doses, which must go down."""
    doses = tuple(parse_dose(part) for part in text.split(","))
    for before, after in itertools.pairwise(doses):
        if after >= before:
            raise InvalidRequestError(f"steps must go down; {after} mg follows {before} mg")
    return doses


@dataclass(frozen=True)
class Hold:
    """Stay at a dose longer: after step N, at (or below) a dose, or after every Nth step."""

    kind: str  # "after-step" | "at" | "every"
    days: int
    step: int = 0
    dose_mg: Decimal = Decimal(0)

    def text(self) -> str:
        where = {
            "after-step": f"after step {self.step}",
            "every": f"after every {self.step} steps",
            "at": f"at {format_dose(self.dose_mg)}",
        }[self.kind]
        return f"hold {self.days} days {where}"


def parse_hold(text: str) -> Hold:
    """``after-step:3:2w``, ``every:3:2w`` or ``at:0.5mg:4w``."""
    parts = text.strip().split(":")
    if len(parts) != 3 or parts[0] not in {"after-step", "every", "at"}:
        raise InvalidRequestError(
            f"cannot read hold {text!r}; write 'after-step:3:2w', 'every:3:2w' or 'at:0.5mg:4w'"
        )
    kind, where, length = parts
    days = parse_days(length, "hold")
    if kind == "at":
        return Hold(kind, days, dose_mg=parse_dose(where))
    if not re.fullmatch(r"[0-9]{1,4}", where) or int(where) < 1:
        raise InvalidRequestError(f"hold {text!r}: the step must be a whole number from 1")
    return Hold(kind, days, step=int(where))
