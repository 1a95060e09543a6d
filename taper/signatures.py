"""Command signatures built from option declarations: adding an option is one field.

A command of the command line takes its options as objects (:class:`taper.options.
ScheduleOptions`, :class:`taper.outputs.PlanOutputs`...). :func:`with_options` gives the
command one parameter per field of each, made from the field's
:class:`~taper.values.OptionSpec` by ``make_option`` (the command line's own option factory;
nothing here imports a command-line library), and hands the command one object of each
dataclass. Models: pip-tools' reusable option objects, httpie's parser spec.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, cast

from taper.values import OptionSpec, option_specs, option_types

_Options = TypeVar("_Options")
_Command = TypeVar("_Command", bound=Callable[..., Any])
#: Makes the command line's option of a declaration, for the field of that name.
OptionFactory = Callable[[OptionSpec, str], Any]


def option_parameters(options: type[Any], make_option: OptionFactory) -> list[inspect.Parameter]:
    """One parameter per field of a dataclass of options, built from the field's
    :class:`~taper.values.OptionSpec` (flag, short name, placeholder, panel, help), its type
    and its default: the command line's copy of the declaration, never written by hand."""
    types, specs = option_types(options), option_specs(options)
    parameters = []
    for field in dataclasses.fields(options):
        spec = specs[field.name]
        kind, default = types[field.name], field.default
        if default is dataclasses.MISSING:  # a required option
            default = inspect.Parameter.empty
        if spec.repeatable:  # --hold A --hold B: a list, empty when not given
            kind, default = list[str] | None, None
        parameters.append(
            inspect.Parameter(
                field.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=default,
                annotation=cast(Any, Annotated)[kind, make_option(spec, field.name)],
            )
        )
    return parameters


def options_object(options: type[_Options], values: Mapping[str, Any]) -> _Options:
    """The dataclass of options from the values of its parameters (lists as tuples)."""
    given = {name: tuple(v) if isinstance(v, list) else v for name, v in values.items()}
    return options(**{name: value for name, value in given.items() if value is not None})


def with_options(
    make_option: OptionFactory, **bundles: type[Any]
) -> Callable[[_Command], _Command]:
    """Give a command the options of each dataclass in ``bundles`` (its parameter's name ->
    the dataclass): the command line sees one parameter per field
    (:func:`option_parameters`), and the command receives one object of each dataclass."""

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            bundle = bundles.get(parameter.name)
            parameters.extend(
                option_parameters(bundle, make_option)
                if bundle
                else [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY)]
            )

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            for name, bundle in bundles.items():
                fields = [field.name for field in dataclasses.fields(bundle)]
                values[name] = options_object(bundle, {f: values.pop(f) for f in fields})
            return command(**values)

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return cast(_Command, run)

    return decorate
