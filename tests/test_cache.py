"""No cache can change a dose: the table is read from its file on every run.

taper once kept validated tables in an on-disk cache (``TAPER_CACHE_DIR``). Measured, it
saved about 15 ms of CPU per command (see the README's Speed section) and was an attack
surface: a planted entry changed doses, a FIFO hung every command, a symlink at its
temporary name overwrote another file. It was removed; these tests plant every kind of
hostile entry where the cache used to be and check that nothing of it is read or written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from taper.table import EquivalenceTable, ValueRange, load_table

CONVERT = ["convert", "clonazepam", "1mg", "--to", "diazepam", "--format", "json"]


def _convert(cache: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    """``taper convert`` with ``variables`` (both cache variables by default) set to
    ``cache``."""
    names = variables or ("TAPER_CACHE_DIR", "XDG_CACHE_HOME")
    env = {k: v for k, v in os.environ.items() if k not in {"TAPER_CACHE_DIR", "XDG_CACHE_HOME"}}
    return subprocess.run(
        [sys.executable, "-m", "taper", *CONVERT],
        capture_output=True,
        text=True,
        env={**env, **dict.fromkeys(names, str(cache))},
        timeout=60,
        check=False,
    )


def _dose(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["results"][0]["dose_mg"]


def _doctored(table: EquivalenceTable, equivalent: object) -> EquivalenceTable:
    """The bundled table, claiming its own checksum, with clonazepam's value changed."""
    drug = table.drugs["clonazepam"]
    equivalents = dict.fromkeys(drug.equivalents, equivalent)
    drugs = {**table.drugs, "clonazepam": dataclasses.replace(drug, equivalents=equivalents)}
    return dataclasses.replace(table, drugs=drugs)


def _files(folder: Path) -> list[Path]:
    return (
        sorted(path for path in folder.rglob("*") if not path.is_dir()) if folder.exists() else []
    )


def _plant(folder: Path, make: Callable[[Path], None]) -> None:
    """Let taper fill its cache (if it has one), then replace every entry with ``make``."""
    _convert(folder)
    for entry in _files(folder):
        entry.unlink()
        make(entry)


def _foreign_entry(path: Path) -> None:
    """A well-formed entry that would make clonazepam 1 mg into diazepam 2 mg."""
    path.write_bytes(pickle.dumps(_doctored(load_table(), ValueRange(Decimal(5), Decimal(5)))))


def test_a_foreign_well_formed_entry_cannot_change_a_dose(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _plant(folder, _foreign_entry)
    assert _dose(_convert(folder)) == 20


def test_a_foreign_entry_in_a_world_writable_folder_cannot_change_a_dose(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    _plant(folder, _foreign_entry)
    folder.mkdir(exist_ok=True)
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o777)
    assert _dose(_convert(folder)) == 20


def test_an_entry_with_wrong_inner_types_is_no_internal_error(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    wrong = _doctored(load_table(), ValueRange("five", None))  # type: ignore[arg-type]
    _plant(folder, lambda path: path.write_bytes(pickle.dumps(wrong)))
    assert _dose(_convert(folder)) == 20


def test_a_fifo_at_an_entry_path_does_not_hang(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    _plant(folder, lambda path: os.mkfifo(path))
    assert _dose(_convert(folder)) == 20  # a hang fails by the timeout


def test_a_symlink_at_an_entry_path_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    elsewhere = tmp_path / "elsewhere"
    _foreign_entry(elsewhere)
    _plant(folder, lambda path: path.symlink_to(elsewhere))
    assert _dose(_convert(folder)) == 20


def test_a_symlink_planted_at_a_temporary_name_overwrites_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old cache wrote ``.KEY.PID.tmp``, a name anyone could plant a link at."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TAPER_CACHE_DIR", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    load_table()
    for entry in _files(folder):
        entry.unlink()
        (entry.parent / f".{entry.name}.{os.getpid()}.tmp").symlink_to(victim)
    load_table()
    assert victim.read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize("variable", ["TAPER_CACHE_DIR", "XDG_CACHE_HOME"])
def test_nothing_is_written_to_a_cache_folder(tmp_path: Path, variable: str) -> None:
    folder = tmp_path / "cache"
    assert _dose(_convert(folder, variable)) == 20
    assert _files(folder) == []


def test_the_table_is_read_afresh_after_every_change(tiny_table_path: Path) -> None:
    load_table(tiny_table_path)
    tiny_table_path.write_text(
        tiny_table_path.read_text().replace("alpha = 0.5", "alpha = 0.25"), encoding="utf-8"
    )
    changed = load_table(tiny_table_path)
    assert changed.drugs["clonazepam"].equivalents["alpha"].low == Decimal("0.25")
