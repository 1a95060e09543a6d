"""Nothing breaks it: generated input, interrupted writes, locale and time zone, ISMP text."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROOT

# ----------------------------------------------------------------- generated arguments

JUNK = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "½",
            "٣mg",
            "💊",
            "1e9%",
            "2027-02-30",
            "-1mg",
            "nan",
            "inf",
            "0",
            "0mg",
            "1" * 200,
            "NaN mg",
            "1/2 mg",
            "2,5mg",
            "--",
            "-",
            "\x00",
            "\u202e",
            "mg",
            "Ω",
        ]
    ),
)
#: The hostile world (#13): control characters, huge and tiny numbers, far dates, special
#: files and names, each where an argument, an option's value or a file name may go.
HOSTILE = st.sampled_from(
    [
        "\x1b[2J",
        "\x1b]0;title\x07",
        "a\nb",
        "\r",
        "\u2028",
        "=cmd|' /C calc'!A0",
        "@SUM(1)",
        "1e999999",
        "1e-999999",
        "9" * 400 + "mg",
        "0.0000001mg",
        "0.5mg/1.2.3mL solution",
        "0.5mg/.mL solution",
        "1mg/99999999999999999999mL solution",
        "0.001mg/0.0004mL solution",
        "1_00",
        "\u0661\u0660\u0660",
        "9999-12-31",
        "9999-12-01",
        "0001-01-01",
        "500w",
        "/dev/zero",
        "/dev/urandom",
        "/dev/null",
        "/dev/full",
        "/proc/self/fd/1",
        "fifo",
        "a" * 300,
        "x" * 100_000,
        "9" * 5000,
        "1" + "0" * 5000 + "mg",
        "0." + "0" * 5000 + "1mg",
        "1e400",
        "2147483648",
        "{nb}",
        "\x9b31m",
        "\u2066",
        "t,=1+2,.toml",
        "1mg,=1+2",
        "/dev/stdout",
        "/dev/zero",
    ]
)
VALID = st.sampled_from(
    [
        "clonazepam",
        "diazepam",
        "Klonopin",
        "1mg",
        "0.5mg",
        "20mg",
        "morning=0.5mg,night=1mg",
        "--to",
        "--source",
        "ashton",
        "--all-sources",
        "--format",
        "json",
        "table",
        "csv",
        "--times",
        "2",
        "--method",
        "linear",
        "bands",
        "--step",
        "0.125mg",
        "--rate",
        "10%",
        "--every",
        "1w",
        "--switch-to",
        "--crossover",
        "partial",
        "--region",
        "uk",
        "--hold",
        "at:0.5mg:2w",
        "--start",
        "2027-01-04",
        "--until",
        "--final",
        "--daily",
        "--drug",
        "--used-for",
        "18m",
        "--age",
        "70",
        "--cautious",
        "--product",
        "0.5mg tablet scored",
        "--table",
        "-o",
        "out.csv",
        "--summary",
        "--plot-file",
        "--ics",
        "--emax",
        "--occupancy-step",
        "--stabilize",
        "-j",
        "1",
        "--force",
    ]
)
COMMANDS = st.sampled_from(
    ["convert", "schedule", "drugs", "sources", "check", "revise", "sheet", "sweep", "batch"]
)


@pytest.mark.slow
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=COMMANDS, args=st.lists(st.one_of(VALID, JUNK, HOSTILE), max_size=8))
def test_any_arguments_give_a_result_or_one_line_error(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    if not (tmp_path / "fifo").exists():
        os.mkfifo(tmp_path / "fifo")
    result = run(command, *args)
    assert result.exit_status in (0, 1, 2), (args, result.stderr)
    assert "\x1b" not in result.stderr, (args, result.stderr)
    if result.exit_status:
        assert result.stderr.startswith("taper: "), (args, result.stderr)  # error, or failed
        assert result.stderr.count("\n") == 1, (args, result.stderr)
        assert "internal error" not in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert (tmp_path / "fifo").exists()  # never replaced, whatever the options
    assert not list(tmp_path.glob(".*.tmp")), args  # no temporary file left


MORE_BAD = [
    (["sources", "--format", "xml"], 2, "'xml' is not one of"),
    (["drugs", "--table", "/nonexistent/table.toml"], 1, "cannot be read"),
    (["drugs", "clonazepam", "--format", "csv"], 2, "'csv' is not one of"),
    (["check"], 2, "Missing argument"),
    (["check", "plan.csv", "--region", "mars"], 2, "unknown --region mars; use us, uk"),
    (["convert", "clonazepam", "1mg", "--to", "diazepam", "--table", "."], 1, "is a directory"),
]


@pytest.mark.parametrize(("args", "status", "message"), MORE_BAD)
def test_more_bad_input(run: Any, args: list[str], status: int, message: str) -> None:
    result = run(*args)
    assert result.exit_status == status
    assert message in result.stderr


def test_a_binary_table_is_refused(run: Any, tmp_path: Path) -> None:
    table = tmp_path / "t.toml"
    table.write_bytes(b"schema_version = 1\x00\n")
    result = run("sources", "--table", str(table))
    assert result.exit_status == 1
    assert "binary" in result.stderr


# ----------------------------------------------------------------- interrupted writes

_SLOW_WRITE = """
import os, sys, time
os.fsync = lambda fd: time.sleep(30)  # hold the write open until the test interrupts it
sys.argv = ["taper", "schedule", "clonazepam", "1mg", "--start", "2027-01-04",
            "--format", "csv", "-o", sys.argv[1]]
from taper.__main__ import main
main()
"""


@pytest.mark.parametrize(("signal_number", "status"), [(signal.SIGINT, 130), (signal.SIGKILL, -9)])
def test_an_interrupted_write_leaves_no_partial_file(
    tmp_path: Path, signal_number: int, status: int
) -> None:
    target = tmp_path / "plan.csv"
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITE, str(target)], cwd=ROOT, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob(".plan.csv.*.tmp")):
        assert time.monotonic() < deadline, "the write never started"
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    process.send_signal(signal_number)
    _, stderr = process.communicate(timeout=20)
    assert process.returncode == status
    assert not target.exists()
    if signal_number == signal.SIGINT:
        assert stderr.decode().strip() == "taper: error: interrupted"
        assert list(tmp_path.iterdir()) == []  # the temporary file is gone too


# ----------------------------------------------------------------- locale and time zone


def _cli_output(args: list[str], env: dict[str, str]) -> bytes:
    return subprocess.run(
        [sys.executable, "-m", "taper", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        check=True,
    ).stdout


@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "clonazepam", "1.5mg", "--times", "3", "--start", "2027-01-04", "-f", "csv"],
        [
            "schedule",
            "alprazolam",
            "2mg",
            "--switch-to",
            "diazepam",
            "--start",
            "2027-01-04",
            "-f",
            "json",
        ],
        ["convert", "clonazepam", "1.5mg", "--to", "diazepam", "--all-sources", "-f", "json"],
    ],
)
def test_same_input_same_bytes_whatever_the_locale_time_zone_or_width(args: list[str]) -> None:
    outputs = {
        _cli_output(args, {"TZ": tz, "LC_ALL": locale, "LANG": locale, "COLUMNS": columns})
        for tz, locale, columns in [
            ("UTC", "C.UTF-8", "80"),
            ("Pacific/Kiritimati", "C", "40"),
            ("America/St_Johns", "POSIX", "250"),
        ]
    }
    assert len(outputs) == 1


# ----------------------------------------------------------------- ISMP text everywhere

DOSE_TEXT = re.compile(r"(?<![\w.,/])(\.?[0-9][0-9,.]*)\s?(mg|mcg|mL|ml|µg|ug|cc)\b")
GOOD_NUMBER = re.compile(r"^(?:0|[1-9][0-9]{0,2}(?:,[0-9]{3})*)(?:\.[0-9]*[1-9])?$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def assert_ismp(text: str) -> None:
    for match in DOSE_TEXT.finditer(text):
        number, unit = match.groups()
        assert unit in {"mg", "mcg", "mL"}, match.group(0)
        assert GOOD_NUMBER.match(number), match.group(0)
        assert match.group(0) == f"{number} {unit}", match.group(0)  # one space before the unit


@pytest.mark.slow
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    drug_dose=st.sampled_from(
        [
            ("clonazepam", "1.5mg"),
            ("diazepam", "25mg"),
            ("alprazolam", "3mg"),
            ("lorazepam", "2mg"),
            ("chlordiazepoxide", "50mg"),
        ]
    ),
    extra=st.sampled_from(
        [
            [],
            ["--region", "uk"],
            ["--times", "3"],
            ["--method", "bands"],
            ["--switch-to", "diazepam"],
            ["--switch-to", "clonazepam", "--crossover", "partial"],
            ["--rate", "25%", "--supply", "28d"],
        ]
    ),
)
def test_every_dose_in_every_output_follows_ismp(
    run: Any, drug_dose: tuple[str, str], extra: list[str]
) -> None:
    args = ["schedule", *drug_dose, "--start", "2027-01-04", *extra]
    table = run(*args)
    if table.exit_status:
        assert table.exit_status in (1, 2)  # e.g. no products for that region: refused cleanly
        return
    assert_ismp(table.stdout)
    document = run(*args, "--format", "json").json
    for text in _strings(document):
        assert_ismp(text)
    assert_ismp(run(*args, "--format", "csv").stdout)


def test_the_ismp_check_itself_catches_bad_text() -> None:
    for bad in ("1.0 mg", ".5 mg", "0.50 mg", "5mg", "5 ml", "500 µg", "2 cc", "1000 mg"):
        with pytest.raises(AssertionError):
            assert_ismp(f"take {bad} at night")
    assert_ismp("take 1,000 mg, 0.5 mg/5 mL or 2.5 mL")


# ----------------------------------------------------------------- no network


def test_no_command_opens_a_network_connection(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for args in (
        ["convert", "clonazepam", "1mg", "--to", "diazepam", "-a", "-f", "json"],
        ["schedule", "alprazolam", "2mg", "--switch-to", "diazepam", "--start", "2027-01-04"],
        ["drugs"],
        ["sources"],
    ):
        assert run(*args).exit_status == 0
    assert json.loads(run("sources", "-f", "json").stdout)["sources"]


def test_partial_crossover_with_a_rising_step_renders(run: Any) -> None:
    result = run(
        "schedule", "diazepam", "25mg", "--start", "2027-01-04", "--switch-to", "clonazepam",
        "--crossover", "partial",
    )  # fmt: skip
    assert result.exit_status == 0, result.stderr


def test_a_file_name_with_a_newline_gives_one_line(run: Any) -> None:
    result = run("check", "\n")
    assert result.exit_status == 1
    assert result.stderr == "taper: error: \\n: cannot be read: No such file or directory\n"


# ----------------------------------------------------------------- generated hostile files

#: Huge numbers, deep nesting and control characters, as a table, a plan or a scenario
#: file would carry them (issue 23): TOML or CSV text for one value.
HUGE_NUMBERS = st.one_of(
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.integers(min_value=1, max_value=100_000).map(lambda n: "0." + "0" * n + "5"),
    st.integers(min_value=1, max_value=100_000).map(lambda n: "0.5" + "0" * n + "1"),
    st.sampled_from(["1e400", "1e-400", "5e999999", "inf", "nan", "-0.0", "0"]),
)
NESTED = st.integers(min_value=1, max_value=5000).map(lambda depth: "[" * depth + "]" * depth)
CONTROL_TEXT = st.lists(
    st.sampled_from(["a", " ", "{nb}", "\x1b[31m", "\x9b", "\u202e", "\u2066", "\x07", "\u4e2d",
                     ",=1+2", "\r"]),
    max_size=12,
).map(
    lambda parts: "".join(
        f"\\u{ord(char):04x}"  # as a TOML escape: the file itself stays valid
        if ord(char) < 32 or 0x7F <= ord(char) <= 0x9F or char in "\u202e\u2066"
        else char
        for char in "".join(parts)
    )
)  # fmt: skip
RAW_CONTROLS = ("\x1b", "\x9b", "\u202e", "\u2066", "\x07")


def _bundled_text() -> str:
    from taper.table import bundled_table_path

    return bundled_table_path().read_text(encoding="utf-8")


def _hostile_table(value: str, slot: str) -> str:
    """The bundled table with one value replaced: a number, a title or a note."""
    text = _bundled_text()
    if slot == "number":
        head = text.index("\n[drugs.clonazepam.equivalents]\n") + 1
        line = text.index("ashton = ", head)
        return f"{text[:line]}ashton = {value}{text[text.index(chr(10), line) :]}"
    if slot == "title":
        return text.replace('title = "Benzodiazepines: How', f'title = "{value} How', 1)
    head = text.index("[drugs.clonazepam]")
    end = text.index("\n", head)
    return f'{text[: end + 1]}notes = ["{value}"]\n{text[end + 1 :]}'


def _clean(result: Any) -> None:
    assert result.exit_status in (0, 1, 2), result.stderr
    assert "internal error" not in result.stderr, result.stderr[:300]
    if result.exit_status and (result.stderr or not result.stdout):  # or problems found
        assert result.stderr.startswith("taper: "), result.stderr[:300]
        assert result.stderr.count("\n") == 1, result.stderr[:300]
        assert len(result.stderr) < 1200
    for raw in RAW_CONTROLS:
        assert raw not in result.stderr + result.stdout, repr(result.stderr[:300])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        st.tuples(HUGE_NUMBERS, st.just("number")),
        st.tuples(NESTED, st.just("number")),
        st.tuples(CONTROL_TEXT, st.sampled_from(["title", "note"])),
    ),
    args=st.sampled_from(
        [
            ["convert", "clonazepam", "1mg", "--to", "diazepam", "--source", "ashton"],
            ["convert", "clonazepam", "1mg", "--to", "diazepam", "-a", "-f", "json"],
            ["schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv"],
            ["sources", "-f", "json"],
            ["drugs"],
        ]
    ),
)
def test_a_generated_hostile_table_gives_a_result_or_one_line(
    run: Any, tmp_path: Path, data: tuple[str, str], args: list[str]
) -> None:
    value, slot = data
    table = tmp_path / "hostile.toml"
    table.write_text(_hostile_table(value, slot), encoding="utf-8")
    _clean(run(*args, "--table", str(table)))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.integers(min_value=0, max_value=20_000),
    cell=st.one_of(HUGE_NUMBERS, CONTROL_TEXT, st.sampled_from(["0001-01-01", "9999-12-31"])),
    where=st.sampled_from(["day", "dose_mg", "drug", "extra"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
)
def test_a_generated_hostile_plan_file_gives_a_result_or_one_line(
    run: Any, tmp_path: Path, columns: int, cell: str, where: str, delimiter: str
) -> None:
    names = ["day", "drug", "dose_mg", *(f"c{i}" for i in range(columns))]
    row = {"day": "1", "drug": "clonazepam", "dose_mg": "1", where: cell}
    plan = tmp_path / "plan.csv"
    lines = [delimiter.join(names), delimiter.join(row.get(name, "") for name in names)]
    plan.write_text("\n".join(lines) + "\n2" + delimiter + "clonazepam" + delimiter + "0\n")
    _clean(run("check", str(plan)))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.one_of(HUGE_NUMBERS, NESTED, CONTROL_TEXT.map(lambda text: f'"{text}"')),
    key=st.sampled_from(["age", "times", "dose", "hold", "id", "rate"]),
)
def test_a_generated_hostile_scenario_file_gives_a_result_or_one_line(
    run: Any, tmp_path: Path, value: str, key: str
) -> None:
    scenarios = tmp_path / "s.toml"
    extra = "" if key == "dose" else 'dose = "1mg"\n'
    scenarios.write_text(f'[[scenario]]\ndrug = "clonazepam"\n{extra}{key} = {value}\n')
    result = run("batch", str(scenarios), "-o", "-", "-f", "jsonl", "-j", "1")
    _clean(result)
    for line in result.stdout.splitlines():
        error = json.loads(line).get("error", "")
        assert "internal error" not in error, error
        assert len(error) < 1200
