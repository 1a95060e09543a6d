"""Writing output files safely: all or nothing, never over an existing file by accident."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from taper.errors import TaperError


class OutputFileError(TaperError, OSError):
    """An output file that cannot (or may not) be written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path}: {reason}")


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
    target = Path(path)
    shown = str(path)
    if target.is_dir():
        raise OutputFileError(shown, "it is a directory")
    if target.exists() and not force:
        raise OutputFileError(shown, "it already exists (pass --force to replace it)")
    parent = target.parent
    if not parent.is_dir():
        raise OutputFileError(shown, f"the folder {parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise OutputFileError(shown, exc.strerror or str(exc)) from exc
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary file, not mkstemp's 0600
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputFileError(shown, exc.strerror or str(exc)) from exc
        raise
