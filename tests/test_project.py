"""The project as a whole: import hygiene, entry points, README and CI agree."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest

import taper
from taper.values import OptionSpec, Value

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
LIBRARY_MODULES = sorted(
    f"taper.{p.stem}" for p in (ROOT / "taper").glob("*.py") if p.stem not in {"__main__"}
)
#: Imported only when a table is loaded (the schema is msgspec structs).
LAZY_MODULES = {"taper._schema"}


def _quick_start() -> list[str]:
    block = re.search(r"<!-- quick-start -->\s*```sh\n(.*?)```", README, re.DOTALL)
    assert block, "README has no quick-start block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_library_never_imports_the_cli_libraries_or_pint_eagerly() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in LIBRARY_MODULES if name not in LAZY_MODULES)
        + "heavy = {'typer', 'rich', 'pint', 'msgspec', 'simplejson'} & set(sys.modules)\n"
        + "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_library_module_imports_typer_or_rich() -> None:
    for path in (ROOT / "taper").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (typer|rich)\b", source, re.MULTILINE), path


def test_public_api_is_deliberate() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", taper.__version__)
    for name in taper.__all__:
        assert hasattr(taper, name), name
    assert (ROOT / "taper" / "py.typed").exists()


def test_python_dash_m_taper_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "taper", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout == f"taper {taper.__version__}\n"


def test_readme_quick_start_is_two_commands_and_ci_runs_them() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    install_and_run, install_and_test = commands
    assert re.search(r"pip install (-q )?('\.\[all\]'|\.) ", install_and_run)
    assert re.search(r"taper (schedule|convert) ", install_and_run)
    assert re.search(r"pip install (-q )?-e '\.\[test\]'", install_and_test)
    assert "pytest" in install_and_test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "quick-start" in ci  # CI extracts and runs the README block, not a copy of it


#: The pages whose examples are run: the README and every page of the docs site.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _console_examples() -> list[tuple[str, list[str]]]:
    """Every ``$ taper ...`` line of a console block with its page, in the order a reader
    meets them."""
    examples = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
            for line in block.splitlines():
                if line.startswith("$ taper "):
                    examples.append((page.name, shlex.split(line[2:])[1:]))
    return examples


def _examples_of(page: str) -> list[list[str]]:
    return [args for name, args in _console_examples() if name == page]


@pytest.mark.parametrize(
    "page", sorted({page for page, _ in _console_examples()}), ids=lambda page: page
)
def test_console_examples_run(run: Any, page: str, tmp_path: Path, monkeypatch: Any) -> None:
    """Every console example of the README and the docs runs as shown (sqlite-utils' docs
    tests are the model), a page's examples in order in one folder (one may read what
    another wrote) holding a copy of the repository's examples/. One test per page, so that
    no scheduler can split a page's examples or run them in two folders."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for args in _examples_of(page):
        result = run(*args)
        shown = "taper " + shlex.join(args)
        if args[0] == "check":  # exit status 1 means it found a problem, which it reports
            assert result.exit_status in (0, 1), (shown, result.stderr)
            assert result.stderr == "", shown
        else:
            assert result.exit_status == 0, (shown, result.stderr)


def test_docs_have_examples() -> None:
    assert len(_console_examples()) >= 40


@pytest.mark.parametrize("page", [p for p in PAGES if "```python" in p.read_text("utf-8")],
                         ids=lambda p: p.name)  # fmt: skip
def test_python_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page's Python blocks run in order, as a reader would: one builds on another."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, page.name, "exec"), namespace)


def test_example_scenario_file_runs(run: Any, tmp_path: Path) -> None:
    result = run(
        "batch",
        str(ROOT / "examples" / "scenarios.csv"),
        "-o",
        str(tmp_path / "d.csv"),
        "--summary",
        str(tmp_path / "s.csv"),
    )
    assert result.exit_status == 0, result.stderr
    assert (tmp_path / "s.csv").read_text(encoding="utf-8").count(",ok,") == 3


# ------------------------------------------------------------------ the shape of the house

PACKAGE_FILES = sorted((ROOT / "taper").rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import of the project that can run: at the top, inside
    functions and classes, but not under ``if TYPE_CHECKING:`` (which never runs)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, "") for a in node.names if a.name.startswith("taper"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("taper"):
            found.extend((node.module or "", alias.name) for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path) for path in PACKAGE_FILES}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE_FILES:
        edges = set()
        for module, name in _runtime_imports(path):
            target = f"{module}.{name}" if f"{module}.{name}" in modules else module
            edges.add(target)
        graph[_module_name(path)] = edges - {_module_name(path)}
    return graph


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    graph = _import_graph()
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        if state.get(module) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*trail, module]))
        if state.get(module) == 2 or module not in graph:
            return
        state[module] = 1
        for target in sorted(graph[module]):
            # The package itself only re-exports lazily (its imports are for type checkers).
            if target != "taper":
                visit(target, [*trail, module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_no_private_name_is_imported_from_another_module() -> None:
    for path in [*PACKAGE_FILES, ROOT / "cli.py"]:
        for module, name in _runtime_imports(path):
            assert not (name.startswith("_") and name != "__version__"), (path, module, name)


@pytest.mark.parametrize("module", sorted(_module_name(path) for path in PACKAGE_FILES))
def test_each_module_imports_alone_in_a_fresh_interpreter(module: str) -> None:
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, capture_output=True)


def test_only_the_renderer_imports_rich() -> None:
    for path in PACKAGE_FILES:
        source = path.read_text(encoding="utf-8")
        uses_rich = re.search(r"^\s*(from|import) rich\b", source, re.MULTILINE)
        assert bool(uses_rich) == (path.parent.name == "render"), path


def test_cli_functions_are_short() -> None:
    """The command line holds the commands only: no function over 80 lines counting its
    signature (``schedule`` was 401, a 348-line signature), and under 600 lines in all."""
    import ast

    source = (ROOT / "cli.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) < 600
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            assert length <= 80, (node.name, length)


@dataclass(frozen=True, kw_only=True)
class Extra:
    """A dataclass of options with one declared field."""

    pace: Annotated[
        str | None, OptionSpec(Value.TEXT, "--pace", "Pace", "A named pace.", "NAME")
    ] = None


def test_adding_an_option_is_one_field() -> None:
    """The command's parameters are built from the fields' declarations (no second list to
    keep in step): a dataclass with one declared field gives a command that option, its
    help, and the command receives the object."""
    import typer
    from typer.testing import CliRunner

    from taper.__main__ import load_cli

    seen: list[Extra] = []
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    @load_cli().with_options(extra=Extra)
    def command(extra: Extra) -> None:
        seen.append(extra)

    runner = CliRunner()
    assert "--pace NAME" in runner.invoke(app, ["--help"]).stdout
    assert runner.invoke(app, ["--pace", "ashton"]).exit_code == 0
    assert seen == [Extra(pace="ashton")]


def test_batch_columns_are_the_schedule_options() -> None:
    import dataclasses

    from taper.batch import SCENARIO_COLUMNS
    from taper.options import ScheduleOptions

    names = {field.name for field in dataclasses.fields(ScheduleOptions)}
    assert set(SCENARIO_COLUMNS) == {"drug", "dose"} | names
