"""The two error families: ones a user can fix (exit 2) and an incomplete scan (exit 3)."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake the user can fix: bad flag, config, path or rule file. Exit 2, one line, no traceback."""

    exit_code = 2


class ScanIncomplete(Exception):
    """The scan could not complete (engine missing at run time, crashed or timed out). Exit 3."""

    exit_code = 3
