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
