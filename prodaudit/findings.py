"""Raw engine findings -> Findings: path filters, source text, fingerprints, category, suppressions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from prodaudit import suppress
from prodaudit.config import Config
from prodaudit.fingerprint import fingerprints, matched_text
from prodaudit.model import Category, Finding, Launch, RawFinding, Rule, Severity, Strictness, Target
from prodaudit.pathmatch import rule_applies
from prodaudit.policy import cap_low_confidence, default_category


def categorize(rule: Rule, config: Config, launch: Launch, strictness: Strictness) -> Category:
    """Per-rule config wins, then the explicit Stop-Ship list, then per-phase config, then the policy table."""
    override = config.rules.get(rule.id) or config.rules.get(rule.name)
    if override is not None and override.category is not None:
        return override.category
    if rule.id in config.stop_ship or rule.name in config.stop_ship:
        return Category.STOP_SHIP
    severity = severity_of(rule, config)
    phase_override = config.phases.get(rule.phase)
    if phase_override is not None and phase_override.category is not None:
        return cap_low_confidence(phase_override.category, rule.confidence)
    return default_category(severity, rule.confidence, strictness, launch, rule.phase)


def severity_of(rule: Rule, config: Config) -> Severity:
    override = config.rules.get(rule.id) or config.rules.get(rule.name)
    return override.severity if override is not None and override.severity is not None else rule.severity


def _read_lines(target: Target) -> list[str]:
    try:
        return Path(target.abspath).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def build_findings(
    raw: Sequence[RawFinding],
    targets: dict[str, Target],
    rules: dict[str, Rule],
    builtin: dict[str, Rule],
    config: Config,
    launch: Launch,
    strictness: Strictness,
    root: Path,
    today: dt.date,
) -> list[Finding]:
    kept: dict[tuple, RawFinding] = {}
    for f in raw:
        rule, target = rules.get(f.rule_id), targets.get(f.path)
        if rule is None or target is None or not rule_applies(rule, target):
            continue
        kept.setdefault((f.rule_id, f.path, f.line, f.column), f)  # engines may report one spot twice

    by_file: dict[str, list[RawFinding]] = defaultdict(list)
    for f in kept.values():
        by_file[f.path].append(f)

    findings: list[Finding] = []
    directives: list[suppress.Directive] = []
    lines_of: dict[str, list[str]] = {}
    for path, target in targets.items():
        lines = _read_lines(target) if path in by_file or _may_hold_directive(target) else []
        if path in by_file:
            lines_of[path] = lines
            findings.extend(_to_findings(by_file[path], lines, rules, config, launch, strictness))
        if lines:
            directives.extend(suppress.parse_directives(path, lines))

    findings, problems = suppress.apply_suppressions(findings, directives, rules, today)
    problem_findings: dict[str, list[RawFinding]] = defaultdict(list)
    for p in problems:
        if p.rule_id in builtin:
            problem_findings[p.path].append(p)
    for path, items in problem_findings.items():
        lines = lines_of.get(path) or _read_lines(targets[path])
        findings.extend(_to_findings(items, lines, builtin, config, launch, strictness))
    return findings


def _may_hold_directive(target: Target) -> bool:
    try:
        with open(target.abspath, "rb") as fh:
            return b"prodaudit:" in fh.read()
    except OSError:
        return False


def _to_findings(
    raw: list[RawFinding], lines: list[str], rules: dict[str, Rule], config: Config, launch: Launch, strictness: Strictness
) -> list[Finding]:
    raw = sorted(raw, key=lambda f: (f.line, f.column, f.rule_id))
    texts = [matched_text(lines, f.line, f.column, f.end_line, f.end_column) or _line(lines, f.line) for f in raw]
    prints = fingerprints([(f.rule_id, f.path, text) for f, text in zip(raw, texts)])
    out = []
    for f, fp in zip(raw, prints):
        rule = rules[f.rule_id]
        end_line = max(f.end_line, f.line)
        out.append(
            Finding(
                rule_id=rule.id,
                rule_name=rule.name,
                phase=rule.phase,
                category=categorize(rule, config, launch, strictness),
                severity=severity_of(rule, config),
                confidence=rule.confidence,
                path=f.path,
                line=f.line,
                end_line=end_line,
                column=max(f.column, 1),
                message=f.message or rule.title,
                fix=rule.fix,
                cwe=rule.cwe,
                engine=f.engine,
                fingerprint=fp,
                snippet="\n".join(lines[f.line - 1 : min(end_line, f.line + 5)]) if lines else "",
            )
        )
    return out


def _line(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""
