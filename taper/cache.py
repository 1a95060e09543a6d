"""A small on-disk cache of validated data, in the user's cache directory.

Used for the equivalence table: reading and validating the TOML costs more than the rest of a
one-off conversion, and the same file is read on every run. An entry is found by a key made
of everything its value depends on (the file's bytes and the code that builds it), so a stale
entry is never found, only ignored. The cache is an optimisation and nothing more: a missing,
unreadable, corrupt or unwritable cache behaves as no cache, silently. Entries are pickles
read by an unpickler that only rebuilds the classes it is given, so a tampered entry cannot
run code; anything else in it makes the entry corrupt.

The folder is ``platformdirs.user_cache_dir("taper")`` (``$XDG_CACHE_HOME/taper`` or
``~/.cache/taper`` on Linux), or ``$TAPER_CACHE_DIR`` when set; ``TAPER_CACHE_DIR=off``
turns the cache off.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Raise when the layout of entries changes.
CACHE_FORMAT = 1
#: Entries larger than this are not read (a cached table is about 12 kB).
MAX_ENTRY_BYTES = 4 * 1024 * 1024


def cache_dir() -> Path | None:
    """The folder of taper's cache, or None when the cache is turned off."""
    configured = os.environ.get("TAPER_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in {"", "0", "off"} else Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("taper", appauthor=False))


def entry_key(*parts: str | bytes) -> str:
    """A file name made of everything an entry depends on."""
    digest = hashlib.sha256(f"taper-cache-{CACHE_FORMAT}".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def code_fingerprint(paths: Iterable[str | os.PathLike[str]]) -> str:
    """Size and modification time of source files: a cached value built by code that has
    changed since (a development checkout) is not found."""
    stats = (os.stat(path) for path in paths)
    return ";".join(f"{stat.st_size}:{stat.st_mtime_ns}" for stat in stats)


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: Iterable[type]) -> None:
        super().__init__(io.BytesIO(data))
        self._allowed = {(kind.__module__, kind.__qualname__): kind for kind in allowed}

    def find_class(self, module: str, name: str) -> Any:
        kind = self._allowed.get((module, name))
        if kind is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")
        return kind


def read_entry(kind: str, key: str, allowed: Iterable[type], expected: type) -> Any | None:
    """The cached value, or None when there is none (or it cannot be used)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        path = folder / kind / key
        with path.open("rb") as stream:
            data = stream.read(MAX_ENTRY_BYTES + 1)
        if len(data) > MAX_ENTRY_BYTES:
            return None
        value = _RestrictedUnpickler(data, allowed).load()
    except Exception:  # a cache is never a reason to fail: rebuild instead
        return None
    return value if type(value) is expected else None


def write_entry(kind: str, key: str, value: object) -> None:
    """Store a value (atomically); silently nothing when the cache cannot be written."""
    folder = cache_dir()
    if folder is None:
        return
    target = folder / kind
    temporary = target / f".{key}.{os.getpid()}.tmp"
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, target / key)
    except Exception:
        with contextlib.suppress(Exception):
            temporary.unlink(missing_ok=True)
