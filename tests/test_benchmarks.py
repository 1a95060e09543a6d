"""Every benchmark runs, at a tiny size, and prints its figures (never judged: timings are
for people reading a full run, not for CI). benchmarks/schedule.py crashed for months on a
crossover the tool had come to refuse; this catches the next such drift."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("startup.py", ["floor: import typer, rich, pint", "schedule clonazepam", "ratio"]),
        (
            "schedule.py",
            [
                "lorazepam 1 mg x2 -> diazepam",
                "search / the same rate given",
                "the start of the same process",
            ],
        ),
        (
            "batch.py",
            ["taper sweep --jobs 2", "taper batch FILE", "peak at 60 / peak at 20", "rate plans"],
        ),
        ("units.py", ["taper's registry", "pint's definition cache", "over the floor"]),
    ],
)
def test_each_benchmark_runs_at_a_tiny_size(
    script: str, figures: list[str], tmp_path: Path
) -> None:
    env = {**os.environ, "TAPER_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--tiny"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for figure in figures:
        assert figure in done.stdout
    assert "(" in done.stdout  # medians come with their spread: median (min-max)


def test_the_parts_of_a_first_plan_are_measured(tmp_path: Path) -> None:
    """``schedule.py --parts`` splits the cold first plan (issue 26); the standard library's
    modules it imports first must be ones a plan imports anyway, or their time would be
    counted against a plan that does not pay it."""
    import importlib.util

    sys.path.insert(0, str(BENCHMARKS))  # for its own import of _measure
    try:
        spec = importlib.util.spec_from_file_location("bench_schedule", BENCHMARKS / "schedule.py")
        assert spec is not None
        assert spec.loader is not None
        schedule = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(schedule)
    finally:
        sys.path.remove(str(BENCHMARKS))
    code = (
        "import sys, taper\n"
        "before = set(sys.modules)\n"
        f"taper.plan_taper(**{schedule.PLANS[schedule.COLD]!r})\n"
        f"print(sorted(set({schedule.STDLIB_OF_A_PLAN!r}) - set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "schedule.py"), "--parts", "--processes", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for figure in ("creating taper's", "loading the table", "as msgspec Structs"):
        assert figure in done.stdout
