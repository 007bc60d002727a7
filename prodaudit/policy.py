"""Severity x confidence x launch profile -> category, and findings -> verdict (DESIGN §1.4)."""

from __future__ import annotations

from collections.abc import Iterable

from prodaudit.model import Category, Confidence, Finding, Launch, Phase, Severity, Status, Strictness, Verdict

C, H, M, L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
_ESCALATED_FOR_PAID = {Phase.SECURITY, Phase.DATA_SAFETY}


def default_category(
    severity: Severity, confidence: Confidence, strictness: Strictness, launch: Launch, phase: Phase
) -> Category:
    """The default policy table. A low-confidence finding never makes Stop-Ship on its own."""
    if strictness is Strictness.HIGH:
        if severity is C and confidence >= Confidence.MEDIUM:
            return Category.STOP_SHIP
        if severity is H and confidence is Confidence.HIGH:
            return Category.STOP_SHIP
        # Paid launches: money and customer data are on the line, so a high-severity security or
        # data-safety finding at medium confidence blocks too.
        if launch is Launch.PAID and phase in _ESCALATED_FOR_PAID and severity is H and confidence is Confidence.MEDIUM:
            return Category.STOP_SHIP
        return Category.ACCEPTABLE_RISK if severity is L else Category.FIX_SOON
    if strictness is Strictness.MEDIUM:
        if severity is C and confidence >= Confidence.MEDIUM:
            return Category.STOP_SHIP
        return Category.ACCEPTABLE_RISK if severity is L else Category.FIX_SOON
    if severity is C and confidence is Confidence.HIGH:
        return Category.STOP_SHIP
    return Category.FIX_SOON if severity in (C, H) else Category.ACCEPTABLE_RISK


def cap_low_confidence(category: Category, confidence: Confidence) -> Category:
    """Config may raise a rule's category, but a low-confidence rule still never stops a ship."""
    if category is Category.STOP_SHIP and confidence is Confidence.LOW:
        return Category.FIX_SOON
    return category


def gates(finding: Finding) -> bool:
    """Open findings gate, except those a --diff-base scan found already present at the base."""
    return finding.status is Status.OPEN and finding.new is not False


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    open_categories = {f.category for f in findings if gates(f)}
    if Category.STOP_SHIP in open_categories:
        return Verdict.NOT_READY
    if open_categories:
        return Verdict.READY_WITH_RISKS
    return Verdict.READY
