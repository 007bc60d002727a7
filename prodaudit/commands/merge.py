"""`prodaudit merge A.json B.json ...`: one report, verdict and exit code from shard reports (CI matrix)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from prodaudit import __version__, catalog
from prodaudit.commands.scan import write_reports
from prodaudit.errors import UsageError
from prodaudit.report import ScanReport
from prodaudit.report.load import load_report


def run(args: argparse.Namespace) -> int:
    rules = {rule.id: rule for rule in catalog.load_catalog()}
    loaded = [(path, load_report(Path(path), rules)) for path in args.reports]
    _check_launches_agree(loaded)
    merged = merge_reports([report for _, report in loaded], rules)
    write_reports(merged, args)
    code = merged.exit_code
    return 0 if code == 1 and args.exit_zero else code


def _check_launches_agree(loaded: list[tuple[str, ScanReport]]) -> None:
    """Shards judged under different launch profiles cannot share one verdict.

    (schema_version is checked while loading: only version 1 loads.)"""
    first_path, first = loaded[0]
    for path, report in loaded[1:]:
        if (report.launch, report.strictness) != (first.launch, first.strictness):
            raise UsageError(
                f"cannot merge {path} with {first_path}: key 'launch' differs "
                f"({report.launch.value}/{report.strictness.value} vs {first.launch.value}/{first.strictness.value}); "
                "scan every shard with the same config and --launch/--strictness"
            )


def merge_reports(reports: list[ScanReport], rules: dict) -> ScanReport:
    """Concatenate shards: a finding reported twice (same fingerprint and path) counts once."""
    findings = {}
    for report in reports:
        for f in report.findings:
            findings.setdefault((f.fingerprint, f.path), f)
    errors = dict.fromkeys(e for r in reports for e in r.errors)
    skipped = dict.fromkeys(s for r in reports for s in r.skipped)
    first = reports[0]
    return ScanReport(
        tool_version=first.tool_version or __version__,
        engine_versions=dict(first.engine_versions),
        launch=first.launch,
        strictness=first.strictness,
        findings=tuple(sorted(findings.values(), key=lambda f: f.sort_key)),
        errors=tuple(errors),
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.reason, s.engine or ""))),
        # Every catalog rule, as a full scan lists the rules that ran (SARIF metadata).
        rules=dict(rules),
        files_scanned=sum(r.files_scanned for r in reports),
        generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        notes=(f"merged from {len(reports)} shard reports",),
    )
