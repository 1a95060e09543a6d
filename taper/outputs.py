"""Where an output goes and in which format: ``-o -`` is standard output, and a file's
extension names its format when ``--format`` is not given (a mismatch is refused)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from taper.errors import InvalidRequestError
from taper.files import atomic_text_stream

#: The output name that means standard output.
STDOUT = "-"
#: The format each known extension names.
FORMAT_OF_SUFFIX = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".txt": "table"}
#: Extensions of the files other options write: ``-o plan.pdf`` is refused with the option.
SIDE_FILE_OPTION = {".pdf": "--handout", ".png": "--plot-file", ".svg": "--plot-file",
                    ".ics": "--ics"}  # fmt: skip


def is_stdout(output: str | os.PathLike[str] | None) -> bool:
    """True for no output file, or ``-``: write to standard output."""
    return output is None or os.fspath(output) == STDOUT


def output_format(
    given: str | None,
    output: str | os.PathLike[str] | None,
    formats: Sequence[str],
    default: str,
) -> str:
    """The format to write: ``given``, else the one the output's extension names, else
    ``default``; refuses an extension that names another format than ``given``, or one the
    command cannot write."""
    suffix = "" if is_stdout(output) else Path(output or "").suffix.lower()
    if suffix in SIDE_FILE_OPTION:
        raise InvalidRequestError(
            f"-o writes text ({', '.join(formats)}), not a {suffix} file; "
            f"write {output} with {SIDE_FILE_OPTION[suffix]}"
        )
    implied = FORMAT_OF_SUFFIX.get(suffix)
    if implied is not None and implied not in formats:
        raise InvalidRequestError(
            f"{output} names the format {implied}, which this command does not write "
            f"(it writes {', '.join(formats)}); give another name or --format"
        )
    if given is not None and implied is not None and given != implied:
        raise InvalidRequestError(
            f"--format {given} does not match the extension of {output} ({implied}); "
            "change one of them"
        )
    return given or implied or default


def text_output(
    output: str | os.PathLike[str], *, force: bool = False
) -> contextlib.AbstractContextManager[IO[str]]:
    """A text stream to ``output``: standard output for ``-``, else a file written
    atomically (it appears only if the block succeeds)."""
    if is_stdout(output):
        return contextlib.nullcontext(sys.stdout)
    return atomic_text_stream(output, force=force)
