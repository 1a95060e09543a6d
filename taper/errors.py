"""The one error hierarchy of `taper`.

Every error the library raises on purpose is a :class:`TaperError`. Each subclass also
inherits the matching built-in (``ValueError``, ``LookupError``) so that callers who do not
know this library can still catch it sensibly, and carries structured fields for programs.
The command line shows the error on one line; ``is_usage`` tells it whether the user typed
something malformed (exit 2) or asked for something the data refuses (exit 1).

**Errors speak to their reader.** A library error never spells a command-line flag: a
Python caller passed ``switch_reduction=``, not ``--switch-reduction``. A message names a
parameter by a placeholder in braces, and gives the parameter's value (or None, to name it
without one) in ``parameters``::

    raise InvalidRequestError(
        "{switch_reduction} goes with {switch_to} or {finish_on}",
        parameters={"switch_reduction": "25%", "switch_to": None, "finish_on": None},
    )

``str(error)`` (what a Python caller sees) spells each as Python does:
``switch_reduction='25%' goes with switch_to= or finish_on=``. The command line calls
``error.render(spell)`` with its own speller, which looks the flag up in the options'
declarations: ``--switch-reduction 25% goes with --switch-to or --finish-on``. Only names in
``parameters`` are replaced, so other braces in a message are left as they are.
``tests/test_errors.py`` checks that no message a Python caller can see names a flag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

#: A parameter named in a message template: ``{switch_reduction}``.
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}")
#: How a parameter is spelled in a message: from its name and value (None: no value).
Speller = Callable[[str, object], str]


#: What a percentage given as a fraction is told (``rate=0.1``, ``--rate 0.5``).
PERCENTAGES = "rates are percentages: 10 or '10%'"


def literal(text: str) -> str:
    """User text put into a message that names parameters: its braces kept as they are."""
    return text.replace("{", "{{").replace("}", "}}")


def python_spelling(name: str, value: object) -> str:
    """A parameter as a Python caller passes it: ``switch_reduction='25%'``, ``switch_to=``."""
    return f"{name}=" if value is None else f"{name}={shown_value(value)}"


def shorten(text: str, limit: int = 60) -> str:
    """User text quoted in a message: at most ``limit`` characters (a 100 KB dose is not
    echoed whole)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


#: The longest error line shown; an echoed value within it is cut to :func:`shorten`'s limit.
MAX_MESSAGE_CHARS = 1000
#: A quoted value: the quote opens after no letter and closes before none, so that the
#: apostrophes of prose ("the Manual's schedules ... the Manual's crossover") are no quotes.
_LONG_QUOTED = re.compile(r"(?<!\w)'([^']{81,})'(?!\w)|(?<!\w)\"([^\"]{81,})\"(?!\w)")
_LONG_WORD = re.compile(r"\S{201,}")


def shorten_message(message: str) -> str:
    """An error line with every long value it echoes cut with an ellipsis (a quoted text
    past 80 characters, a word past 200), and a line still longer than
    :data:`MAX_MESSAGE_CHARS` cut in its middle: a 100 kB option value is never echoed
    whole."""
    if len(message) <= 200:
        return message

    def quoted(match: re.Match[str]) -> str:
        quote = "'" if match[1] is not None else '"'
        return f"{quote}{shorten(match[1] if match[1] is not None else match[2])}{quote}"

    message = _LONG_QUOTED.sub(quoted, message)
    message = _LONG_WORD.sub(lambda match: shorten(match[0]), message)
    if len(message) > MAX_MESSAGE_CHARS:  # the start and the end, which says what to do
        cut = f" ...({len(message) - MAX_MESSAGE_CHARS // 2:,} characters left out)... "
        message = message[: MAX_MESSAGE_CHARS // 4] + cut + message[-MAX_MESSAGE_CHARS // 4 :]
    return message


def shown_value(value: object, limit: int = 60) -> str:
    """A Python value quoted in a message: its repr, at most ``limit`` characters; an integer
    too long for Python to write out (``10**5000``) by its size, never an error of its own."""
    if isinstance(value, int) and value.bit_length() > 3 * limit:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"{'-' if value < 0 else ''}<an integer of about {digits:,} digits>"
    try:
        shown = repr(value)
    except Exception:  # a repr that fails is still no reason for a second error
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class TaperError(Exception):
    """Base class of every deliberate `taper` error.

    ``message`` may name parameters as ``{name}`` placeholders, with their values in
    ``parameters`` (see the module's docstring); ``str(error)`` spells them as Python does.
    """

    #: True when the error is about the form of what the user typed (exit status 2).
    is_usage: bool = False
    #: The message with its parameters as ``{name}`` placeholders.
    template: str = ""
    #: The parameters the message names, with the value given (None: named without one).
    parameters: Mapping[str, object] = {}

    def __init__(
        self,
        message: str = "",
        *,
        parameters: Mapping[str, object] | None = None,
        context: str = "",
    ) -> None:
        self.template = message
        self.parameters = dict(parameters or {})
        self.context = context
        super().__init__(self.render(python_spelling))

    def render(self, spell: Speller) -> str:
        """The message with each named parameter spelled by ``spell(name, value)``."""
        if not self.parameters:
            return self.context + self.template

        def spelled(match: re.Match[str]) -> str:
            if match[0] in ("{{", "}}"):
                return match[0][0]
            name = match[1]
            return spell(name, self.parameters[name]) if name in self.parameters else match[0]

        return self.context + _PLACEHOLDER.sub(spelled, self.template)

    def __str__(self) -> str:
        """The message, a long value it echoes cut (:func:`shorten_message`); the
        structured fields keep it whole."""
        return shorten_message(super().__str__())


class DoseSyntaxError(TaperError, ValueError):
    """A dose string that the strict dose parser refuses."""

    is_usage = True

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid dose {shorten(text)!r}: {reason}")


class UnknownNameError(TaperError, LookupError):
    """A drug or source name that the table does not know."""

    is_usage = True

    def __init__(self, kind: str, name: str, suggestions: Sequence[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = tuple(suggestions)
        message = f"unknown {kind} {shorten(name)!r}"
        if self.suggestions:
            message += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        else:
            message += f"; run 'taper {kind}s' to list them"
        super().__init__(message)


class TableError(TaperError, ValueError):
    """An equivalence table file that cannot be read or does not follow the schema."""

    def __init__(self, path: str, key_path: str, reason: str) -> None:
        self.path = path
        self.key_path = key_path
        self.reason = reason
        where = f"{path}: {key_path}: " if key_path else f"{path}: "
        super().__init__(f"{where}{reason}")


class NoEquivalenceError(TaperError, LookupError):
    """The chosen source gives no equivalent for a drug that the conversion needs."""

    def __init__(self, drug: str, source: str, sources_with_value: Sequence[str]) -> None:
        self.drug = drug
        self.source = source
        self.sources_with_value = tuple(sources_with_value)
        message = f"source {source!r} gives no equivalent for {drug}"
        if self.sources_with_value:
            message += "; sources that do: " + ", ".join(self.sources_with_value)
        super().__init__(message)


class HighDoseError(TaperError, ValueError):
    """A dose above the usual maximum daily dose recorded in the table."""

    def __init__(
        self,
        drug: str,
        dose_text: str,
        max_text: str,
        note: str,
        advice: str | None = None,
        limit: str = "the usual maximum",
        parameters: Mapping[str, object] | None = None,
    ) -> None:
        self.drug = drug
        self.dose_text = dose_text
        self.max_text = max_text
        self.note = note
        advice = advice or "check the dose, or pass {allow_high_dose} to go ahead deliberately"
        super().__init__(
            f"{drug} {dose_text} is above {limit} of {max_text} a day ({note}); " + advice,
            parameters={
                "allow_high_dose": True,
                "switch_reduction": None,
                "source": None,
                **(parameters or {}),
            },
        )


class InvalidRequestError(TaperError, ValueError):
    """A request whose parts do not fit together (e.g. a drug without a dose)."""

    is_usage = True


class ParameterError(InvalidRequestError, TypeError):
    """A value of the wrong kind given to a parameter of the Python API (names it)."""

    def __init__(self, parameter: str, value: object, expected: str) -> None:
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(
            f"{parameter} must be {expected}, not {type(value).__name__} {shown_value(value)}"
        )


class UndispensableDoseError(TaperError, ValueError):
    """A dose that the chosen products cannot make."""


class DataFileError(TaperError, ValueError):
    """A plan or scenario file that cannot be read as one."""

    def __init__(
        self,
        path: str,
        line: int | None,
        reason: str,
        *,
        parameters: Mapping[str, object] | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}, line {line}" if line else path
        super().__init__(reason, parameters=parameters, context=f"{where}: ")


class PlanFileError(DataFileError):
    """A plan file (``taper check``) that cannot be read as a plan."""


class ScenarioFileError(DataFileError):
    """A scenario file (``taper batch``) that cannot be read at all."""


class OutputFileError(TaperError, OSError):
    """An output file that cannot (or may not) be written."""

    def __init__(
        self, path: str, reason: str, *, parameters: Mapping[str, object] | None = None
    ) -> None:
        self.path = path
        self.reason = reason
        super().__init__(reason, parameters=parameters, context=f"cannot write {path}: ")


class MissingExtraError(TaperError, ImportError):
    """An optional library that an output needs is not installed."""

    def __init__(self, what: str, extra: str, module: str, *, parameter: str | None = None):
        self.extra = extra
        needs = f"needs the optional package {module!r}: pip install 'taper[{extra}]'"
        if parameter is None:
            super().__init__(f"{what} {needs}")
        else:  # the option that asked for it
            super().__init__(f"{{{parameter}}} {needs}", parameters={parameter: None})


def require_extra(module: str, what: str, extra: str, *, parameter: str | None = None) -> None:
    """Fail with a clear message if the optional library ``module`` is missing; ``what``
    names the output that needs it, or ``parameter`` the option that asked for it."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(what, extra, module, parameter=parameter)
