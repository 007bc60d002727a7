"""Frozen value types shared by every part of prodaudit. No I/O here."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class _Ordered(str, enum.Enum):
    """A string enum whose members compare by their declaration order."""

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, type(self)):
            return NotImplemented
        return self.rank < other.rank


class Severity(_Ordered):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Confidence(_Ordered):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Category(_Ordered):
    """Ordered from least to most urgent."""

    ACCEPTABLE_RISK = "acceptable-risk"
    FIX_SOON = "fix-soon"
    STOP_SHIP = "stop-ship"


class Phase(str, enum.Enum):
    SECURITY = "security"
    DATA_SAFETY = "data-safety"
    RELIABILITY = "reliability"
    OBSERVABILITY = "observability"
    PERFORMANCE = "performance"
    OPERATIONS = "operations"

    @property
    def prefix(self) -> str:
        return PHASE_PREFIXES[self]


PHASE_PREFIXES = {
    Phase.SECURITY: "SEC",
    Phase.DATA_SAFETY: "DATA",
    Phase.RELIABILITY: "REL",
    Phase.OBSERVABILITY: "OBS",
    Phase.PERFORMANCE: "PERF",
    Phase.OPERATIONS: "OPS",
}


class Launch(str, enum.Enum):
    INTERNAL = "internal"
    BETA = "beta"
    PUBLIC = "public"
    PAID = "paid"


class Strictness(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


DEFAULT_STRICTNESS = {
    Launch.INTERNAL: Strictness.LOW,
    Launch.BETA: Strictness.MEDIUM,
    Launch.PUBLIC: Strictness.HIGH,
    Launch.PAID: Strictness.HIGH,
}


class Verdict(str, enum.Enum):
    READY = "READY"
    READY_WITH_RISKS = "READY_WITH_RISKS"
    NOT_READY = "NOT_READY"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Status(str, enum.Enum):
    OPEN = "open"
    SUPPRESSED = "suppressed"
    BASELINED = "baselined"


@dataclass(frozen=True)
class Example:
    """One rule example: `bad` code must produce the rule's finding, `good` code must not."""

    kind: str  # "bad" | "good"
    code: str
    path: str  # file name the example is scanned under, relative to a scratch root
    files: tuple[tuple[str, str], ...] = ()  # other files of the example's project: (path, text)


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    phase: Phase
    severity: Severity
    confidence: Confidence
    title: str
    why: str
    fix: str
    engine: str  # semgrep | cst | bandit | config | builtin
    languages: tuple[str, ...]
    cwe: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    include: tuple[str, ...] = ()  # path globs the rule is limited to (empty: everywhere)
    exclude: tuple[str, ...] = ()  # path globs the rule never reports in
    applies_to_tests: bool = True
    semgrep: dict | None = field(default=None, compare=False, hash=False)
    check: str | None = None  # cst/config check name
    bandit: str | None = None  # adopted Bandit test id, e.g. B602
    prefilter: tuple[str, ...] = ()  # cheap text prefilter: a file must contain one of these
    source: str = ""  # the YAML file the rule came from


@dataclass(frozen=True)
class RawFinding:
    """What an engine reports, before identity, suppression and policy are applied."""

    rule_id: str
    path: str  # POSIX, relative to the scan root
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    engine: str


@dataclass(frozen=True)
class Suppression:
    reason: str
    expires: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True)
class Finding:
    rule_id: str
    rule_name: str
    phase: Phase
    category: Category
    severity: Severity
    confidence: Confidence
    path: str
    line: int
    end_line: int
    column: int
    message: str
    fix: str
    cwe: tuple[str, ...]
    engine: str
    fingerprint: str
    status: Status = Status.OPEN
    suppression: Suppression | None = None
    new: bool | None = None
    explanation: str | None = None
    snippet: str = ""  # the matched source lines, for code frames (not in the JSON contract)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule_id)


@dataclass(frozen=True)
class EngineError:
    engine: str
    message: str
    path: str | None = None


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str  # binary | too-large | excluded | unparseable | symlink-loop | not-utf8 | ...
    engine: str | None = None  # set when only one engine skipped the file (e.g. bandit)
    detail: str = ""


@dataclass(frozen=True)
class EngineResult:
    findings: tuple[RawFinding, ...] = ()
    errors: tuple[EngineError, ...] = ()
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class Target:
    """A file chosen for scanning."""

    path: str  # POSIX, relative to the scan root
    abspath: str
    language: str  # python | javascript | typescript | dockerfile | yaml | sql | json | generic
    is_test: bool = False
