"""The `taper` process: its streams, terminal width, stop signals and exit codes, in one
small :class:`Environment`, and the one place where a failure becomes a line on stderr.

The command line (``cli.py``) declares commands; everything about running them as a
process lives here, free of any command-line library, so that a command can be run (and
tested) with an environment of its own instead of patched globals::

    env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), width=100)
    with env.active():
        ...

The environment that is active tells the library whether the process owns its signals
(:func:`current`): the ``taper`` process does, so once a command's outputs are in place a
late stop signal cannot undo them; a library caller or a test runner does not, and its
signal mask is left as it was.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import errno
import io
import os
import signal
import sys
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import IO, NoReturn

from taper.errors import (
    InvalidRequestError,
    Speller,
    TaperError,
    python_spelling,
    shorten,
    shorten_message,
)
from taper.formatting import printable


class ExitCode(IntEnum):
    """The exit statuses of `taper`."""

    OK = 0
    DOMAIN_ERROR = 1
    USAGE_ERROR = 2
    SOFTWARE = 70  # EX_SOFTWARE: an internal error, a bug in taper
    HUNG_UP = 129  # 128 + SIGHUP
    INTERRUPTED = 130  # 128 + SIGINT
    TERMINATED = 143  # 128 + SIGTERM


#: The signals that stop taper: turned into :class:`Stopped` by the command line, left to
#: the main process by batch workers, held while outputs are put in place.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: What taper says when a stop signal ends it.
STOP_MESSAGES = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "terminated",
    signal.SIGHUP: "hung up",
}


class Stopped(BaseException):
    """A signal asked taper to stop: clean-up runs (workers, temporary files), then it exits
    with 128 + the signal's number. Not an Exception, so that nothing catches it by mistake."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _ClosedOutput(io.TextIOBase):
    """Standard output when taper was started with it closed: every write fails clearly."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _stdout() -> IO[str]:
    return sys.stdout


def _stderr() -> IO[str]:
    return sys.stderr


@dataclass
class Environment:
    """What a command needs of the process: where to write, how wide the terminal is,
    whether the process owns its stop signals, and how to spell a parameter in an error."""

    stdout: IO[str] = field(default_factory=_stdout)
    stderr: IO[str] = field(default_factory=_stderr)
    #: Columns of the terminal; None: as ``COLUMNS`` or the terminal says (80 if none).
    width: int | None = None
    #: The ``taper`` process itself: it keeps the stop signals held once outputs are in
    #: place, and ignores them once a command has finished (it ends right after).
    owns_process: bool = False
    #: How an error names a parameter (the command line gives flags).
    spell: Speller = python_spelling

    @classmethod
    def for_process(cls, spell: Speller = python_spelling) -> Environment:
        """The environment of the ``taper`` process: standard streams that never fail with
        an internal error (closed, or unable to encode the text), and its own signals."""
        if sys.stdout is None:
            sys.stdout = _ClosedOutput()
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
            if reconfigure is not None and encoding != "utf8":
                reconfigure(errors="backslashreplace")  # PYTHONIOENCODING=ascii: no crash
        return cls(owns_process=True, spell=spell)

    def terminal_width(self) -> int:
        """The width to draw in: ``width``, else ``COLUMNS``, else the terminal's, else 80."""
        if self.width is not None:
            return self.width
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        with contextlib.suppress(AttributeError, ValueError, OSError):
            if self.stdout.isatty():
                return os.get_terminal_size(self.stdout.fileno()).columns
        return 80

    def source_date(self) -> dt.datetime | None:
        """The time ``SOURCE_DATE_EPOCH`` fixes for reproducible files (the
        reproducible-builds.org convention: whole seconds since 1970 UTC), or None."""
        text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if not text:
            return None
        if not text.isdigit() or len(text) > 12:
            raise InvalidRequestError(
                f"SOURCE_DATE_EPOCH={shorten(text)!r} is not a whole number of seconds since "
                "1970 (reproducible-builds.org)"
            )
        return dt.datetime.fromtimestamp(int(text), tz=dt.UTC)

    @contextlib.contextmanager
    def active(self) -> Iterator[Environment]:
        """Make this the environment the library sees (:func:`current`) for a block."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def fail(self, message: str, code: ExitCode, *, at_once: bool = False) -> NoReturn:
        """One line on stderr (control characters made visible), then exit with ``code``;
        ``at_once`` (a process taper owns, stopped by a signal, its clean-up done): without
        the interpreter's exit handlers. Python 3.11's handler for a process pool wakes its
        manager thread through a pipe that thread may be closing, and a stopped batch then
        printed a traceback after its one line, now and then ("Bad file descriptor")."""
        with contextlib.suppress(OSError, AttributeError, ValueError):  # stderr closed
            self.stderr.write(
                f"taper: error: {shorten_message(printable(shorten_message(message)))}\n"
            )
            self.stderr.flush()
        if at_once and self.owns_process:
            with contextlib.suppress(OSError, AttributeError, ValueError):
                self.stdout.flush()
            os._exit(code)
        sys.exit(code)

    def discard_stdout(self) -> None:
        """After a failed write to stdout, let the exit flush nothing more."""
        with contextlib.suppress(OSError, AttributeError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())

    def catch_stop_signals(self) -> Callable[[], None]:
        """Turn SIGINT, SIGTERM and SIGHUP into :class:`Stopped`; returns how to undo it."""
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])  # as it is: to put back at the end
        for number, handler in previous.items():
            if handler is not signal.SIG_IGN:  # ignored by whoever started taper (nohup): keep
                signal.signal(number, _stop)

        def restore() -> None:
            """Put the handlers back with the signals held, and let a stop signal that came
            after the command had finished change nothing (its outcome stands). The taper
            process itself ends right after: it ignores them to the end instead."""
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            for number, handler in previous.items():
                signal.signal(number, signal.SIG_IGN if self.owns_process else handler)
            late = signal.sigpending() & set(STOP_SIGNALS)
            for _ in late:
                signal.sigwait(late)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

        return restore

    def run(
        self,
        command: Callable[[], object],
        argv: Sequence[str],
        *,
        explain: Callable[[Exception], tuple[str, int] | None] = lambda exc: None,
    ) -> NoReturn:
        """Run ``command`` (the command line ``argv``) and exit: the one error boundary.
        Every failure becomes one line on stderr and an :class:`ExitCode`; a root
        ``--debug`` shows the traceback instead. ``explain`` turns the command-line
        library's own errors (usage errors) into a message and an exit status."""
        if any("\x00" in arg for arg in argv):  # typer < 0.29 fails on it in os.stat
            self.fail(
                "an argument contains a NUL character; no file name or value can hold one",
                ExitCode.USAGE_ERROR,
            )
        debug = root_debug(argv)
        restore_signals = self.catch_stop_signals()
        try:
            with self.active():
                code = command()
            if threading.current_thread() is threading.main_thread():
                signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # the work is done
            self.stdout.flush()
        except Stopped as exc:
            message = STOP_MESSAGES[signal.Signals(exc.signum)]
            self.fail(message, ExitCode(128 + exc.signum), at_once=True)
        except TaperError as exc:
            if debug:
                traceback.print_exc()
            code = ExitCode.USAGE_ERROR if exc.is_usage else ExitCode.DOMAIN_ERROR
            self.fail(exc.render(self.spell), code)
        except KeyboardInterrupt:
            self.fail("interrupted", ExitCode.INTERRUPTED)
        except Exception as exc:
            self._fail_with(exc, debug, explain(exc))
        finally:
            restore_signals()
        if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into exit status 130
            self.fail("interrupted", ExitCode.INTERRUPTED)
        sys.exit(code if isinstance(code, int) else ExitCode.OK)

    def _fail_with(
        self, exc: Exception, debug: bool, explained: tuple[str, int] | None
    ) -> NoReturn:
        if explained is not None:
            if debug:
                traceback.print_exc()
            self.fail(explained[0], ExitCode(explained[1]))
        if isinstance(exc, OSError):  # writing to standard output: closed, full, a pipe
            self.discard_stdout()
            self.fail(
                f"cannot write to standard output: {exc.strerror or exc}", ExitCode.DOMAIN_ERROR
            )
        if debug:
            raise exc
        self.fail(
            f"internal error ({type(exc).__name__}: {exc}); rerun with --debug and report it",
            ExitCode.SOFTWARE,
        )


def _stop(signum: int, frame: object) -> None:
    for number in STOP_SIGNALS:  # a second signal must not interrupt the clean-up
        signal.signal(number, signal.SIG_IGN)
    raise Stopped(signum)


_ACTIVE: contextvars.ContextVar[Environment] = contextvars.ContextVar("taper_environment")
_LIBRARY = Environment()


def current() -> Environment:
    """The environment a command runs in; a library caller's (owning no signals) if none."""
    return _ACTIVE.get(_LIBRARY)


def root_debug(argv: Sequence[str]) -> bool:
    """Whether ``--debug`` is given as the root option (before the command), and only there:
    ``taper schedule ... --note --debug`` is a note, not a request for tracebacks."""
    command = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), len(argv))
    return "--debug" in argv[:command]


def definition_lines(records: Sequence[tuple[str, str]], indent: int, width: int) -> list[str]:
    """Help entries (term, text) as lines: each text wrapped at spaces only, so that no
    example such as a dose is broken, beside its term (or under a long one)."""
    pad = " " * indent
    first = min(max(len(term) for term, _ in records), 24)
    wrap = max(width - indent - first - 2, 20)
    lines = []
    for term, text in records:
        wrapped = textwrap.wrap(text, wrap, break_long_words=False, break_on_hyphens=False)
        if len(term) > first:
            lines.append(f"{pad}{term}")
        else:
            lines.append(f"{pad}{term:<{first}}  {wrapped.pop(0) if wrapped else ''}".rstrip())
        lines.extend(f"{pad}{'':<{first}}  {line}" for line in wrapped)
    return lines
