"""What does converting micrograms with pint cost a process? Each way of building a registry.

Runs fresh processes, interleaved, each doing one of: nothing (``python -c pass``, the floor),
importing typer and rich (for scale), importing pint alone, taper's way (importing
``pint.facets.plain`` and building its registry of three mass units from pint's definition
objects, then converting 500 micrograms), the same registry defined as text (taper's way
before issue 26: pint's parser compiles Python's tokenizer patterns on first use), pint's default
registry, and pint's default registry read from pint's own definition cache
(``cache_folder``, filled by a warm-up run). Prints each one's CPU time (user + system) and
its excess over the floor sample of the same round, as ``median (min-max)``.

    python benchmarks/units.py [--runs 11] [--tiny]
"""

from __future__ import annotations

import sys
import tempfile
import time

from _measure import environment_note, rounds, spread, time_process

#: Before issue 26: the three units defined as text, and named as text, which pint parses.
FROM_TEXT = (
    "from decimal import Decimal; from pint.facets.plain import PlainRegistry; "
    "r = PlainRegistry(None, non_int_type=Decimal); r.define('gram = [mass]'); "
    "r.define('milligram = gram / 1000'); r.define('microgram = milligram / 1000'); "
    "r.Quantity(Decimal(500), r.Unit('microgram')).to(r.milligram)"
)
#: taper's way (taper.doses): pint's definition objects and unit containers, no text parsed.
TAPERS_WAY = (
    "from decimal import Decimal; "
    "from pint.facets.plain import PlainRegistry, ScaleConverter, UnitDefinition; "
    "from pint.util import UnitsContainer; "
    "u = lambda name: UnitsContainer({name: Decimal(1)}, non_int_type=Decimal); "
    "r = PlainRegistry(None, non_int_type=Decimal); "
    "[r.define(UnitDefinition(n, None, (), ScaleConverter(Decimal(s)), u(ref))) for n, ref, s in "
    "(('gram', '[mass]', 1), ('milligram', 'gram', '0.001'), "
    "('microgram', 'milligram', '0.001'))]; "
    "r.Quantity(Decimal(500), r.Unit(u('microgram'))).to(r.Unit(u('milligram')))"
)


def _cpu(code: str) -> float:
    return time_process([sys.executable, "-c", code])[1]


def main() -> None:
    runs = rounds(__doc__.splitlines()[0], 11)
    with tempfile.TemporaryDirectory() as cache:
        variants = {
            "floor: python -c pass": "pass",
            "import typer, rich (for scale)": "import typer, rich",
            "import pint (nothing built)": "import pint",
            "taper's registry: pint.facets.plain, 3 units": TAPERS_WAY,
            "  the same defined and named as text (before)": FROM_TEXT,
            "pint.UnitRegistry() (default definitions)": (
                "import pint; r = pint.UnitRegistry(); r.Quantity(500, 'microgram').to('mg')"
            ),
            "the same from pint's definition cache": (
                f"import pint; r = pint.UnitRegistry(cache_folder={cache!r}); "
                "r.Quantity(500, 'microgram').to('mg')"
            ),
        }
        start = time.perf_counter()
        for code in variants.values():  # warm-up: bytecode, pint's definition cache
            _cpu(code)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(runs):
            for name, code in variants.items():
                samples[name].append(_cpu(code))
    floor = samples["floor: python -c pass"]
    print(f"{runs} interleaved rounds, CPU ms, median (min-max); {environment_note()}")
    for name, values in samples.items():
        excess = [value - base for value, base in zip(values, floor, strict=True)]
        print(
            f"  {name:48} {spread(values, 1000, 1):>22}   over the floor {spread(excess, 1000, 1)}"
        )
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
