"""taper: benzodiazepine dose equivalence and taper schedules, for clinicians to review.

The library behind the ``taper`` command. It never imports the command-line libraries::

    >>> from taper import convert_dose
    >>> conversion = convert_dose([("clonazepam", "1.5mg")], to="diazepam")
    >>> conversion.chosen.text()
    '30 mg'
    >>> from taper import plan_taper
    >>> plan = plan_taper("clonazepam", "1mg", rate="10%", every="2w", start="2027-01-04")
    >>> [str(step.total_mg) for step in plan.steps][:4]
    ['1', '0.875', '0.75', '0.625']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taper.batch import BatchFrames, ScenarioPlan, batch, sweep
    from taper.check import PlanCheck, check_plan
    from taper.convert import Conversion, SourceResult, Spread, convert_dose
    from taper.doses import parse_dose
    from taper.errors import (
        DoseSyntaxError,
        HighDoseError,
        InvalidRequestError,
        NoEquivalenceError,
        ParameterError,
        TableError,
        TaperError,
        UnknownNameError,
    )
    from taper.formatting import format_dose, format_dose_range
    from taper.frames import read_plans
    from taper.options import Method, Order, ScheduleOptions, TaperRequest
    from taper.plan import Plan, Step
    from taper.schedule import TaperPlan, build_plan, load_plan, plan_taper
    from taper.table import Drug, EquivalenceSource, EquivalenceTable, ValueRange, load_table

#: Where each public name lives; modules are imported on first use, so that
#: ``import taper`` (and the command line's start-up) does no work it does not need.
_EXPORTS = {
    "taper.batch": ("BatchFrames", "ScenarioPlan", "sweep"),
    "taper.convert": ("Conversion", "SourceResult", "Spread", "convert_dose"),
    "taper.doses": ("parse_dose",),
    "taper.errors": (
        "DoseSyntaxError",
        "HighDoseError",
        "InvalidRequestError",
        "NoEquivalenceError",
        "ParameterError",
        "TableError",
        "TaperError",
        "UnknownNameError",
    ),
    "taper.formatting": ("format_dose", "format_dose_range"),
    "taper.frames": ("read_plans",),
    "taper.check": ("PlanCheck", "check_plan"),
    "taper.options": ("Method", "Order", "ScheduleOptions", "TaperRequest"),
    "taper.plan": ("Plan", "Step"),
    "taper.schedule": ("TaperPlan", "build_plan", "load_plan", "plan_taper"),
    "taper.table": ("Drug", "EquivalenceSource", "EquivalenceTable", "ValueRange", "load_table"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    if name == "batch":  # the module taper.batch, which is callable: taper.batch(scenarios)
        return importlib.import_module("taper.batch")
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'taper' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__version__ = "0.1.0"

__all__ = [
    "BatchFrames",
    "Conversion",
    "DoseSyntaxError",
    "Drug",
    "EquivalenceSource",
    "EquivalenceTable",
    "HighDoseError",
    "InvalidRequestError",
    "Method",
    "NoEquivalenceError",
    "Order",
    "ParameterError",
    "Plan",
    "PlanCheck",
    "ScenarioPlan",
    "ScheduleOptions",
    "SourceResult",
    "Spread",
    "Step",
    "TableError",
    "TaperError",
    "TaperPlan",
    "TaperRequest",
    "UnknownNameError",
    "ValueRange",
    "__version__",
    "batch",
    "build_plan",
    "check_plan",
    "convert_dose",
    "format_dose",
    "format_dose_range",
    "load_plan",
    "load_table",
    "parse_dose",
    "plan_taper",
    "read_plans",
    "sweep",
]
