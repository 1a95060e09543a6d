"""Batch outputs stay byte-identical while their code is made faster.

A few sweeps and a scenario file (crossovers, holds, an oral solution, formula-like text,
raw CSV, JSON Lines, summaries) are written and their SHA-256 digests compared with
``tests/golden/sweep-digests.txt``. The digests belong to the current engine: a change that
is meant to change plans (a new rule for choosing steps, say) changes them too. Then check
that the change is the one intended (the golden files of single plans show it readably) and
refresh them with ``pytest tests/test_sweep_digest.py --update-golden``; say so in the commit.
``benchmarks/batch.py`` checks the digest of its 10,000-scenario sweep the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from taper.batch import read_scenarios, sweep_scenarios, write_batch
from taper.table import EquivalenceTable

START = {"region": "us", "start": "2027-01-04"}
SWEEPS = {
    "diazepam": (
        "10mg,12mg,24mg",
        {
            "source": "ashton,va-dod-2021",
            "times": "1,3",
            "final": "0.5mg,2mg",
            "every": "1w,2w",
            "method": "percent,bands",
            "duration": "26w",
        },
    ),
    "clonazepam": (
        "0.5mg,1mg,2mg",
        {"rate": "5%,25%", "every": "2w,4w", "switch_to": "diazepam,chlordiazepoxide"},
    ),
    "alprazolam": ("1.5mg,4mg", {"switch_to": "diazepam,clonazepam", "times": "3,4"}),
}
SCENARIOS = """\
id,drug,dose,times,rate,every,holds,products,cautious,switch_to,start
held,clonazepam,1mg,2,10%,2w,after-step:3:2w;at:0.5mg:4w,,,,2027-01-04
cautious,lorazepam,2mg,3,,,,,true,,2027-01-04
liquid,diazepam,7mg,2,10%,1w,,5mg/5mL solution;2mg tablet scored,,,2027-01-04
=formula,alprazolam,1mg,2,,,,,,,2027-01-04
"two, drugs",lorazepam;alprazolam,1mg;0.5mg,,,,,,,clonazepam,2027-01-04
bad,nodrug,1mg,,,,,,,,2027-01-04
"""


def _digest(path: Path) -> str:
    data = path.read_bytes()
    lines = data.count(b"\n")
    return f"{hashlib.sha256(data).hexdigest()} {lines} lines"


def test_batch_outputs_match_the_recorded_digests(
    table: EquivalenceTable, tmp_path: Path, golden: Any
) -> None:
    scenario_file = tmp_path / "scenarios.csv"
    scenario_file.write_text(SCENARIOS, encoding="utf-8")
    lines = []
    for name, (doses, grid) in SWEEPS.items():
        for output_format in ("csv", "jsonl"):
            out, summary = (
                tmp_path / f"{name}.{output_format}",
                tmp_path / f"{name}-{output_format}.summary",
            )
            scenarios = sweep_scenarios(name, doses, grid, START)
            jsonl = output_format == "jsonl"
            write_batch(scenarios, table, out, summary=summary, jsonl=jsonl, what="digest", jobs=1)
            lines.append(f"sweep {name} {output_format}: {_digest(out)}")
            lines.append(f"sweep {name} {output_format} summary: {_digest(summary)}")
    for raw in (False, True):
        out, summary = tmp_path / f"file-{raw}.csv", tmp_path / f"file-{raw}.summary"
        scenarios = read_scenarios(scenario_file)
        write_batch(scenarios, table, out, summary=summary, raw_csv=raw, what="digest", jobs=1)
        lines.append(f"scenario file raw={raw}: {_digest(out)}")
        lines.append(f"scenario file raw={raw} summary: {_digest(summary)}")
    golden("sweep-digests.txt", "\n".join(lines) + "\n")


def test_outputs_do_not_depend_on_asking_for_a_summary_or_on_jobs(
    table: EquivalenceTable, tmp_path: Path
) -> None:
    doses, grid = SWEEPS["clonazepam"]
    outputs = []
    for jobs, summary in ((1, None), (1, tmp_path / "summary.csv"), (2, None)):
        out = tmp_path / f"out-{jobs}-{summary is not None}.csv"
        scenarios = sweep_scenarios("clonazepam", doses, grid, START)
        write_batch(scenarios, table, out, summary=summary, what="digest", jobs=jobs)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
