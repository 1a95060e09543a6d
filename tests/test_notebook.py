"""A researcher's notebook: a cohort from a DataFrame, taper.batch, the CLI's files, and Dask.

Runs with the ``dask`` extra (``pip install 'taper[dask]'``, part of the ``test`` extra);
skipped without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import taper

pandas = pytest.importorskip("pandas")
numpy = pytest.importorskip("numpy")

DRUGS = ("clonazepam", "lorazepam", "alprazolam", "diazepam", "Xanax")
DOSES = {"clonazepam": (0.5, 1, 2), "lorazepam": (1, 2, 3), "alprazolam": (0.5, 1, 2),
         "diazepam": (5, 10, 20), "Xanax": (1, 2, 3)}  # fmt: skip


def _cohort(size: int) -> Any:
    """A cohort as a records extract holds it: numpy numbers, Timestamps, gaps; a few bad rows."""
    rows = []
    for number in range(size):
        drug = DRUGS[number % len(DRUGS)]
        rows.append(
            {
                "id": f"patient-{number:04d}",
                "drug": drug,
                "dose": numpy.float64(DOSES[drug][number // len(DRUGS) % 3]),
                "rate": numpy.int64((10, 25, 50)[number % 3]),
                "every": numpy.int64((7, 14)[number % 2]),
                "start": pandas.Timestamp("2027-01-04") + pandas.Timedelta(days=number % 7),
                "age": numpy.nan if number % 4 else 70.0,
            }
        )
    if size > 555:  # bad rows become error rows
        rows[17]["dose"] = numpy.float64(-1)
        rows[555]["drug"] = "unobtainium"
    return pandas.DataFrame(rows)


def _scenario_file(cohort: Any, path: Path) -> None:
    """The cohort as a scenario file for `taper batch`, written as a person would."""
    text = cohort.copy()
    text["dose"] = [f"{dose:g}mg" for dose in cohort["dose"]]
    text["rate"] = [f"{rate}%" for rate in cohort["rate"]]
    text["every"] = [f"{every}d" for every in cohort["every"]]
    text["start"] = [day.date().isoformat() for day in cohort["start"]]
    text["age"] = ["" if numpy.isnan(age) else str(int(age)) for age in cohort["age"]]
    text.to_csv(path, index=False)


def _same(frame: Any, expected: Any) -> None:
    pandas.testing.assert_frame_equal(frame.reset_index(drop=True), expected)


@pytest.fixture(scope="module")
def cohort() -> Any:
    return _cohort(1000)


@pytest.fixture(scope="module")
def frames(cohort: Any) -> Any:
    return taper.batch(cohort)


def test_a_cohort_of_a_thousand_from_a_dataframe(
    cohort: Any, frames: Any, run: Any, tmp_path: Path
) -> None:
    assert len(frames.summary) == 1000
    assert frames.failed == 2
    failed = frames.summary[frames.summary["status"] == "error"]
    assert failed["scenario"].tolist() == ["patient-0017", "patient-0555"]

    # the same scenarios through `taper batch`, read back by read_plans
    scenarios = tmp_path / "cohort.csv"
    _scenario_file(cohort, scenarios)
    days, summary, dispensing = tmp_path / "d.csv", tmp_path / "s.csv", tmp_path / "p.csv"
    result = run(
        "batch", str(scenarios), "-o", str(days), "--summary", str(summary),
        "--dispensing", str(dispensing), "-j", "1", "-q",
    )  # fmt: skip
    assert result.exit_status == 1  # two scenarios failed
    _same(frames.days, taper.read_plans(days))
    _same(frames.dispensing, taper.read_plans(dispensing))
    # the parameters column holds each scenario's options as given: text in the file
    from_cli = taper.read_plans(summary)
    ours, theirs = (f.drop(columns=["parameters", "error"]) for f in (frames.summary, from_cli))
    _same(ours, theirs)
    # a file's error rows say the line the scenario is on; a DataFrame's rows have none
    without_line = from_cli["error"].str.replace(r"^line \d+: ", "", regex=True)
    assert frames.summary["error"].tolist() == without_line.tolist()


@pytest.fixture(scope="module")
def dask_client() -> Any:
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    # threads in this process: the machine running the tests has few cores
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _summary(part: Any) -> Any:
    return taper.batch(part).summary


def test_the_cohort_on_a_local_dask_cluster_gives_the_same_frames(
    cohort: Any, frames: Any, dask_client: Any
) -> None:
    """Each partition's batch once, both its frames from it (docs/python.md)."""
    import dask
    import dask.dataframe as dd

    partitions = dd.from_pandas(cohort, npartitions=4)
    empty = taper.batch(cohort.head(0))
    batches = [dask.delayed(taper.batch)(part) for part in partitions.to_delayed()]
    days = dd.from_delayed([b.days for b in batches], meta=empty.days, verify_meta=False)
    summary = dd.from_delayed([b.summary for b in batches], meta=empty.summary, verify_meta=False)
    days, summary = dask.compute(days, summary)
    _same(days, frames.days)
    _same(summary, frames.summary)


def test_map_partitions_on_a_local_dask_cluster_gives_the_same_summary(
    cohort: Any, dask_client: Any
) -> None:
    import dask.dataframe as dd

    part = cohort.head(100)
    partitions = dd.from_pandas(part, npartitions=3)
    meta = taper.batch(part.head(0)).summary
    summary = partitions.map_partitions(_summary, meta=meta).compute()
    _same(summary, taper.batch(part).summary)


def test_batch_frames_of_an_empty_partition_are_typed_as_full_ones() -> None:
    """Dask asks for the frames of an empty partition (meta): the same columns and dtypes."""
    cohort = _cohort(5)
    full, empty = taper.batch(cohort), taper.batch(cohort.head(0))
    for name in ("days", "summary", "dispensing"):
        got, want = getattr(empty, name).dtypes, getattr(full, name).dtypes
        assert list(got.index) == list(want.index)
        kinds = [str(d).split("[")[0] for d in got]
        assert kinds == [str(d).split("[")[0] for d in want], name
    assert dt.date(2027, 1, 4) == full.summary["start_date"][0].date()
