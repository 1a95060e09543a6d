"""The process environment: commands run (and are tested) with streams of their own, and
the one error boundary renders library errors with flags."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from taper.process import Environment, ExitCode, current, definition_lines


def _run(cli_app: Any, *args: str) -> tuple[int, str, str]:
    from taper.options import flag_spelling

    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, width=100, spell=flag_spelling)
    with pytest.raises(SystemExit) as exited:
        cli_app(list(args), prog_name="taper", environment=env)
    return int(exited.value.code or 0), out.getvalue(), err.getvalue()


def test_a_command_writes_to_its_environment(cli_app: Any) -> None:
    status, out, err = _run(
        cli_app, "convert", "clonazepam", "1mg", "--to", "diazepam", "-f", "json"
    )
    assert status == ExitCode.OK, err
    assert json.loads(out)["input"]["to"] == "diazepam"


def test_a_library_error_is_one_line_naming_the_flag(cli_app: Any) -> None:
    status, out, err = _run(cli_app, "schedule", "clonazepam", "1mg", "--switch-reduction", "25%")
    assert status == ExitCode.USAGE_ERROR
    assert out == ""
    assert err == "taper: error: --switch-reduction 25% goes with --switch-to or --finish-on\n"


def test_a_library_caller_owns_no_signals() -> None:
    """The signal policy travels in the environment (it was a mutable flag in files.py
    shared with batch.py): a library caller's environment does not hold signals."""
    assert current().owns_process is False
    with Environment(owns_process=True).active() as env:
        assert current() is env
    assert current().owns_process is False


def test_help_entries_wrap_at_spaces_only() -> None:
    lines = definition_lines([("--step DOSE", "linear: mg cut per interval, e.g. 0.125mg.")], 2, 40)
    assert lines == ["  --step DOSE  linear: mg cut per", "               interval, e.g. 0.125mg."]
