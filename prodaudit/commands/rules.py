"""`prodaudit rules list|show CODE`: the catalog, with docs and examples."""

from __future__ import annotations

import argparse
import difflib
import sys

from prodaudit.catalog import load_catalog
from prodaudit.errors import UsageError
from prodaudit.model import Rule


def run(args: argparse.Namespace) -> int:
    rules = load_catalog()
    if args.action == "show":
        if not args.code:
            raise UsageError("rules show needs a rule code or name, e.g. prodaudit rules show SEC001")
        sys.stdout.write(render_rule(find_rule(rules, args.code)))
        return 0
    if args.phase:
        rules = tuple(r for r in rules if r.phase.value == args.phase)
    sys.stdout.write(render_list(rules))
    return 0


def find_rule(rules: tuple[Rule, ...], code: str) -> Rule:
    for rule in rules:
        if code.upper() == rule.id or code == rule.name:
            return rule
    known = [r.id for r in rules] + [r.name for r in rules]
    hint = difflib.get_close_matches(code, known, n=1)
    raise UsageError(f"unknown rule '{code}'" + (f" (did you mean '{hint[0]}'?)" if hint else "; see prodaudit rules list"))


def render_list(rules: tuple[Rule, ...]) -> str:
    lines = []
    for phase in dict.fromkeys(r.phase for r in rules):
        group = [r for r in rules if r.phase is phase]
        lines.append(f"{phase.value} ({len(group)} rules)")
        for r in group:
            lines.append(f"  {r.id:<8} {r.severity.value:<8} {r.confidence.value:<6} {r.engine:<8} {r.name}: {r.title}")
        lines.append("")
    lines.append(f"{len(rules)} rules")
    return "\n".join(lines) + "\n"


def render_rule(rule: Rule) -> str:
    out = [
        f"{rule.id} {rule.name}: {rule.title}",
        f"phase: {rule.phase.value}  severity: {rule.severity.value}  confidence: {rule.confidence.value}  "
        f"engine: {rule.engine}  languages: {', '.join(rule.languages)}",
    ]
    if rule.cwe:
        out.append(f"cwe: {', '.join(rule.cwe)}")
    out += ["", "Why it matters", _indent(rule.why), "", "How to fix", _indent(rule.fix)]
    for kind, title in (("bad", "Flagged"), ("good", "Not flagged")):
        examples = [e for e in rule.examples if e.kind == kind]
        for i, example in enumerate(examples, start=1):
            out += ["", f"{title} example {i} ({example.path})", _indent(example.code.rstrip())]
    if rule.references:
        out += ["", "References"] + [f"  - {ref}" for ref in rule.references]
    return "\n".join(out) + "\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.strip("\n").splitlines())
