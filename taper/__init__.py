"""taper: benzodiazepine dose equivalence and taper schedules, for clinicians to review.

The library behind the ``taper`` command. It never imports the command-line libraries::

    >>> from taper import convert_dose
    >>> conversion = convert_dose([("clonazepam", "1.5mg")], to="diazepam")
    >>> conversion.chosen.text()
    '30 mg'
"""

from taper.convert import Conversion, SourceResult, Spread, convert_dose
from taper.doses import parse_dose
from taper.errors import (
    DoseSyntaxError,
    HighDoseError,
    InvalidRequestError,
    NoEquivalenceError,
    TableError,
    TaperError,
    UnknownNameError,
)
from taper.formatting import format_dose, format_dose_range
from taper.table import Drug, EquivalenceSource, EquivalenceTable, ValueRange, load_table

__version__ = "0.1.0"

__all__ = [
    "Conversion",
    "DoseSyntaxError",
    "Drug",
    "EquivalenceSource",
    "EquivalenceTable",
    "HighDoseError",
    "InvalidRequestError",
    "NoEquivalenceError",
    "SourceResult",
    "Spread",
    "TableError",
    "TaperError",
    "UnknownNameError",
    "ValueRange",
    "__version__",
    "convert_dose",
    "format_dose",
    "format_dose_range",
    "load_table",
    "parse_dose",
]
