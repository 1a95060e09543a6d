"""A hostile world (#13): injection, clobbered files, escape sequences, signals, odd input.

Each test is named after the bug it pins.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pytest

from taper.files import write_atomic


def _rows(text: str) -> list[list[str]]:
    """Data rows as a spreadsheet or ``pandas.read_csv(comment="#")`` sees them."""
    return list(csv.reader(line for line in io.StringIO(text) if not line.startswith("#")))


# ----------------------------------------------------------------- CSV injection


def test_batch_scenario_ids_and_error_cells_are_neutralised(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text(
        "id,drug,dose,start,age\n"
        '"=HYPERLINK(""http://x"")",clonazepam,1mg,2027-01-04,\n'
        "@SUM(1)*cmd|' /C calc'!A0,clonazepam,1mg,2027-01-04,\n"
        "bad,clonazepam,1mg,2027-01-04,200\n",
        encoding="utf-8",
    )
    run("batch", str(scenarios), "-o", str(tmp_path / "d.csv"), "--summary",
        str(tmp_path / "m.csv"), "-j", "1")  # fmt: skip
    for name in ("d.csv", "m.csv"):
        for row in _rows((tmp_path / name).read_text(encoding="utf-8"))[1:]:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@")), (name, row)
    summary = _rows((tmp_path / "m.csv").read_text(encoding="utf-8"))
    assert summary[1][0] == '\'=HYPERLINK("http://x")'


def test_a_summary_error_names_the_scenario_column_not_a_flag(run: Any, tmp_path: Path) -> None:
    """A scenario's columns are the Python names of the options, so its error says
    ``age=200`` (it said ``--age``, a flag the file has no column for, written as a
    neutralised ``'--age`` cell)."""
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(
        '[[scenario]]\nid = "a"\ndrug = "clonazepam"\ndose = "1mg"\nage = 200\n',
        encoding="utf-8",
    )
    run("batch", str(scenarios), "-o", str(tmp_path / "d.csv"), "--summary",
        str(tmp_path / "m.csv"), "-j", "1")  # fmt: skip
    error = _rows((tmp_path / "m.csv").read_text(encoding="utf-8"))[1][2]
    assert error == "age=200 must be from 0 to 130", error


def test_a_toml_scenario_id_writes_no_raw_escape_bytes(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(
        '[[scenario]]\nid = "a\\u001b[2Jb"\ndrug = "clonazepam"\ndose = "1mg"\n'
        'start = "2027-01-04"\n',
        encoding="utf-8",
    )
    run("batch", str(scenarios), "-o", str(tmp_path / "d.csv"), "--summary",
        str(tmp_path / "m.csv"), "-j", "1")  # fmt: skip
    for name in ("d.csv", "m.csv"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "\x1b" not in text
        assert "a\\x1b[2Jb" in text


def test_a_newline_in_a_sweep_argument_forges_no_row(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "w.csv"
    run("sweep", "clonazepam\n=cmd|' /C calc'!A0", "1mg", "-o", str(out), "--start",
        "2027-01-04", "-j", "1")  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert all(line.startswith("#") for line in text.splitlines()[:2])
    assert not any(row and row[0].startswith("=") for row in _rows(text))


def test_a_newline_in_the_table_path_forges_no_row(run: Any, tmp_path: Path) -> None:
    from .conftest import ROOT

    folder = tmp_path / "x\n=cmd|calc!A0"
    folder.mkdir()
    (folder / "t.toml").write_bytes((ROOT / "equivalences.toml").read_bytes())
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv",
                 "--table", str(folder / "t.toml"))  # fmt: skip
    assert result.exit_status == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows[0][0] == "day"
    assert not any(row and row[0].startswith("=") for row in rows)


# ----------------------------------------------------------------- clobbered files


def test_a_file_created_meanwhile_is_not_replaced(tmp_path: Path, monkeypatch: Any) -> None:
    import taper.files as files

    target = tmp_path / "out.txt"
    real_fsync = os.fsync

    def someone_else_writes(fd: int) -> None:
        real_fsync(fd)
        if not target.exists():
            target.write_text("theirs", encoding="utf-8")

    monkeypatch.setattr(files.os, "fsync", someone_else_writes)
    with pytest.raises(files.OutputFileError, match="already exists"):
        write_atomic(target, "mine")
    assert target.read_text(encoding="utf-8") == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_output_and_summary_cannot_be_the_same_file(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text("id,drug,dose\na,clonazepam,1mg\n", encoding="utf-8")
    out = str(tmp_path / "x.csv")
    result = run("batch", str(scenarios), "-o", out, "--summary", out, "-j", "1")
    assert result.exit_status == 1
    assert "also given as --output" in result.stderr
    assert not (tmp_path / "x.csv").exists()
    result = run("batch", str(scenarios), "-o", str(scenarios), "--force", "-j", "1")
    assert result.exit_status == 1
    assert "reads" in result.stderr
    assert scenarios.read_text(encoding="utf-8").startswith("id,drug")


def test_a_dangling_symlink_is_not_replaced(run: Any, tmp_path: Path) -> None:
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "nowhere")
    for force in ((), ("--force",)):
        result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv",
                     "-o", str(link), *force)  # fmt: skip
        assert result.exit_status == 1, force
        assert link.is_symlink()
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/full"])
def test_force_never_replaces_a_device_or_a_link_to_one(
    run: Any, tmp_path: Path, target: str
) -> None:
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04", "-f", "csv",
                 "-o", str(link), "--force")  # fmt: skip
    assert result.exit_status == 1
    assert "not a regular file" in result.stderr
    assert link.is_symlink()


def test_a_legal_long_name_is_written_and_a_too_long_one_refused(tmp_path: Path) -> None:
    write_atomic(tmp_path / ("a" * 254), "x")
    assert (tmp_path / ("a" * 254)).read_text(encoding="utf-8") == "x"
    from taper.errors import OutputFileError

    with pytest.raises(OutputFileError, match="too long"):
        write_atomic(tmp_path / ("b" * 300), "x")
    assert len(list(tmp_path.iterdir())) == 1


def test_side_files_are_checked_before_anything_is_written(run: Any, tmp_path: Path) -> None:
    pytest.importorskip("fpdf")
    pytest.importorskip("icalendar")
    (tmp_path / "e.ics").write_text("old", encoding="utf-8")
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04",
                 "--handout", str(tmp_path / "n.pdf"), "--ics", str(tmp_path / "e.ics"))  # fmt: skip
    assert result.exit_status == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.ics"]
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04",
                 "-o", str(tmp_path / "same.pdf"), "--handout", str(tmp_path / "same.pdf"),
                 "--force")  # fmt: skip
    assert result.exit_status == 1
    assert "also given as --output" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.ics"]


def test_plot_file_is_not_left_when_the_output_exists(run: Any, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "existing.txt").write_text("old", encoding="utf-8")
    result = run("schedule", "clonazepam", "1mg", "--start", "2027-01-04",
                 "--plot-file", str(tmp_path / "n.svg"), "-o", str(tmp_path / "existing.txt"))  # fmt: skip
    assert result.exit_status == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.txt"]


# ----------------------------------------------------------------- terminal escapes

ESC = "\\u001b[2J\\u001b]0;owned\\u0007\\u001b]8;;http://x\\u001b\\\\link\\nFAKE"


def _hostile_table(tmp_path: Path) -> Path:
    from .conftest import TINY_TABLE

    text = TINY_TABLE.replace('title = "Alpha table"', f'title = "Alpha{ESC}"')
    text = text.replace('author = "B. Author"', f'author = "B{ESC}"')
    text = text.replace(
        'aliases = ["Klonopin"]',
        f'aliases = ["Klonopin"]\nnotes = ["n{ESC}"]\n'
        f'max_daily = {{ mg = 20, note = "m{ESC}", source = "s" }}',
    )
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["drugs"],
        ["sources"],
        ["schedule", "clonazepam", "1mg", "--start", "2027-01-04", "--product", "0.5mg tablet"],
    ],
)
def test_table_text_reaches_the_terminal_with_control_characters_visible(
    run: Any, tmp_path: Path, args: list[str]
) -> None:
    result = run(*args, "--table", str(_hostile_table(tmp_path)), env={"COLUMNS": "400"})
    assert result.exit_status == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout
    if args[0] != "schedule":  # a plan shows no text of the table's here
        assert "\\x1b[2J" in result.stdout
    assert "FAKE" not in "".join(line[:4] for line in result.stdout.splitlines())


def test_error_messages_show_control_characters_of_paths_and_keys(run: Any, tmp_path: Path) -> None:
    result = run("sources", "--table", str(tmp_path / "t\x1b[2J\ntaper: error: fake.toml"))
    assert result.exit_status == 1
    assert result.stderr.count("\n") == 1
    assert "\x1b" not in result.stderr
    assert "\\x1b[2J\\ntaper: error: fake" in result.stderr
    table = tmp_path / "k.toml"
    table.write_text('schema_version = 1\n"k\\u001b[31m" = 1\n', encoding="utf-8")
    result = run("sources", "--table", str(table))
    assert result.exit_status == 1
    assert "\x1b" not in result.stderr
    assert result.stderr.count("\n") == 1


# ----------------------------------------------------------------- signals and streams


@pytest.mark.parametrize(
    ("signal_name", "status", "message"),
    [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated"), ("SIGHUP", 129, "hung up")],
)
def test_a_signal_stops_a_batch_cleanly(
    tmp_path: Path, signal_name: str, status: int, message: str
) -> None:
    """Ctrl-C (to the whole process group), SIGTERM and SIGHUP during ``batch -j 4``: the
    workers stop, no temporary file is left, one line, no traceback, no hang."""
    import signal
    import subprocess
    import sys
    import time

    from .conftest import ROOT

    scenarios = tmp_path / "many.csv"
    rows = [f"s{i},clonazepam,{1 + i % 7}mg,{5 + i % 5}%,2027-01-04" for i in range(20000)]
    scenarios.write_text("id,drug,dose,rate,start\n" + "\n".join(rows) + "\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "taper", "batch", str(scenarios), "-o", str(tmp_path / "o.csv"),
         "--summary", str(tmp_path / "s.csv"), "-j", "4", "-q"],
        cwd=ROOT, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".o.csv.*.tmp")):
        assert time.monotonic() < deadline, "the batch never started writing"
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        time.sleep(0.05)
    time.sleep(0.5)  # the workers are busy
    os.killpg(process.pid, getattr(signal, signal_name))
    try:
        _, stderr = process.communicate(timeout=30)
    finally:
        with __import__("contextlib").suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == status, stderr
    assert stderr.decode() == f"taper: error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.csv"]


def _taper(*args: str, **options: Any) -> Any:
    import subprocess
    import sys

    from .conftest import ROOT

    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([sys.executable, "-m", "taper", *args], cwd=ROOT, **streams)


def test_a_full_standard_output_is_one_line(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        result = _taper("convert", "clonazepam", "1mg", "--to", "diazepam", stdout=full)
    assert result.returncode == 1
    assert (
        result.stderr.decode()
        == "taper: error: cannot write to standard output: No space left on device\n"
    )


def test_a_closed_standard_output_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import ROOT

    code = "import os, sys; os.close(1); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
    result = subprocess.run(
        [sys.executable, "-c", code, "-m", "taper", "convert", "clonazepam", "1mg", "--to",
         "diazepam"],
        cwd=ROOT, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1
    assert "cannot write to standard output" in result.stderr.decode()


def test_an_ascii_only_terminal_gets_escapes_not_an_error() -> None:
    result = _taper(
        "convert", "clonazepam", "1mg", "--to", "diazepam",
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"\\u2192" in result.stdout


# ----------------------------------------------------------------- odd input, one clear line

ODD = [
    (["schedule", "clonazepam", "1mg", "--start", "9999-12-01"], "run past"),
    (["schedule", "clonazepam", "1mg", "--start", "9999-12-31", "--switch-to", "diazepam"],
     "run past"),
    (["schedule", "clonazepam", "1mg", "--product", "0.5mg/1.2.3mL solution"], "volume"),
    (["schedule", "clonazepam", "1mg", "--product", "0.5mg/.mL solution"], "volume"),
    (["schedule", "clonazepam", "1mg", "--product", "1mg/99999999999999999999mL solution"],
     "1,000 mL"),
    (["schedule", "clonazepam", "1mg", "--product", "0.001mg/0.0004mL solution"], "faithfully"),
    (["schedule", "clonazepam", "1mg", "--method", "occupancy", "--ed50", "1mg",
      "--occupancy-step", "1e999999999"], "occupancy step"),
    (["schedule", "clonazepam", "1mg", "--method", "occupancy", "--ed50", "1mg",
      "--emax", "1e-999999"], "Emax"),
    (["schedule", "clonazepam", "1mg", "--method", "occupancy", "--ed50", "1mg",
      "--emax", "1_00"], "Emax"),
    (["schedule", "clonazepam", "1mg", "--method", "occupancy", "--ed50", "1mg",
      "--emax", "\u0661\u0660\u0660"], "Emax"),
    (["convert", "diazepam", "0.001mg", "--to", "clonazepam"], "faithfully"),
    (["sources", "--table", "/dev/zero"], "not a regular file"),
    (["drugs", "--table", "/dev/urandom"], "not a regular file"),
    (["check", "/dev/zero"], "not a regular file"),
    (["batch", "/dev/urandom", "-o", "never.csv"], "not a regular file"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), ODD)
def test_odd_input_is_one_clear_line(
    run: Any, tmp_path: Path, monkeypatch: Any, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_status in (1, 2), result.stdout
    assert result.stderr.startswith("taper: error: ")
    assert result.stderr.count("\n") == 1
    assert "internal error" not in result.stderr
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_is_refused_without_waiting(run: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    for args in (["sources", "--table", str(fifo)], ["batch", str(fifo), "-o", "x.csv"]):
        result = run(*args)
        assert result.exit_status == 1
        assert "not a regular file" in result.stderr


def test_one_bad_scenario_does_not_stop_the_batch(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text(
        "id,drug,dose,products,start\n"
        "a,clonazepam,1mg,0.5mg/1.2.3mL solution,2027-01-04\n"
        "b,clonazepam,1mg,,9999-12-01\n"
        "c,clonazepam,1mg,,2027-01-04\n",
        encoding="utf-8",
    )
    result = run("batch", str(scenarios), "-o", str(tmp_path / "d.csv"), "--summary",
                 str(tmp_path / "m.csv"), "-j", "1")  # fmt: skip
    assert result.exit_status == 1
    summary = _rows((tmp_path / "m.csv").read_text(encoding="utf-8"))
    assert [row[:2] for row in summary[1:]] == [["a", "error"], ["b", "error"], ["c", "ok"]]
    assert not any("internal error" in row[2] for row in summary[1:])


def _bundled_with(old: str, new: str, tmp_path: Path) -> Path:
    from .conftest import ROOT

    text = (ROOT / "equivalences.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "t.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("[drugs.clonazepam.equivalents]\nashton = 0.5", "[drugs.clonazepam.equivalents]\n"
         "ashton = 1e-999999"),
        ("[drugs.clonazepam.equivalents]\nashton = 0.5", "[drugs.clonazepam.equivalents]\n"
         "ashton = 9e999999"),
        ("strength_mg = 0.25", "strength_mg = 9e99999"),
        ("\nreference_dose_mg = 10", "\nreference_dose_mg = 1e999999"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["sources", "drugs"])
def test_huge_and_tiny_table_values_are_refused_quickly(
    run: Any, tmp_path: Path, old: str, new: str, command: str
) -> None:
    import time

    started = time.monotonic()
    result = run(command, "--table", str(_bundled_with(old, new, tmp_path)))
    assert time.monotonic() - started < 5
    assert result.exit_status == 1
    assert "must be from 0.000001 to 1,000,000" in result.stderr


@pytest.mark.parametrize("nested", ["[" * 50000 + "]" * 50000, "{a=" * 5000 + "1" + "}" * 5000])
def test_deeply_nested_toml_is_one_line(run: Any, tmp_path: Path, nested: str) -> None:
    table = tmp_path / "t.toml"
    table.write_text(f"x = {nested}\n", encoding="utf-8")
    result = run("sources", "--table", str(table))
    assert result.exit_status == 1
    assert "nested too deeply" in result.stderr
    scenarios = tmp_path / "s.toml"
    scenarios.write_text(f'[[scenario]]\ndrug = "clonazepam"\nholds = {nested}\n', "utf-8")
    result = run("batch", str(scenarios), "-o", str(tmp_path / "o.csv"))
    assert result.exit_status == 1
    assert "nested too deeply" in result.stderr


def test_a_scenario_list_of_numbers_is_refused(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.toml"
    scenarios.write_text("scenario = [1, 2]\n", encoding="utf-8")
    result = run("batch", str(scenarios), "-o", str(tmp_path / "o.csv"))
    assert result.exit_status == 1
    assert "expected [[scenario]] tables" in result.stderr


# ----------------------------------------------------------------- resources and minor


def test_too_many_products_are_refused_quickly(run: Any) -> None:
    import time

    products = [f"--product={1 + i * 0.25:g}mg tablet scored" for i in range(30)]
    started = time.monotonic()
    result = run("schedule", "clonazepam", "2mg", "--start", "2027-01-04", *products)
    assert time.monotonic() - started < 5
    assert result.exit_status == 2
    assert "more than a plan can search (at most 10)" in result.stderr


def test_products_with_a_very_fine_step_are_refused_quickly(run: Any) -> None:
    import time

    products = ["--product=1mg tablet scored"]
    products += [f"--product={(1001 + 7 * i) / 1000:g}mg tablet scored" for i in range(9)]
    started = time.monotonic()
    result = run("schedule", "diazepam", "10mg", "--start", "2027-01-04", *products)
    assert time.monotonic() - started < 10
    assert result.exit_status == 2
    assert "rounder strengths" in result.stderr


def test_a_product_of_a_drug_the_plan_does_not_use_is_refused(run: Any) -> None:
    result = run("schedule", "clonazepam", "1mg", "--product", "diazepam 2mg tablet")
    assert result.exit_status == 2
    assert "which this plan does not use" in result.stderr


def test_jobs_are_capped_at_the_scenarios(tmp_path: Path, monkeypatch: Any) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from taper import batch
    from taper.table import load_table

    started: list[int] = []
    real = ProcessPoolExecutor.__init__

    def counting(self: Any, max_workers: int | None = None, *args: Any, **kwargs: Any) -> None:
        started.append(max_workers or 0)
        real(self, max_workers, *args, **kwargs)

    monkeypatch.setattr(ProcessPoolExecutor, "__init__", counting)
    scenarios = [batch.Scenario(f"s{i}", {"drug": "clonazepam", "dose": "1mg"}) for i in range(3)]
    outcomes: list[Any] = []
    batch.run_batch(scenarios, load_table(), jobs=2000, on_outcome=outcomes.append)
    assert len(outcomes) == 3
    assert started == [3]


def test_a_huge_dose_is_not_echoed_whole(run: Any) -> None:
    result = run("convert", "clonazepam", "1" * 100_000 + "mg", "--to", "diazepam")
    assert result.exit_status == 2
    assert len(result.stderr) < 300


def test_duplicate_csv_columns_are_refused(run: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "s.csv"
    scenarios.write_text("id,drug,dose,dose\na,clonazepam,1mg,2mg\n", encoding="utf-8")
    result = run("batch", str(scenarios), "-o", str(tmp_path / "o.csv"))
    assert result.exit_status == 1
    assert "dose appear more than once" in result.stderr


def test_invalid_utf8_in_sweep_arguments_is_written_as_escapes(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "taper", "sweep", b"clon\xffazepam", "1mg", "-o",
         tmp_path / "w.csv", "--summary", tmp_path / "s.csv", "-j", "1"],
        cwd=ROOT, capture_output=True,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert b"internal error" not in result.stderr
    summary = (tmp_path / "s.csv").read_text(encoding="utf-8")
    assert "clon\\udcffazepam" in summary


def test_an_output_name_of_300_characters_is_one_line(run: Any, tmp_path: Path) -> None:
    result = run("schedule", "clonazepam", "1mg", "-o", str(tmp_path / ("a" * 300)))
    assert result.exit_status == 1
    assert "the file name is too long" in result.stderr


def test_outputs_in_place_are_never_undone_by_a_late_signal(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Regression: a signal arriving as the outputs were put in place left some of them (the
    rollback missed a file linked but not yet recorded), or reported 'interrupted' for a
    finished command. The signals are held while files go in place, and the taper process
    keeps them held once they are (a library caller's mask is left as it was)."""
    import signal

    from taper import files
    from taper.process import Environment

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    files.write_atomic(tmp_path / "a.txt", "a")
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    try:
        with Environment(owns_process=True).active():
            files.write_atomic(tmp_path / "b.txt", "b")
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def test_a_liquid_that_cannot_be_measured_in_micrograms_is_refused(run: Any) -> None:
    """Attack review: '--product 1mg/3mL solution' was an internal error (0.1 mL = 1/30 mg)."""
    for product in ("1mg/3mL solution", "2mg/3mL solution", "1mg/7mL solution"):
        result = run("schedule", "clonazepam", "1mg", "--product", product, "--start", "2027-01-04")
        assert result.exit_status == 2, result.stderr
        assert "cannot be measured in exact doses" in result.stderr


def test_a_bug_in_one_scenario_is_its_error_row(tmp_path: Path, monkeypatch: Any) -> None:
    """Attack review: an AssertionError (or TypeError...) in one scenario killed the batch."""
    from taper import batch
    from taper.table import load_table

    real = batch.plan_taper

    def buggy(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("rate") == "7%":
            raise AssertionError("a bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "plan_taper", buggy)
    scenarios = [
        batch.Scenario("ok", {"drug": "clonazepam", "dose": "1mg", "start": "2027-01-04"}),
        batch.Scenario("bug", {"drug": "clonazepam", "dose": "1mg", "rate": "7%"}),
    ]
    outcomes: list[Any] = []
    batch.run_batch(scenarios, load_table(), jobs=1, on_outcome=outcomes.append)
    assert [o.ok for o in outcomes] == [True, False]
    assert "internal error (AssertionError: a bug)" in outcomes[1].error


def test_no_output_replaces_the_bundled_table(run: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """Attack review: '-o <the bundled equivalences.toml> --force' replaced the table every
    later command reads. (The bundled table is a copy here, so a failure harms nothing.)"""
    from taper import sidefiles, table

    copy = tmp_path / "equivalences.toml"
    copy.write_bytes(table.bundled_table_path().read_bytes())
    monkeypatch.setattr(table, "bundled_table_path", lambda: copy)
    monkeypatch.setattr(sidefiles, "bundled_table_path", lambda: copy)
    before = copy.read_bytes()
    result = run("schedule", "clonazepam", "1mg", "-o", str(copy), "--force", "-f", "csv")
    assert result.exit_status == 1
    assert "names a file this command reads" in result.stderr
    assert copy.read_bytes() == before


@pytest.mark.parametrize("start", ["0001-01-01", "9999-04-16"])
def test_a_curve_at_the_ends_of_the_calendar_is_one_line(
    run: Any, tmp_path: Path, start: str
) -> None:
    """Attack review: --plot-file near year 1 or 9999 was an internal error (matplotlib)."""
    result = run(
        "schedule", "clonazepam", "1mg", "--start", start, "--plot-file", str(tmp_path / "a.svg")
    )
    assert result.exit_status == 2, result.stderr
    assert "date axis" in result.stderr
    assert not (tmp_path / "a.svg").exists()


def test_read_plans_refuses_what_taper_did_not_write_in_one_error(tmp_path: Path) -> None:
    """Attack review: pandas' ParserError, AttributeError and ValueError leaked, and a JSON
    document was read as a one-column frame."""
    pytest.importorskip("pandas")
    import taper
    from taper.errors import DataFileError

    cases = {
        "plan.json": '{\n  "schema_version": 2,\n  "a": [1, 2]\n}\n',
        "junk.jsonl": '{"a":1}\n[1,2]\nnot json\n',
        "table.txt": "Draft\n| a | b |\n|---|---|\n| 1 | 2, 3 |\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(DataFileError, match=name):
            taper.read_plans(path)


def test_a_formula_after_a_semicolon_is_neutralised_too() -> None:
    """Attack review: 'a;=1+1;b' became a live formula in spreadsheets splitting on ';'."""
    from taper.csvout import neutralise_cell

    assert neutralise_cell("a;=1+1;b") == "a;'=1+1;b"
    assert neutralise_cell("x\t@SUM(1)") == "x\t'@SUM(1)"
    assert neutralise_cell("row-1") == "row-1"
