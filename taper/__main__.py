"""``python -m taper`` and the ``taper`` command.

The Typer app is ``cli.py`` at the root of the repository, so that nothing in the library
imports typer or rich. A wheel carries it as ``taper/_cli.py``; in a source checkout or an
editable install it is loaded from the root by path, never as a top-level ``cli`` module that
another package could shadow.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

_APP_MODULE = "taper._cli"


def load_cli() -> ModuleType:
    """The module holding the Typer app, wherever this copy of taper was installed from."""
    try:
        return importlib.import_module(_APP_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != _APP_MODULE:
            raise
    path = Path(__file__).resolve().parent.parent / "cli.py"
    spec = importlib.util.spec_from_file_location(_APP_MODULE, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a broken checkout
        raise ModuleNotFoundError(f"taper's command line is missing: {path}", name=_APP_MODULE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_APP_MODULE] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    cli = load_cli()
    # What the start made (modules, classes, functions, the Typer app) lives as long as the
    # process: frozen, the cyclic garbage collector never scans it again, and the process's
    # exit, whose collection scanned all of it, takes about 25 ms less CPU (issue 26). What
    # a command makes afterwards (its outputs included) is collected as before.
    gc.freeze()
    cli.main()


if __name__ == "__main__":
    main()
