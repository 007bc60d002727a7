"""Noise on mature code: scan the shipped sources of django, flask, requests, sqlalchemy and celery
at `--launch public` and list every Stop-Ship finding and the Fix-Soon count per rule.

    python benchmarks/noise.py [--phase SEC] [--format markdown]

The sdists come from the package index into benchmarks/run.py's cache (outside this repository;
`PRODAUDIT_BENCH_DIR` moves it). A Stop-Ship finding here is either justified in docs/precision.md
or a bug in the rule."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from run import fetch

CORPORA = (
    "django==5.2.8:django",
    "flask==3.1.3:src/flask",
    "requests==2.34.2:src/requests",
    "sqlalchemy==2.1.9:lib/sqlalchemy",
    "celery==5.7.0:celery",
)


def scan(spec: str) -> dict:
    path = fetch(spec)
    with tempfile.TemporaryDirectory() as tmp:  # the defaults, whatever config the sdist carries
        config = Path(tmp) / ".prodaudit.yml"
        config.write_text("launch: public\n")
        proc = subprocess.run(
            [sys.executable, "-m", "prodaudit", "scan", str(path), "--format", "json", "--config", str(config)],
            capture_output=True, text=True,
        )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{spec}: prodaudit exited {proc.returncode}: {proc.stderr.strip()[:400]}")
    return json.loads(proc.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", default="", help="only rules with this prefix, e.g. SEC or DATA")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    args = parser.parse_args()
    rows, stop_ship = [], []
    for spec in CORPORA:
        report = scan(spec)
        name = spec.split("==")[0]
        findings = [f for f in report["findings"] if f["rule_id"].startswith(args.phase) and f["status"] == "open"]
        fix_soon = Counter(f["rule_id"] for f in findings if f["category"] == "fix-soon")
        stops = [f for f in findings if f["category"] == "stop-ship"]
        stop_ship += [(name, f) for f in stops]
        rows.append((name, report["verdict"], len(stops), sum(fix_soon.values()), fix_soon, len(report["errors"])))
    md = args.format == "markdown"
    if md:
        print("| corpus | verdict | Stop-Ship | Fix-Soon | Fix-Soon by rule | engine errors |\n|---|---|---|---|---|---|")
    for name, verdict, stops, fixes, by_rule, errors in rows:
        by = ", ".join(f"{r} ×{n}" for r, n in sorted(by_rule.items())) or "-"
        print(f"| {name} | {verdict} | {stops} | {fixes} | {by} | {errors} |" if md else f"{name:11} {verdict:17} stop-ship {stops}  fix-soon {fixes} ({by})  errors {errors}")
    print(f"\nStop-Ship findings ({len(stop_ship)}):")
    for name, f in stop_ship:
        print(f"- {name} {f['rule_id']} {f['path']}:{f['line']}: {f['message'][:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
