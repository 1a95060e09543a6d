"""The cache of validated tables: found when valid, ignored when not, never a failure."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from taper.cache import cache_dir
from taper.table import load_table


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TAPER_CACHE_DIR", str(folder))
    return folder


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "tables").iterdir())


def test_a_table_is_cached_and_read_back_equal(cache: Path, tiny_table_path: Path) -> None:
    first = load_table(tiny_table_path)
    (entry,) = _entries(cache)
    again = load_table(tiny_table_path)
    assert again == first
    assert again.sha256 == first.sha256
    assert again.path == first.path
    assert _entries(cache) == [entry]


def test_a_changed_file_is_never_read_from_the_cache(cache: Path, tiny_table_path: Path) -> None:
    load_table(tiny_table_path)
    tiny_table_path.write_text(
        tiny_table_path.read_text().replace("alpha = 0.5", "alpha = 0.25"), encoding="utf-8"
    )
    changed = load_table(tiny_table_path)
    assert changed.drugs["clonazepam"].equivalents["alpha"].low == Decimal("0.25")
    assert len(_entries(cache)) == 2


@pytest.mark.parametrize(
    "content",
    [b"", b"not a pickle", pickle.dumps({"a": 1}), pickle.dumps(load_table())[:100]],
    ids=["empty", "garbage", "wrong-type", "truncated"],
)
def test_a_corrupt_entry_falls_back_to_the_file(
    cache: Path, tiny_table_path: Path, content: bytes
) -> None:
    expected = load_table(tiny_table_path)
    (entry,) = _entries(cache)
    entry.write_bytes(content)
    assert load_table(tiny_table_path) == expected


def test_a_tampered_entry_cannot_run_code(cache: Path, tiny_table_path: Path) -> None:
    expected = load_table(tiny_table_path)
    (entry,) = _entries(cache)
    marker = cache / "ran"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    entry.write_bytes(pickle.dumps(Evil()))
    assert load_table(tiny_table_path) == expected
    assert not marker.exists()


def test_an_unwritable_cache_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_table_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("TAPER_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert load_table(tiny_table_path).drugs["diazepam"].aliases == ("Valium",)


def test_the_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAPER_CACHE_DIR", "off")
    assert cache_dir() is None


@pytest.mark.parametrize("state", ["unwritable", "corrupt"])
def test_the_command_line_is_silent_about_a_broken_cache(tmp_path: Path, state: str) -> None:
    folder = tmp_path / "cache"
    if state == "unwritable":
        folder.write_text("a file where the cache folder should be", encoding="utf-8")

    def convert() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "taper",
                "convert",
                "clonazepam",
                "1mg",
                "--to",
                "diazepam",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "TAPER_CACHE_DIR": str(folder)},
            check=False,
        )

    for _ in range(2):
        result = convert()
        if state == "corrupt":
            entries = list((folder / "tables").iterdir())
            assert entries
            for entry in entries:
                entry.write_bytes(b"corrupt")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert json.loads(result.stdout)["results"][0]["dose_mg"] == 20
