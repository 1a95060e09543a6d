"""Files in and out: reading the text files people give, writing outputs atomically.

Reading (plan files, scenario files, equivalence tables): one place for what every such file
needs: refused whole when it is a directory, too large, binary, not UTF-8 or empty; ``#``
comment lines skipped; each CSV row numbered by its line in the file, so that every error can
say where.

Writing: all or nothing, never over an existing file by accident.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import errno
import hashlib
import io
import itertools
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from taper.errors import OutputFileError, TaperError
from taper.formatting import printable

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
        # O_NONBLOCK: opening a FIFO must not wait for a writer; refused below anyway
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise fail(None, f"is not a regular file (a device, pipe or socket), not a {kind}")
            raw = stream.read(max_bytes + 1)  # never more than the cap, whatever stat said
        if len(raw) > max_bytes:
            raise fail(None, f"is larger than {max_bytes // 2**20} MiB")
    except OSError as exc:
        if isinstance(exc, TaperError):
            raise
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


#: Bytes read at a time by :func:`text_lines`.
_CHUNK_BYTES = 1 << 16


@contextlib.contextmanager
def text_lines(path: Path, *, kind: str, max_bytes: int, fail: Fail) -> Iterator[Iterator[str]]:
    """The lines of a text file, read as they are needed: memory stays flat however long the
    file is. The file is refused whole, before any line is given, on the same grounds and in
    the same words as :func:`read_text` (a first pass reads it through without keeping it);
    lines end in ``\n`` as ``io.StringIO(text, newline=None)`` gives them."""
    try:
        if path.is_dir():
            raise fail(None, f"is a directory, not a {kind}")
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        stream = os.fdopen(descriptor, "rb")
    except OSError as exc:
        if isinstance(exc, TaperError):
            raise
        raise fail(None, f"cannot be read: {exc.strerror or exc}") from exc
    with stream:
        size = _check_text(stream, kind=kind, max_bytes=max_bytes, fail=fail)
        yield _lines(stream, size, fail)


def _check_text(stream: IO[bytes], *, kind: str, max_bytes: int, fail: Fail) -> int:
    """The size of a regular file of UTF-8 text that is not empty, read through once (the
    reasons are checked in :func:`read_text`'s order: size, then binary, then UTF-8)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    size = 0
    binary, blank = False, True
    bad_byte: int | None = None
    try:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise fail(None, f"is not a regular file (a device, pipe or socket), not a {kind}")
        while chunk := stream.read(min(_CHUNK_BYTES, max_bytes + 1 - size)):
            size += len(chunk)
            binary = binary or b"\0" in chunk
            if bad_byte is not None or size > max_bytes:
                continue
            pending = len(decoder.getstate()[0])
            try:
                decoded = decoder.decode(chunk)
                blank = blank and not decoded.strip()
            except UnicodeDecodeError as exc:
                bad_byte = size - len(chunk) - pending + exc.start
    except OSError as exc:
        if isinstance(exc, TaperError):
            raise
        raise fail(None, f"cannot be read: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise fail(None, f"is larger than {max_bytes // 2**20} MiB")
    if binary:
        raise fail(None, f"is a binary file, not a {kind}")
    if bad_byte is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            bad_byte = size - len(exc.object) + exc.start
    if bad_byte is not None:
        raise fail(None, f"is not UTF-8 text (byte {bad_byte})")
    if blank:
        raise fail(None, "is empty")
    return size


def _lines(stream: IO[bytes], size: int, fail: Fail) -> Iterator[str]:
    """The file's first ``size`` bytes (checked by :func:`_check_text`) as lines."""
    decoder = io.IncrementalNewlineDecoder(
        codecs.getincrementaldecoder("utf-8-sig")(), translate=True
    )
    changed = "changed while it was being read; read it again"
    left = size
    rest = ""
    try:
        stream.seek(0)
        while left:
            chunk = stream.read(min(_CHUNK_BYTES, left))
            if not chunk:  # shorter than when it was checked: never a partial reading
                raise fail(None, changed)
            left -= len(chunk)
            *lines, rest = (rest + decoder.decode(chunk, final=not left)).split("\n")
            for line in lines:
                yield line + "\n"
        if stream.read(1):  # longer than when it was checked
            raise fail(None, changed)
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(None, changed) from exc
    if rest:
        yield rest


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
    text: str | Iterable[str], fail: Fail
) -> tuple[list[str], int, Iterator[tuple[int, dict[str | None, str | None]]]]:
    """The header (lower case), its line number, and the rows with their line numbers.

    ``text``: the whole text, or its lines (as :func:`text_lines` gives them), read as the
    rows are. A row with more or fewer cells than the header has ``None`` among its keys or
    values: the caller decides what that means.
    """
    source = io.StringIO(text, newline=None) if isinstance(text, str) else text
    # The lines that are not comments, read lazily (a plan may have a million).
    lines = ((number, line) for number, line in enumerate(source, 1) if not line.startswith("#"))
    head = list(itertools.islice(lines, 20))
    if not head:
        raise fail(None, "has no header line, only comments")
    first: list[int] = []  # the file line where the record being read starts

    def tracked() -> Iterator[str]:
        for number, line in itertools.chain(head, lines):
            if not first:
                first.append(number)
            yield line

    reader = csv.DictReader(tracked(), delimiter=_delimiter([line for _, line in head]))
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise fail(first[0], str(exc)) from exc
    header_line = first.pop()
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        raise fail(header_line, f"column(s) {', '.join(twice)} appear more than once")
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str | None, str | None]]]:
        try:
            for record in reader:
                yield first.pop(), record  # the row's first line in the file
        except csv.Error as exc:
            raise fail(first[0] if first else header_line, str(exc)) from exc

    return header, header_line, rows()


# ------------------------------------------------------------------ writing

#: Errors of ``os.link`` on file systems without hard links: fall back to an exclusive create.
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK}
_EXISTS = "it already exists (pass --force to replace it)"

PathLike = str | os.PathLike[str]


def _shown(path: PathLike) -> str:
    return printable(str(path))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_target(path: PathLike, *, force: bool) -> None:
    """Refuse an output path that taper may not write: see :func:`check_outputs`."""
    target, shown = Path(path), _shown(path)
    try:
        if len(os.fsencode(target.name)) > _name_max(target.parent):
            raise OutputFileError(shown, "the file name is too long")
        if not target.parent.is_dir():
            raise OutputFileError(shown, f"the folder {_shown(target.parent)} does not exist")
        try:
            found = os.lstat(target)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(found.st_mode):
            raise OutputFileError(shown, "it is a directory")
        if not force:
            raise OutputFileError(shown, _EXISTS)
        if stat.S_ISLNK(found.st_mode):
            try:  # where the links lead in the end, by name (/proc/self/fd/1 leads nowhere)
                found = os.stat(os.path.realpath(target))
            except FileNotFoundError:
                raise OutputFileError(shown, "it is a symbolic link to nothing") from None
        if not stat.S_ISREG(found.st_mode):
            raise OutputFileError(
                shown, "it is not a regular file (a device, pipe, socket or folder)"
            )
    except OSError as exc:
        if isinstance(exc, TaperError):
            raise
        raise OutputFileError(shown, exc.strerror or str(exc)) from exc


def _same(first: PathLike, second: PathLike) -> bool:
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def check_outputs(
    outputs: Mapping[str, PathLike | None],
    *,
    force: bool,
    inputs: Sequence[PathLike | None] = (),
) -> None:
    """Refuse, before any work, output paths that taper may not write.

    ``outputs`` maps each option (``--output``, ``--summary``, ...) to its path or ``None``.
    Each path must name a file in an existing folder; an existing one is replaced only with
    ``force``, and only if it is a regular file or a symbolic link to one (never a device,
    a pipe or a link to nothing). No two outputs may be the same file, and no output may be
    one of the ``inputs`` (a scenario file, a table).
    """
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for index, (option, path) in enumerate(given):
        check_target(path, force=force)
        for other_option, other in given[:index]:
            if _same(path, other):
                raise OutputFileError(_shown(path), f"it is also given as {other_option}")
        for source in inputs:
            if source is not None and _same(path, source):
                raise OutputFileError(_shown(path), f"{option} names a file this command reads")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: PathLike, content: str | bytes, *, force: bool = False) -> None:
    """Write ``content`` to ``path`` atomically: a temporary file beside it, then a link.

    An existing file is replaced only with ``force`` (see :func:`check_outputs`), even one
    that appeared while the content was being written. If anything fails, no partial file
    is left behind and the old file (if any) is untouched.
    """
    write_all_atomic([(path, content)], force=force)


def write_all_atomic(files: Sequence[tuple[PathLike, str | bytes]], *, force: bool = False) -> None:
    """Write several files all or none: each is written in full before any appears."""
    with _atomic_group([path for path, _ in files], force=force, binary=True) as streams:
        for stream, (_, content) in zip(streams, files, strict=True):
            stream.write(content.encode("utf-8") if isinstance(content, str) else content)


@contextlib.contextmanager
def atomic_text_stream(path: PathLike, *, force: bool = False) -> Iterator[IO[str]]:
    """A text file to stream into; it appears at ``path`` only if the block succeeds."""
    with _atomic_group([path], force=force, binary=False) as streams:
        yield streams[0]


def atomic_text_streams(
    paths: Sequence[PathLike], *, force: bool = False
) -> contextlib.AbstractContextManager[list[IO[Any]]]:
    """Text files to stream into; they appear at ``paths`` only if the block succeeds, all
    together (if one cannot be put in place, those already in place are removed)."""
    return _atomic_group(paths, force=force, binary=False)


@dataclass
class _Staged:
    target: Path
    temporary: str
    committed: bool = False
    created: bool = False


def _stage(target: Path) -> tuple[int, str]:
    """A new temporary file beside ``target``, with a name short enough for the folder."""
    room = max(1, _name_max(target.parent) - 20)
    stem = os.fsdecode(os.fsencode(target.name)[:room])
    return tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=target.parent)


@contextlib.contextmanager
def _atomic_group(
    paths: Sequence[PathLike], *, force: bool, binary: bool
) -> Iterator[list[IO[Any]]]:
    check_outputs({str(i): path for i, path in enumerate(paths)}, force=force)
    staged: list[_Staged] = []
    streams: list[IO[Any]] = []
    try:
        for path in paths:
            try:
                handle, temporary = _stage(Path(path))
            except OSError as exc:
                raise OutputFileError(_shown(path), exc.strerror or str(exc)) from exc
            staged.append(_Staged(Path(path), temporary))
            streams.append(
                os.fdopen(handle, "wb")
                if binary
                else os.fdopen(handle, "w", encoding="utf-8", newline="")
            )
        yield streams
        for stream in streams:
            stream.flush()
            os.fsync(stream.fileno())
            stream.close()
        with _stop_signals_held():
            for item in staged:
                _commit(item, force)
    except BaseException as exc:
        for stream in streams:
            with contextlib.suppress(OSError):
                stream.close()
        for item in staged:
            if item.created:
                with contextlib.suppress(OSError):
                    item.target.unlink()
            Path(item.temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, TaperError):
            where = staged[-1].target if staged else (paths[0] if paths else "")
            raise OutputFileError(_shown(where), exc.strerror or str(exc)) from exc
        raise


#: The signals that stop taper (turned into an exception by the command line, left to the
#: main process by batch workers, held while outputs are put in place).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Keep the stop signals held once outputs are in place, and ignore them once a command has
#: finished: set by the ``taper`` process, which owns its signals and ends right after, so
#: that a signal then cannot undo a finished command (a library caller's or a test runner's
#: signals are left as they were).
HOLD_SIGNALS_AFTER_COMMIT = False


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Hold the stop signals while the outputs are put in place, so that a signal arrives
    either before (nothing in place yet) or after (all in place, then rolled back): never
    between a file put in place and the record that it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    committed = False
    try:
        yield
        committed = True
    finally:
        if not (committed and HOLD_SIGNALS_AFTER_COMMIT):
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _commit(item: _Staged, force: bool) -> None:
    """Put a written temporary file in place: never over a file unless ``force``, and then
    only over a regular file or a link to one."""
    os.chmod(item.temporary, 0o666 & ~_umask())  # as an ordinary file, not mkstemp's 0600
    shown = _shown(item.target)
    if force:
        check_target(item.target, force=True)  # still something taper may replace
        os.replace(item.temporary, item.target)
        return
    try:
        os.link(item.temporary, item.target)
    except FileExistsError:
        raise OutputFileError(shown, _EXISTS) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        try:
            os.close(os.open(item.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise OutputFileError(shown, _EXISTS) from None
        item.created = True
        os.replace(item.temporary, item.target)
        return
    item.created = True
    Path(item.temporary).unlink(missing_ok=True)
