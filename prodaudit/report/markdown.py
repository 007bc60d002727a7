"""Markdown: the PR comment, the step summary and the audit report (`docs/audits/<timestamp>.md`).

Within GitHub's size limit (65,536 characters for a comment): when the full text is longer than
`max_chars`, findings are left out from the lowest category up and every section says how many
it does not show. Nothing is cut silently.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2

from prodaudit.model import Category, Finding, Phase, Rule, Status, Verdict
from prodaudit.policy import gates
from prodaudit.report import CATEGORY_ORDER, ScanReport
from prodaudit.report.common import LABEL, fix_summary, plural

DEFAULT_MAX_CHARS = 60_000  # below GitHub's 65,536-character comment limit, with room for a wrapper
MAX_ERRORS_SHOWN = 20
MAX_PLAN_LOCATIONS = 5
COMMENT_MARKER = "<!-- prodaudit-report -->"  # lets the Action find and update its own PR comment

VERDICT_ICON = {Verdict.NOT_READY: "⛔", Verdict.READY_WITH_RISKS: "⚠️", Verdict.READY: "✅"}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")


def md(text: object) -> str:
    """Untrusted text as one inline markdown line: no markup, no table breaks, no @mentions."""
    flat = " ".join(str(text).split())
    # A word joiner after "@" stops GitHub from notifying a user named in a message.
    return _MENTION.sub("@\u2060", _MD_SPECIAL.sub(r"\\\1", flat))


def code(text: object) -> str:
    """An inline code span that survives backticks inside the text."""
    flat = " ".join(str(text).split())
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


@dataclass(frozen=True)
class PlanStep:
    category: Category
    rule_id: str
    rule_name: str
    title: str
    fix: str
    findings: tuple[Finding, ...]

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(f"{f.path}:{f.line}" for f in self.findings[:MAX_PLAN_LOCATIONS])

    @property
    def more_locations(self) -> int:
        return max(len(self.findings) - MAX_PLAN_LOCATIONS, 0)


@dataclass(frozen=True)
class Shown:
    """A list cut to what fits, and how many were left out."""

    items: tuple
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.items)


def remediation_plan(report: ScanReport) -> list[PlanStep]:
    """Stop-Ship grouped by rule, then Fix-Soon grouped by rule; most findings first in each."""
    steps: list[PlanStep] = []
    for category in (Category.STOP_SHIP, Category.FIX_SOON):
        groups: dict[str, list[Finding]] = {}
        for f in sorted(report.by_category(category), key=lambda f: f.sort_key):
            groups.setdefault(f.rule_id, []).append(f)
        for rule_id, found in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            rule: Rule | None = report.rules.get(rule_id)
            first = found[0]
            steps.append(
                PlanStep(
                    category=category,
                    rule_id=rule_id,
                    rule_name=first.rule_name,
                    title=rule.title if rule else first.message,
                    fix=(rule.fix if rule else first.fix).strip(),
                    findings=tuple(found),
                )
            )
    return steps


def _skip_summary(report: ScanReport) -> str:
    whole = Counter(s.reason for s in report.skipped if s.engine is None)
    partial = Counter(s.engine for s in report.skipped if s.engine is not None)
    parts = []
    if whole:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(whole.items()))
        parts.append(f"{plural(report.files_skipped, 'file')} skipped ({reasons})")
    if partial:
        engines = ", ".join(f"{engine}: {n}" for engine, n in sorted(partial.items()))
        paths = len({s.path for s in report.skipped if s.engine is not None})
        parts.append(f"{plural(paths, 'file')} partly scanned ({engines})")
    return " · ".join(parts) if parts else "no files skipped"


def _timestamp(generated_at: str) -> datetime:
    # Python 3.10's fromisoformat does not accept a trailing "Z".
    stamp = datetime.fromisoformat(generated_at.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc)


def audit_path(directory: str | Path, generated_at: str) -> Path:
    """`<directory>/<YYYYMMDD-HHMMSS>.md` (UTC) for `--format markdown --output docs/audits/`."""
    return Path(directory) / f"{_timestamp(generated_at):%Y%m%d-%H%M%S}.md"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # prodaudit: ignore[SEC021] -- renders Markdown, not HTML; untrusted text goes through the md filter
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("prodaudit.report", "templates"),
        autoescape=False,  # markdown, not HTML: untrusted text goes through the md filter instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md, code=code, fix_summary=fix_summary, plural=plural)
    return env


def _ordered(findings) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: f.sort_key))


def _render(report: ScanReport, budget: int | None) -> str:
    """The document with at most `budget` list entries, given to the most urgent lists first."""
    lists = [_ordered(report.by_category(c)) for c in CATEGORY_ORDER]
    lists.append(_ordered(f for f in report.findings if not gates(f)))
    lists.append(tuple(sorted(report.skipped, key=lambda s: (s.path, s.engine or ""))))
    shown = []
    left = sum(len(items) for items in lists) if budget is None else budget
    for items in lists:
        take = min(left, len(items))
        shown.append(Shown(items[:take], len(items)))
        left -= take
    errors = tuple(sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message)))
    context = {
        "marker": COMMENT_MARKER,
        "report": report,
        "verdict": report.verdict,
        "icon": VERDICT_ICON[report.verdict],
        "counts": {c: report.count(c) for c in CATEGORY_ORDER},
        "labels": LABEL,
        "categories": CATEGORY_ORDER,
        "sections": list(zip(CATEGORY_ORDER, shown[:3])),
        "closed": shown[3],
        "skipped": shown[4],
        "errors": Shown(errors[:MAX_ERRORS_SHOWN], len(errors)),
        "phases": [(p, report.phase_verdict(p)) for p in Phase],
        "plan": remediation_plan(report),
        "suppressed": report.count_status(Status.SUPPRESSED),
        "baselined": report.count_status(Status.BASELINED),
        "skip_summary": _skip_summary(report),
        "generated": _timestamp(report.generated_at).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "engines": sorted(report.engine_versions.items()),
        "Category": Category,
        "Status": Status,
    }
    return _environment().get_template("audit.md.j2").render(context)


def render(report: ScanReport, *, max_chars: int = DEFAULT_MAX_CHARS, **_options: object) -> str:
    full = _render(report, None)
    if len(full) <= max_chars:
        return full
    # The length grows with the budget, so search for the largest budget that fits.
    low, high = 0, sum(1 for _ in report.findings) + len(report.skipped)
    if len(_render(report, 0)) > max_chars:
        return _hard_cut(_render(report, 0), max_chars)
    while low < high:
        mid = (low + high + 1) // 2
        if len(_render(report, mid)) <= max_chars:
            low = mid
        else:
            high = mid - 1
    return _render(report, low)


def _hard_cut(text: str, max_chars: int) -> str:
    """Last resort when even the summary is too long (thousands of rules or engine errors)."""
    note = f"\n\n**Report cut here: {{n}} more characters not shown. See the JSON or SARIF report.**\n"
    keep = max_chars - len(note.format(n=len(text))) - 1
    head = text[: max(keep, 0)]
    head = head[: head.rfind("\n")] if "\n" in head else head
    return head + note.format(n=len(text) - len(head))
