"""Files in and out: reading the text files people give, writing outputs atomically.

Reading (plan files, scenario files, equivalence tables): one place for what every such file
needs: refused whole when it is a directory, too large, binary, not UTF-8 or empty; ``#``
comment lines skipped; each CSV row numbered by its line in the file, so that every error can
say where.

Writing: all or nothing, never over an existing file by accident.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import errno
import hashlib
import io
import itertools
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from taper.errors import OutputFileError, TaperError
from taper.formatting import printable
from taper.process import STOP_SIGNALS
from taper.process import current as current_process

Fail = Callable[[int | None, str], TaperError]


def read_text(
    path: Path, *, kind: str, max_bytes: int, fail: Fail, allow_empty: bool = False
) -> tuple[str, str]:
    """The text of a file and the SHA-256 of its bytes, or ``fail(line, reason)``.

    An empty file is refused unless ``allow_empty`` (a table's schema says what it lacks).
    ``-`` is standard input (a pipe is fine there), read with the same cap and checks.
    """
    if str(path) == STDIN:
        raw = read_stdin(max_bytes, fail)
        return _decoded(raw, kind=kind, fail=fail, allow_empty=allow_empty)
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
    return _decoded(raw, kind=kind, fail=fail, allow_empty=allow_empty)


#: The file name that means standard input (and, for an output, standard output).
STDIN = "-"


def read_stdin(max_bytes: int, fail: Fail) -> bytes:
    """The bytes of standard input, at most ``max_bytes``."""
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise fail(None, "cannot be read: there is no standard input")
    try:
        raw = bytes(stream.read(max_bytes + 1))
    except OSError as exc:
        raise fail(None, f"cannot be read: {exc.strerror or exc}") from exc
    if len(raw) > max_bytes:
        raise fail(None, f"is larger than {max_bytes // 2**20} MiB")
    return raw


def _decoded(raw: bytes, *, kind: str, fail: Fail, allow_empty: bool) -> tuple[str, str]:
    if b"\0" in raw:
        raise fail(None, f"is a binary file, not a {kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(None, f"is not UTF-8 text (byte {exc.start})") from exc
    if not allow_empty and not text.strip():
        raise fail(None, "is empty")
    return text, hashlib.sha256(raw).hexdigest()


def too_long(exc: ValueError) -> str:
    """What a ValueError from reading a number says: Python reads integers of at most
    ``sys.get_int_max_str_digits()`` digits (a 5,000-digit integer in a TOML file)."""
    if "integer string conversion" in str(exc):
        return f"an integer has more than {sys.get_int_max_str_digits():,} digits"
    return str(exc)


#: The most text the csv module's Sniffer is given: its regular expressions take time that
#: grows with the square of the sample (a 140 kB header took a minute).
SNIFF_CHARS = 4096
DELIMITERS = ",;\t|"
#: Bytes read at a time by :func:`text_lines`.
_CHUNK_BYTES = 1 << 16


@contextlib.contextmanager
def text_lines(path: Path, *, kind: str, max_bytes: int, fail: Fail) -> Iterator[Iterator[str]]:
    """The lines of a text file, read as they are needed: memory stays flat however long the
    file is. The file is refused whole, before any line is given, on the same grounds and in
    the same words as :func:`read_text` (a first pass reads it through without keeping it);
    lines end in ``\n`` as ``io.StringIO(text, newline=None)`` gives them. Standard input
    (``-``), which cannot be read twice, is read whole with :func:`read_text`'s checks."""
    if str(path) == STDIN:
        text, _ = read_text(path, kind=kind, max_bytes=max_bytes, fail=fail)
        yield iter(io.StringIO(text, newline=None))
        return
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
    module's Sniffer from its first whole lines up to :data:`SNIFF_CHARS`; when fewer than
    two fit (a wide file), the candidate the first line has most of; a comma when it cannot
    tell."""
    sample = list(itertools.takewhile(lambda total: total <= SNIFF_CHARS,
                                      itertools.accumulate(map(len, lines))))  # fmt: skip
    if len(sample) < 2:
        counts = [lines[0].count(candidate) if lines else 0 for candidate in DELIMITERS]
        return DELIMITERS[counts.index(max(counts))] if max(counts) else ","
    try:
        return csv.Sniffer().sniff("".join(lines[: len(sample)]), delimiters=DELIMITERS).delimiter
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
    twice = sorted(name for name, count in collections.Counter(header).items() if count > 1)
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
_EXISTS = "it already exists (pass {force} to replace it)"

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
    _target_kind(path, force=force)


#: What an existing output path is, once checked: a regular file (replaced only with
#: ``force``, atomically, and never through a symbolic link), or a
#: stream that is written through and never replaced (``/dev/null``, a pipe, this terminal).
NEW, FILE, STREAM = "new", "file", "stream"


def _standard_streams() -> dict[tuple[int, int], int | None]:
    """(device, inode) of taper's own standard streams -> the descriptor to write them by:
    ``-o /dev/stdout`` (or a link to it) is written through, to the terminal, the pipe or the
    file the shell opened (appended to when the shell appends, never replaced). Standard
    input counts only as a terminal or pipe, written by opening it."""
    found: dict[tuple[int, int], int | None] = {}
    for descriptor in (0, 2, 1):
        with contextlib.suppress(OSError):
            info = os.fstat(descriptor)
            if descriptor or stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
                found[info.st_dev, info.st_ino] = descriptor or None
    return found


def _target_kind(path: PathLike, *, force: bool) -> str:
    """NEW, FILE or STREAM for an output path taper may write; refuses any other.

    ``--force`` replaces a regular file only, named by itself: a symbolic link to one is
    refused, with or without ``force`` (a link planted in a shared folder would turn
    ``--force`` into a write to any file the user may write: a fresh user's review replaced
    /etc/passwd so), as is a link to nothing, a folder, a socket or a block device.
    ``/dev/null``, a pipe (a named one only while something reads it) and taper's own
    standard output or error (a terminal, a pipe or the file the shell opened) are written
    through, never replaced, with or without ``force``, a link to one too (``/dev/stdout``);
    any other device is refused.
    """
    target, shown = Path(path), _shown(path)
    try:
        if os.fspath(path).endswith(("/", os.sep)):  # Path() drops it: 'out/' would be 'out'
            raise OutputFileError(shown, "it names a folder (it ends with /); name a file")
        if len(os.fsencode(target.name)) > _name_max(target.parent):
            raise OutputFileError(shown, "the file name is too long")
        if not target.parent.is_dir():
            raise OutputFileError(shown, f"the folder {_shown(target.parent)} does not exist")
        try:
            found = os.lstat(target)
        except FileNotFoundError:
            return NEW
        if stat.S_ISDIR(found.st_mode):
            raise OutputFileError(shown, "it is a directory")
        link = stat.S_ISLNK(found.st_mode)
        if link:
            try:
                found = os.stat(target)  # where the links lead in the end
            except FileNotFoundError:
                raise OutputFileError(shown, "it is a symbolic link to nothing") from None
        if (
            stat.S_ISFIFO(found.st_mode)
            or (found.st_dev, found.st_ino) in _standard_streams()
            or (stat.S_ISCHR(found.st_mode) and os.path.samestat(found, os.stat(os.devnull)))
        ):
            return STREAM
        if not stat.S_ISREG(found.st_mode):
            raise OutputFileError(
                shown,
                "it is not a regular file (a device, socket or folder); only /dev/null, a pipe "
                "or this terminal is written through",
            )
        if link:
            leads = _shown(os.path.realpath(target))
            raise OutputFileError(
                shown,
                f"it is a symbolic link to {leads}; taper does not write a file through a "
                "link: name the file itself",
            )
        if not force:
            raise OutputFileError(shown, _EXISTS, parameters={"force": True})
        return FILE
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

    ``outputs`` maps each parameter (``output``, ``summary``, ...) to its path or ``None``.
    Each path must name a file in an existing folder; an existing one is replaced only with
    ``force``, and only if it is a regular file named by itself (never through a symbolic
    link); ``/dev/null``, a pipe and taper's terminal are written through,
    never replaced (see :func:`_target_kind`). No two outputs may be the same file, and no
    output may be one of the ``inputs`` (a scenario file, a table).
    """
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for index, (option, path) in enumerate(given):
        check_target(path, force=force)
        for other_option, other in given[:index]:
            if _same(path, other):
                raise OutputFileError(
                    _shown(path),
                    f"it is also given as {{{other_option}}}",
                    parameters={other_option: None},
                )
        for source in inputs:
            if source is not None and _same(path, source):
                raise OutputFileError(
                    _shown(path),
                    f"{{{option}}} names a file this command reads",
                    parameters={option: None},
                )


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
    #: What the target was when checked: NEW, FILE or STREAM.
    kind: str = NEW
    committed: bool = False
    created: bool = False


def _stage(target: Path, kind: str) -> tuple[int, str]:
    """A new temporary file (``O_EXCL``, an unpredictable name) beside the file ``target``
    names, with a name short enough for the folder; in the temporary folder for a stream
    (nothing is ever created in ``/dev``)."""
    import tempfile  # only to write: not for a plan or a table read

    if kind == STREAM:
        return tempfile.mkstemp(prefix=".taper.", suffix=".tmp")
    room = max(1, _name_max(target.parent) - 20)
    stem = os.fsdecode(os.fsencode(target.name)[:room])
    return tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=target.parent)


class _NamedStream:
    """An output stream whose write errors name its file (a full disk or the file-size
    limit, ``RLIMIT_FSIZE``, blames the file that outgrew it, not another output)."""

    def __init__(self, stream: IO[Any], shown: str) -> None:
        self._stream = stream
        self._shown = shown

    def write(self, data: Any) -> int:
        try:
            return self._stream.write(data)
        except OSError as exc:
            raise OutputFileError(self._shown, exc.strerror or str(exc)) from exc

    def finish(self) -> None:
        """Flush and sync, then close (errors name the file)."""
        try:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
        except OSError as exc:
            raise OutputFileError(self._shown, exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def _atomic_group(
    paths: Sequence[PathLike], *, force: bool, binary: bool
) -> Iterator[list[IO[Any]]]:
    check_outputs({str(i): path for i, path in enumerate(paths)}, force=force)
    staged: list[_Staged] = []
    streams: list[_NamedStream] = []
    try:
        for path in paths:
            kind = _target_kind(path, force=force)
            try:
                handle, temporary = _stage(Path(path), kind)
            except OSError as exc:
                raise OutputFileError(_shown(path), exc.strerror or str(exc)) from exc
            staged.append(_Staged(Path(path), temporary, kind))
            stream = (
                os.fdopen(handle, "wb")
                if binary
                else os.fdopen(handle, "w", encoding="utf-8", newline="")
            )
            streams.append(_NamedStream(stream, _shown(path)))
        yield cast(list[IO[Any]], streams)
        for named in streams:
            named.finish()
        with _stop_signals_held():
            # streams last: what is written through cannot be taken back
            for item in sorted(staged, key=lambda item: item.kind == STREAM):
                _commit(item, force)
    except BaseException as exc:
        for named in streams:
            with contextlib.suppress(OSError):
                named.close()
        for item in staged:
            if item.created:
                with contextlib.suppress(OSError):
                    item.target.unlink()
            Path(item.temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, TaperError):
            where = staged[-1].target if staged else (paths[0] if paths else "")
            raise OutputFileError(_shown(where), exc.strerror or str(exc)) from exc
        raise


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
        # The taper process keeps them held once outputs are in place, so that a late
        # signal cannot undo a finished command; a library caller's mask is put back.
        if not (committed and current_process().owns_process):
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _commit(item: _Staged, force: bool) -> None:
    """Put a written temporary file in place: never over a file unless ``force``, and then
    only over a regular file named by itself; a stream is written through. Replacing a path
    never follows a link: a link put there since the check is itself replaced."""
    shown = _shown(item.target)
    kind = _target_kind(item.target, force=force)  # still something taper may write
    if kind != item.kind and STREAM in (kind, item.kind):
        raise OutputFileError(shown, "it changed while taper was writing it")
    if kind == STREAM:
        _write_through(item)
        return
    os.chmod(item.temporary, 0o666 & ~_umask())  # as an ordinary file, not mkstemp's 0600
    if force:
        os.replace(item.temporary, item.target)
        return
    try:
        os.link(item.temporary, item.target)
    except FileExistsError:
        raise OutputFileError(shown, _EXISTS, parameters={"force": True}) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        try:
            os.close(os.open(item.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise OutputFileError(shown, _EXISTS, parameters={"force": True}) from None
        item.created = True
        os.replace(item.temporary, item.target)
        return
    item.created = True
    Path(item.temporary).unlink(missing_ok=True)


def _write_through(item: _Staged) -> None:
    """Copy a staged file into a stream (``/dev/null``, a pipe, the terminal): opened
    without waiting for a reader, never created, never truncated or replaced."""
    shown = _shown(item.target)
    flags = os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    try:
        info = os.stat(item.target)
        own = _standard_streams().get((info.st_dev, info.st_ino))
        if own is not None:  # taper's stdout or stderr: its descriptor, after what it holds
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            descriptor = os.dup(own)
        else:
            descriptor = os.open(item.target, flags)
            os.set_blocking(descriptor, True)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputFileError(shown, "it is a pipe that nothing reads") from None
        raise OutputFileError(shown, exc.strerror or str(exc)) from exc
    try:
        with open(item.temporary, "rb") as staged:
            while chunk := staged.read(1 << 16):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(descriptor, view) :]
    except OSError as exc:
        raise OutputFileError(shown, exc.strerror or str(exc)) from exc
    finally:
        os.close(descriptor)
    Path(item.temporary).unlink(missing_ok=True)
