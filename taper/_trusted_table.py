"""The SHA-256 of the bundled ``equivalences.toml`` whose every check the tests ran.

:func:`taper.table.load_table` skips the schema's checks (msgspec: about 12 ms of every
command that reads the table, and of a process's first plan) for the bundled file only, and
only when the bytes it read have this digest: a bundled file changed by a byte, and every
table given by path, are checked in full. ``tests/test_table_trust.py`` checks the bundled
table in full and builds it both ways; after a change to the table, it re-records this digest
with ``pytest tests/test_table_trust.py --update-golden`` once those checks pass.
"""

CHECKED_SHA256 = "f5627f33bd2b1989bdb6b09a5fe053e21468a9bfd1d00354db3dc3c5e986bc39"
