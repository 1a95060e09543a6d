"""Read-only mappings in the frozen dataclasses a caller is handed.

The engine remembers whole plans and hands their parts to every caller that asks the same
question (issue 26), and a table is shared by every plan made with it: a caller that wrote
into a plan's ``ratios``, a request's ``regimen`` or a table's ``drugs`` would change what
the next caller is given, silently. A frozen dataclass stops ``plan.ratios = ...`` but not
``plan.ratios[...] = ...``; :class:`ReadOnlyMappings` makes its mapping fields read-only views
of copies made when it is built (``types.MappingProxyType``), so such a write raises
``TypeError``. They pickle and copy as plain dicts and come back read-only, so a plan or a table
still travels to another process (a researcher's pool, a batch worker without ``fork``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def read_only(mapping: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only view of a copy of ``mapping`` (the view itself if it is one already)."""
    if type(mapping) is MappingProxyType:
        return mapping
    return MappingProxyType(dict(mapping))


class ReadOnlyMappings:
    """A frozen dataclass whose fields named in ``_mappings`` are read-only (see the module)."""

    __slots__ = ()
    _mappings: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._mappings:
            object.__setattr__(self, name, read_only(getattr(self, name)))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in self._mappings:
            state[name] = dict(state[name])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()
