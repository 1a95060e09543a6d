"""Reading the text files people give: plan files, scenario files.

One place for what every such file needs: refused whole when it is a directory, too large,
binary, not UTF-8 or empty; ``#`` comment lines skipped; each CSV row numbered by its line in
the file, so that every error can say where.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

from taper.errors import DataFileError

Fail = Callable[[int | None, str], DataFileError]


def read_text(path: Path, *, kind: str, max_bytes: int, fail: Fail) -> tuple[str, str]:
    """The text of a file and the SHA-256 of its bytes, or ``fail(line, reason)``."""
    try:
        if path.is_dir():
            raise fail(None, f"is a directory, not a {kind}")
        if path.stat().st_size > max_bytes:
            raise fail(None, f"is larger than {max_bytes // 2**20} MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(None, f"cannot be read: {exc.strerror or exc}") from exc
    if b"\0" in raw:
        raise fail(None, f"is a binary file, not a {kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(None, f"is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise fail(None, "is empty")
    return text, hashlib.sha256(raw).hexdigest()


def csv_records(
    text: str, fail: Fail
) -> tuple[list[str], int, Iterator[tuple[int, dict[str | None, str | None]]]]:
    """The header (lower case), its line number, and the rows with their line numbers.

    A row with more or fewer cells than the header has ``None`` among its keys or values:
    the caller decides what that means.
    """
    numbered = [
        (n, line) for n, line in enumerate(text.splitlines(), 1) if not line.startswith("#")
    ]
    if not numbered:
        raise fail(None, "has no header line, only comments")
    numbers = [n for n, _ in numbered]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in numbered)))
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise fail(numbers[0], str(exc)) from exc
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str | None, str | None]]]:
        consumed = reader.line_num
        try:
            for record in reader:
                yield numbers[consumed], record  # the row's first line in the file
                consumed = reader.line_num
        except csv.Error as exc:
            raise fail(numbers[min(consumed, len(numbers) - 1)], str(exc)) from exc

    return header, numbers[0], rows()
