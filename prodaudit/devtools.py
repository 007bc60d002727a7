"""Run every rule's examples through the real engines in one batch (the rule test harness).

    python -m prodaudit.devtools examples [RULE_ID ...]

Each example is written to its own folder of a scratch tree, the whole tree is scanned once, and
each example is then checked: a `bad` one must be reported on exactly the lines marked `expect`
(or at least once when it marks none), a `good` one must not be reported by its rule at all."""

from __future__ import annotations

import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prodaudit.catalog import load_catalog
from prodaudit.config import Config
from prodaudit.model import Example, Rule
from prodaudit.scan import ScanOptions, run_scan

_EXPECT = re.compile(r"(?:#|//|--)\s*expect\b")


@dataclass(frozen=True)
class ExampleCase:
    rule: Rule
    index: int
    example: Example

    @property
    def path(self) -> str:
        return f"{self.rule.id}/{self.index}/{self.example.path}"

    @property
    def expected_lines(self) -> set[int]:
        return {n for n, line in enumerate(self.example.code.splitlines(), 1) if _EXPECT.search(line)}


def cases_of(rules: Sequence[Rule]) -> list[ExampleCase]:
    return [ExampleCase(rule, i, ex) for rule in rules for i, ex in enumerate(rule.examples)]


def run_examples(rules: Sequence[Rule], workdir: Path, rules_dir: Path | None = None) -> dict[str, list[str]]:
    """Scan all examples of `rules` once; return rule id -> failure messages (empty list: all passed)."""
    cases = cases_of(rules)
    for case in cases:
        target = workdir / case.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(case.example.code, encoding="utf-8")
        for rel, text in case.example.files:  # the rest of the example's project
            other = workdir / case.rule.id / str(case.index) / rel
            other.parent.mkdir(parents=True, exist_ok=True)
            other.write_text(text, encoding="utf-8")
    report = run_scan(
        # The whole catalog runs (suppression checks need the rules they name); only `rules` are judged.
        ScanOptions(root=workdir, config=Config(), rules_dir=rules_dir, jobs=2)
    )
    reported: dict[tuple[str, str], list[int]] = defaultdict(list)
    for f in report.findings:
        reported[(f.rule_id, f.path)].append(f.line)
    failures: dict[str, list[str]] = {r.id: [] for r in rules}
    for error in report.errors:
        for r in rules:
            failures[r.id].append(f"engine error ({error.engine}): {error.message}")
    skipped = {s.path: s for s in report.skipped if s.engine is None}
    for case in cases:
        where = f"{case.example.kind} example {case.index} ({case.example.path})"
        if case.path in skipped:
            failures[case.rule.id].append(f"{where}: skipped as {skipped[case.path].reason}: {skipped[case.path].detail}")
            continue
        lines = sorted(reported.get((case.rule.id, case.path), []))
        if case.example.kind == "good":
            if lines:
                failures[case.rule.id].append(f"{where}: reported on line(s) {lines} but should be clean")
            continue
        expected = case.expected_lines
        if not expected and not lines:
            failures[case.rule.id].append(f"{where}: not reported")
        elif expected and set(lines) != expected:
            failures[case.rule.id].append(f"{where}: expected line(s) {sorted(expected)}, reported {lines}")
    return failures


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] != "examples":
        print(__doc__)
        return 2
    wanted = {a.upper() for a in argv[1:]}
    rules = [r for r in load_catalog() if not wanted or r.id in wanted]
    with tempfile.TemporaryDirectory(prefix="prodaudit-examples-") as tmp:
        failures = run_examples(rules, Path(tmp))
    bad = {k: v for k, v in failures.items() if v}
    for rule_id, problems in sorted(bad.items()):
        for p in problems:
            print(f"{rule_id}: {p}")
    total = sum(len(r.examples) for r in rules)
    print(f"{len(rules) - len(bad)} rules passed, {len(bad)} failed ({total} examples)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
