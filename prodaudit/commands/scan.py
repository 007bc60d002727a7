"""`prodaudit scan`: run the pipeline, write every requested report, return the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from prodaudit.atomic import write_text_atomic
from prodaudit.baseline import DEFAULT_BASELINE
from prodaudit.commands.common import cache_dir, resolve_root
from prodaudit.config import load_config
from prodaudit.errors import UsageError
from prodaudit.model import Launch, Strictness
from prodaudit.report import ScanReport
from prodaudit.scan import ScanOptions, parse_shard, run_scan


def run(args: argparse.Namespace) -> int:
    if args.head_policy and not args.diff_base:
        raise UsageError("--head-policy only applies with --diff-base")
    root, limits = resolve_root(args.paths)
    config, source = load_config(root, Path(args.config) if args.config else None)
    options = ScanOptions(
        root=root,
        config=config,
        config_source=source,
        paths=limits,
        launch=Launch(args.launch) if args.launch else None,
        strictness=Strictness(args.strictness) if args.strictness else None,
        jobs=args.jobs or config.jobs or 0,
        cache_dir=cache_dir(args.no_cache),
        baseline=_baseline_path(args, config, root),
        shard=parse_shard(args.shard) if args.shard else None,
    )
    progress = _Progress(enabled=sys.stderr.isatty() and not args.quiet)
    try:
        if args.diff_base:
            from prodaudit.diff import run_diff_scan

            report = run_diff_scan(
                options,
                args.diff_base,
                config_is_explicit=bool(args.config) or args.head_policy,
                baseline_is_explicit=bool(args.baseline) or args.head_policy,
            )
        else:
            report = run_scan(options, progress=progress)
    finally:
        progress.clear()
    if args.explain:
        print("prodaudit: note: --explain is not available in this version; findings keep their rule text", file=sys.stderr)
    write_reports(report, args)
    code = report.exit_code
    return 0 if code == 1 and args.exit_zero else code


def _baseline_path(args: argparse.Namespace, config, root: Path) -> Path | None:
    if args.baseline:
        return Path(args.baseline)
    if config.baseline:
        path = root / config.baseline
        if not path.exists():
            raise UsageError(f"baseline file not found: {path} (set in config key 'baseline')")
        return path
    default = root / DEFAULT_BASELINE
    return default if default.is_file() else None


def write_reports(report: ScanReport, args: argparse.Namespace) -> None:
    from prodaudit.report.markdown import audit_path
    from prodaudit.report.renderers import RENDERERS

    wanted = [(args.format, args.output)]
    wanted += [(fmt, path) for fmt, path in (("json", args.json_output), ("sarif", args.sarif_output), ("markdown", args.markdown_output)) if path]
    for fmt, destination in wanted:
        options = {}
        if fmt == "text":
            color = destination is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            options = {"color": color, "verbose": args.verbose, "quiet": args.quiet}
        text = RENDERERS[fmt](report, **options)
        if destination is None:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            continue
        path = Path(destination)
        if fmt == "markdown" and (path.is_dir() or destination.endswith(("/", os.sep))):
            path = audit_path(path, report.generated_at)
        write_text_atomic(path, text)


class _Progress:
    """A one-line status on stderr while a TTY watches; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def __call__(self, message: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[2Kprodaudit: {message}...")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
