"""Writing output files safely: all or nothing, never over an existing file by accident."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from taper.errors import TaperError


class OutputFileError(TaperError, OSError):
    """An output file that cannot (or may not) be written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path}: {reason}")


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
