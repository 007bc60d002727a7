"""The one result object every renderer consumes. Renderers are pure functions of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from prodaudit.model import (
    Category,
    EngineError,
    Finding,
    Launch,
    Phase,
    Rule,
    Skipped,
    Status,
    Strictness,
    Verdict,
)
from prodaudit.policy import gates, verdict_of

SCHEMA_VERSION = 1
CATEGORY_ORDER = (Category.STOP_SHIP, Category.FIX_SOON, Category.ACCEPTABLE_RISK)


@dataclass(frozen=True)
class ScanReport:
    tool_version: str
    engine_versions: dict[str, str]
    launch: Launch
    strictness: Strictness
    findings: tuple[Finding, ...]  # sorted by (path, line, column, rule_id)
    errors: tuple[EngineError, ...]
    skipped: tuple[Skipped, ...]
    rules: dict[str, Rule]  # every rule that ran, by id (SARIF metadata, docs links)
    files_scanned: int
    generated_at: str  # ISO 8601 UTC, for the audit report header
    root: str = "."
    files_changed: int | None = None  # set in --diff-base mode
    notes: tuple[str, ...] = field(default=())  # one-line remarks for humans (e.g. "0 files changed")

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    @property
    def incomplete(self) -> bool:
        return bool(self.errors)

    @property
    def exit_code(self) -> int:
        if self.incomplete:
            return 3
        return 1 if self.verdict is Verdict.NOT_READY else 0

    @property
    def open_findings(self) -> tuple[Finding, ...]:
        """The findings that gate: open, and new when the scan is a --diff-base scan."""
        return tuple(f for f in self.findings if gates(f))

    def count(self, category: Category, phase: Phase | None = None) -> int:
        return sum(
            1 for f in self.open_findings if f.category is category and (phase is None or f.phase is phase)
        )

    def count_status(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status is status)

    @property
    def files_skipped(self) -> int:
        """Files no engine scanned (a file only Bandit could not read was still scanned)."""
        return len({s.path for s in self.skipped if s.engine is None})

    @property
    def summary(self) -> dict[str, int]:
        return {
            "stop-ship": self.count(Category.STOP_SHIP),
            "fix-soon": self.count(Category.FIX_SOON),
            "acceptable-risk": self.count(Category.ACCEPTABLE_RISK),
            "suppressed": self.count_status(Status.SUPPRESSED),
            "baselined": self.count_status(Status.BASELINED),
            "files_scanned": self.files_scanned,
            "files_skipped": self.files_skipped,
        }

    def phase_verdict(self, phase: Phase) -> Verdict:
        return verdict_of(f for f in self.findings if f.phase is phase)

    @property
    def phases(self) -> dict[str, dict[str, object]]:
        return {
            phase.value: {
                "verdict": self.phase_verdict(phase).value,
                "stop-ship": self.count(Category.STOP_SHIP, phase),
                "fix-soon": self.count(Category.FIX_SOON, phase),
                "acceptable-risk": self.count(Category.ACCEPTABLE_RISK, phase),
            }
            for phase in Phase
        }

    def by_category(self, category: Category) -> tuple[Finding, ...]:
        return tuple(f for f in self.open_findings if f.category is category)
