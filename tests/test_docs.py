"""The documentation cannot drift: every page is in the site's nav, the command-line
reference is the commands' live help, and the map of the house lists every import edge.
(Every console and Python example of the docs is run by ``tests/test_project.py``.)

Rewrite the generated parts with ``pytest tests/test_docs.py --update-golden``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from .conftest import ROOT
from .test_project import _import_graph

DOCS = ROOT / "docs"
#: The width the reference is written at.
WIDTH = "88"


def _nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text[text.index("\nnav:") :]
    return re.findall(r"^\s*- (?:[^:\n]+: )?([\w./-]+\.md)\s*$", nav, re.MULTILINE)


def test_every_page_is_in_the_nav() -> None:
    """A page that another change adds must be given its place in the nav."""
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    missing = [page for page in pages if page not in _nav_pages()]
    assert not missing, (
        f"docs pages missing from the nav of mkdocs.yml: {missing}; add a line such as "
        f"'      - Title: {missing[0]}' under nav"
    )
    assert sorted(set(_nav_pages())) == sorted(_nav_pages()), "a page is twice in the nav"
    assert all((DOCS / page).exists() for page in _nav_pages())


def _generated(path: Path, marker: str, body: str, update: bool) -> None:
    """Compare (or rewrite) the part of ``path`` between ``<!-- marker -->`` and
    ``<!-- /marker -->``."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {marker} -->\n", f"<!-- /{marker} -->"
    assert start in text, f"{path.name} has no {start.strip()} marker"
    assert end in text, f"{path.name} has no {end} marker"
    before, rest = text.split(start, 1)
    current, after = rest.split(end, 1)
    if update:
        path.write_text(before + start + body + end + after, encoding="utf-8")
        return
    assert current == body, (
        f"{path.name} is out of date; rewrite it with pytest tests/test_docs.py --update-golden"
    )


def _cli_reference(cli_app: Any) -> str:
    runner = CliRunner()
    parts = []
    import typer

    # Every command the app has, in its order: a hand-kept list had left out revise and serve.
    commands = list(typer.main.get_command(cli_app).commands)  # type: ignore[attr-defined]
    for command in ("", *commands):
        args = [command, "--help"] if command else ["--help"]
        env = {"COLUMNS": WIDTH, "TAPER_TABLE": None, "TAPER_REGION": None}
        result = runner.invoke(cli_app, args, prog_name="taper", env=env)  # type: ignore[arg-type]
        assert result.exit_code == 0, result.output
        title = f"taper {command}".strip()
        parts.append(f"## {title}\n\n```text\n{result.stdout.rstrip()}\n```\n\n")
    return "".join(parts)


def test_the_cli_reference_is_the_live_help(cli_app: Any, request: pytest.FixtureRequest) -> None:
    update = request.config.getoption("--update-golden")
    _generated(DOCS / "cli.md", "help", _cli_reference(cli_app), update)


def _import_edges() -> str:
    lines = []
    for module, targets in sorted(_import_graph().items()):
        imported = sorted(t for t in targets if t != "taper")
        if imported:
            lines.append(f"- `{module}` imports " + ", ".join(f"`{t}`" for t in imported))
        else:
            lines.append(f"- `{module}` imports nothing of taper")
    return "\n".join(lines) + "\n"


def test_the_map_of_the_house_lists_every_import_edge(request: pytest.FixtureRequest) -> None:
    """Regression: the README's map listed 91 of the 170 real imports; the list is now
    generated from the code's imports (inside functions too) and checked."""
    update = request.config.getoption("--update-golden")
    _generated(DOCS / "architecture.md", "imports", _import_edges(), update)
