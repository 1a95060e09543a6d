"""Files in and out: reading the text files people give, writing outputs atomically.

Reading (plan files, scenario files, equivalence tables): one place for what every such file
needs: refused whole when it is a directory, too large, binary, not UTF-8 or empty; ``#``
comment lines skipped; each CSV row numbered by its line in the file, so that every error can
say where.

Writing: all or nothing, never over an existing file by accident.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from taper.errors import OutputFileError, TaperError

Fail = Callable[[int | None, str], TaperError]


def read_text(
    path: Path, *, kind: str, max_bytes: int, fail: Fail, allow_empty: bool = False
) -> tuple[str, str]:
    """The text of a file and the SHA-256 of its bytes, or ``fail(line, reason)``.

    An empty file is refused unless ``allow_empty`` (a table's schema says what it lacks).
    """
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
    if not allow_empty and not text.strip():
        raise fail(None, "is empty")
    return text, hashlib.sha256(raw).hexdigest()


def _delimiter(lines: list[str]) -> str:
    """The delimiter of a CSV file (a comma, semicolon, tab or bar), found by the csv
    module's Sniffer from its first lines; a comma when it cannot tell."""
    if len(lines) < 2:
        return ","
    try:
        return csv.Sniffer().sniff("".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def csv_records(
    text: str, fail: Fail
) -> tuple[list[str], int, Iterator[tuple[int, dict[str | None, str | None]]]]:
    """The header (lower case), its line number, and the rows with their line numbers.

    A row with more or fewer cells than the header has ``None`` among its keys or values:
    the caller decides what that means.
    """

    def lines() -> Iterator[tuple[int, str]]:
        """The lines that are not comments, read lazily (a plan may have a million)."""
        for number, line in enumerate(io.StringIO(text, newline=None), 1):
            if not line.startswith("#"):
                yield number, line

    head = [line for _, line in itertools.islice(lines(), 20)]
    if not head:
        raise fail(None, "has no header line, only comments")
    first: list[int] = []  # the file line where the record being read starts

    def tracked() -> Iterator[str]:
        for number, line in lines():
            if not first:
                first.append(number)
            yield line

    reader = csv.DictReader(tracked(), delimiter=_delimiter(head))
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise fail(first[0], str(exc)) from exc
    header_line = first.pop()
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str | None, str | None]]]:
        try:
            for record in reader:
                yield first.pop(), record  # the row's first line in the file
        except csv.Error as exc:
            raise fail(first[0] if first else header_line, str(exc)) from exc

    return header, header_line, rows()


# ------------------------------------------------------------------ writing


def _check_target(target: Path, shown: str, force: bool) -> None:
    if target.is_dir():
        raise OutputFileError(shown, "it is a directory")
    if target.exists() and not force:
        raise OutputFileError(shown, "it already exists (pass --force to replace it)")
    if not target.parent.is_dir():
        raise OutputFileError(shown, f"the folder {target.parent} does not exist")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | os.PathLike[str], content: str | bytes, *, force: bool = False
) -> None:
    """Write ``content`` to ``path`` atomically: a temporary file beside it, then a rename.

    An existing file is replaced only with ``force``. If anything fails, no partial file is
    left behind and the old file (if any) is untouched.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    with _atomic(path, force=force, binary=True) as stream:
        stream.write(data)


def atomic_text_stream(
    path: str | os.PathLike[str], *, force: bool = False
) -> contextlib.AbstractContextManager[IO[str]]:
    """A text file to stream into; it appears at ``path`` only if the block succeeds."""
    return _atomic(path, force=force, binary=False)


@contextlib.contextmanager
def _atomic(path: str | os.PathLike[str], *, force: bool, binary: bool) -> Iterator[IO[Any]]:
    target = Path(path)
    shown = str(path)
    _check_target(target, shown, force)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise OutputFileError(shown, exc.strerror or str(exc)) from exc
    try:
        stream = (
            os.fdopen(handle, "wb")
            if binary
            else os.fdopen(handle, "w", encoding="utf-8", newline="")
        )
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary file, not mkstemp's 0600
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, TaperError):
            raise OutputFileError(shown, exc.strerror or str(exc)) from exc
        raise
