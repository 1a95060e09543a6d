"""Shared fixtures: the bundled table, a tiny table, and a CLI runner helper."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from taper.__main__ import load_cli
from taper.table import EquivalenceTable, load_table

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"

TINY_TABLE = """\
schema_version = 1
reference_drug = "diazepam"
reference_dose_mg = 10
default_source = "alpha"

[sources.alpha]
title = "Alpha table"
author = "A. Author"
year = 2020
url = ""
reference_dose_mg = 10
grade = "A"

[sources.beta]
title = "Beta table"
author = "B. Author"
url = ""
reference_dose_mg = 5
grade = "B"

[drugs.diazepam]
class = "benzodiazepine"
aliases = ["Valium"]
[drugs.diazepam.equivalents]
alpha = 10
beta = 5

[drugs.clonazepam]
class = "benzodiazepine"
aliases = ["Klonopin"]
[drugs.clonazepam.equivalents]
alpha = 0.5
beta = [0.25, 0.5]
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="Rewrite golden files from current output."
    )


@pytest.fixture(scope="session")
def table() -> EquivalenceTable:
    return load_table()


@pytest.fixture
def tiny_table_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TABLE, encoding="utf-8")
    return path


@dataclass
class Run:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session")
def cli_app() -> Any:
    return load_cli().app


@pytest.fixture
def run(cli_app: Any) -> Any:
    """Run `taper ARGS...` in-process; returns exit status, stdout and stderr."""
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Run:
        result = runner.invoke(
            cli_app,
            list(args),
            prog_name="taper",
            env={"COLUMNS": "100", "TAPER_TABLE": None, **(env or {})},  # type: ignore[dict-item]
        )
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Any:
    """Compare text with tests/golden/NAME (rewrite it with --update-golden)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8")

    return check


# Property tests must not fail on a slow CI machine for timing alone.
settings.register_profile("taper", deadline=None, print_blob=True)
settings.load_profile("taper")
