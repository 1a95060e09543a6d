"""Warnings that travel with a result: each with a stable kind code and its message.

A kind names the warning's real cause, so that programs can count and filter them (the batch
summary has a column per kind, JSON outputs carry ``{"kind", "message"}``) and people can read
the message. The kinds are listed in the README ("Warning kinds"); a kind, once published, keeps
its meaning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from taper.formatting import printable


class Kind(StrEnum):
    # The pace of a plan (2025 Joint Guideline).
    CEILING = "ceiling"
    START_PACE = "start-pace"
    TARGET_PACE = "target-pace"
    FORCED_CUT = "forced-cut"
    STOP_DOSE = "stop-dose"
    LONG_PLAN = "long-plan"
    #: A named pace (--pace): its source, and the options given that override it.
    PACE = "pace"
    # Conversion and switching.
    NO_EQUIVALENT = "no-equivalent"
    SOURCE_SPREAD = "source-spread"
    SWITCH_AT_ONCE = "switch-at-once"
    SWITCH_ROUNDING = "switch-rounding"
    SWITCH_REDUCTION = "switch-reduction"
    FINISH_ON = "finish-on"
    # Dispensing.
    SMALL_VOLUME = "small-volume"
    ACCUMULATION = "accumulation"
    ABOVE_MAXIMUM = "above-maximum"
    #: A switch that adds a dose time (a stated maximum single dose requires it).
    DOSE_TIME_ADDED = "dose-time-added"
    #: A switched diazepam dose larger at one time than the Ashton Manual writes (25 mg).
    LARGE_SINGLE_DOSE = "large-single-dose"
    #: A switch cut the old drug during the crossover (the Ashton Manual, high doses).
    CROSSOVER_CUT = "crossover-cut"
    #: A crossover stage raises the day's diazepam equivalent, making up what rounding to the
    #: products lost at an earlier stage (never above the load the switch starts from).
    CROSSOVER_RISE = "crossover-rise"
    DRUG_NOTE = "drug-note"
    # Dose bands and the patient (guardrails).
    HIGH_DOSE = "high-dose"
    SPECIALIST_DOSE = "specialist-dose"
    RARE_USE = "rare-use"
    AGE = "age"
    SEIZURES = "seizures"
    OPIOIDS = "opioids"
    ALCOHOL = "alcohol"
    LIVER = "liver"


@dataclass(frozen=True)
class Notice:
    """One warning: its kind (a stable code) and its message in words."""

    kind: Kind
    message: str

    def __str__(self) -> str:
        return self.message


def warning_lines(notices: Iterable[Notice]) -> str:
    """Warnings for a terminal's error stream, one line each: ``taper: warning: ...``, with
    control characters (from a custom table's notes) written as escapes."""
    return "".join(f"taper: warning: {printable(notice.message)}\n" for notice in notices)
