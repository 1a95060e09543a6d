"""docs/python.md runs: its Python examples, in order, in one namespace."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

from .conftest import ROOT

PAGE = ROOT / "docs" / "python.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)


def test_the_python_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_python"}
    blocks = _blocks()
    assert len(blocks) >= 8
    for number, block in enumerate(blocks, start=1):
        if "import dask" in block and importlib.util.find_spec("distributed") is None:
            pytest.skip("the Dask examples need the dask extra")
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"{PAGE}:block-{number}", "exec"), namespace)


def test_the_python_page_lines_fit() -> None:
    """Examples stay readable in the docs site: no line of code over 100 characters."""
    for block in _blocks():
        assert all(len(line) <= 100 for line in block.splitlines())
