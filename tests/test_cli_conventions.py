"""Command-line conventions people expect from a shell tool."""

from __future__ import annotations

from typing import Any


def test_debug_is_honoured_only_as_the_root_option(run: Any) -> None:
    """`--debug` as another option's value printed a traceback (`--note --debug`)."""
    result = run("convert", "clonazepam", "1mg", "--to", "diazepam", "--source", "--debug")
    assert result.exit_status == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("taper: error: unknown source '--debug'")
    assert len(result.stderr.splitlines()) == 1
    result = run("--debug", "convert", "clonazepam", "2,5mg", "--to", "diazepam")
    assert "Traceback" in result.stderr
