"""LibCST checks and config-file checks, by name. Closed sets: a new check is added to a list here."""

from __future__ import annotations

from prodaudit.checks.base import Check, CheckCrash, Report
from prodaudit.checks.migrations import MIGRATION_CHECKS
from prodaudit.checks.transactions import TRANSACTION_CHECKS

_ALL: tuple[type[Check], ...] = (*MIGRATION_CHECKS, *TRANSACTION_CHECKS)

CHECKS: dict[str, type[Check]] = {cls.name: cls for cls in _ALL}
if len(CHECKS) != len(_ALL):  # pragma: no cover - a programming error caught on import
    raise RuntimeError("two LibCST checks share a name")

__all__ = ["CHECKS", "Check", "CheckCrash", "Report"]
