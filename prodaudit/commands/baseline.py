"""`prodaudit baseline`: scan and write every open finding to the baseline file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prodaudit.baseline import DEFAULT_BASELINE, write_baseline
from prodaudit.commands.common import cache_dir, resolve_root
from prodaudit.config import load_config
from prodaudit.scan import ScanOptions, run_scan


def run(args: argparse.Namespace) -> int:
    root, limits = resolve_root(args.paths)
    config, source = load_config(root, Path(args.config) if args.config else None)
    report = run_scan(
        ScanOptions(root=root, config=config, config_source=source, paths=limits, jobs=args.jobs or config.jobs or 0, cache_dir=cache_dir(args.no_cache))
    )
    if report.incomplete:
        for error in report.errors:
            print(f"prodaudit: {error.engine}: {error.message}", file=sys.stderr)
        print("prodaudit: scan incomplete; baseline not written", file=sys.stderr)
        return 3
    target = Path(args.output) if args.output else root / (config.baseline or DEFAULT_BASELINE)
    count = write_baseline(target, report.findings)
    print(f"prodaudit: wrote {count} findings to {target}")
    return 0
