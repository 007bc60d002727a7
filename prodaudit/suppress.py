"""Inline suppressions: a `prodaudit: ignore[SEC001] -- reason` comment (DESIGN §1.5).

A directive covers findings that start on its own line or on the line below it. A reason is
required; `expires=YYYY-MM-DD` is enforced. Problems with directives become findings of the
built-in rules below, so they show up in every output."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from prodaudit.model import Finding, RawFinding, Rule, Status, Suppression

NO_REASON = "OPS900"
UNUSED = "OPS901"
EXPIRED = "OPS902"

_DIRECTIVE = re.compile(r"(?:#|//|--)\s*prodaudit:\s*ignore\[(?P<codes>[^\]]*)\](?P<rest>.*)$")
_EXPIRES = re.compile(r"\bexpires=(\S+)")


@dataclass(frozen=True)
class Directive:
    path: str
    line: int
    column: int
    codes: tuple[str, ...]
    reason: str | None
    expires: str | None
    expires_valid: bool


def parse_directives(path: str, lines: Sequence[str]) -> list[Directive]:
    out = []
    for number, text in enumerate(lines, start=1):
        if "prodaudit:" not in text:
            continue
        match = _DIRECTIVE.search(text)
        if not match:
            continue
        codes = tuple(c.strip() for c in match["codes"].split(",") if c.strip())
        rest = match["rest"]
        expires_match = _EXPIRES.search(rest)
        expires = expires_match[1] if expires_match else None
        rest = _EXPIRES.sub("", rest)
        reason = rest.split("--", 1)[1].strip() if "--" in rest else ""
        out.append(
            Directive(
                path=path,
                line=number,
                column=match.start() + 1,
                codes=codes,
                reason=reason or None,
                expires=expires,
                expires_valid=expires is None or _parse_date(expires) is not None,
            )
        )
    return out


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _covers(directive: Directive, finding: Finding, rules: dict[str, Rule]) -> bool:
    if finding.path != directive.path or finding.line not in (directive.line, directive.line + 1):
        return False
    rule = rules.get(finding.rule_id)
    names = {finding.rule_id, rule.name if rule else finding.rule_name}
    return any(code in names for code in directive.codes)


def apply_suppressions(
    findings: Sequence[Finding],
    directives: Iterable[Directive],
    rules: dict[str, Rule],
    today: dt.date,
) -> tuple[list[Finding], list[RawFinding]]:
    """Mark suppressed findings; return them with raw findings of the directive-problem rules."""
    problems: list[RawFinding] = []
    result = list(findings)
    for directive in directives:
        covered = [i for i, f in enumerate(result) if _covers(directive, f, rules)]
        codes = ", ".join(directive.codes) or "nothing"
        if directive.reason is None or not directive.codes:
            problems.append(_problem(NO_REASON, directive, f"Suppression of {codes} has no reason after `--`; it suppresses nothing."))
            continue
        if not directive.expires_valid:
            problems.append(_problem(NO_REASON, directive, f"Suppression of {codes} has an invalid expiry `{directive.expires}` (use YYYY-MM-DD); it suppresses nothing."))
            continue
        expiry = _parse_date(directive.expires) if directive.expires else None
        if expiry is not None and expiry < today:
            problems.append(_problem(EXPIRED, directive, f"Suppression of {codes} expired on {directive.expires}; the finding is open again."))
            continue
        if not covered:
            if any(c in rules or _is_rule_name(c, rules) for c in directive.codes):
                problems.append(_problem(UNUSED, directive, f"Suppression of {codes} matches no finding; remove it."))
            continue
        for i in covered:
            if result[i].status is Status.OPEN:
                result[i] = replace(
                    result[i],
                    status=Status.SUPPRESSED,
                    suppression=Suppression(reason=directive.reason, expires=directive.expires),
                )
    return result, problems


def _is_rule_name(code: str, rules: dict[str, Rule]) -> bool:
    return any(r.name == code for r in rules.values())


def _problem(rule_id: str, d: Directive, message: str) -> RawFinding:
    return RawFinding(
        rule_id=rule_id,
        path=d.path,
        line=d.line,
        column=d.column,
        end_line=d.line,
        end_column=0,
        message=message,
        engine="prodaudit",
    )
