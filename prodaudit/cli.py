"""Command-line parsing. Each command delegates and returns an exit code (DESIGN §1.1)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from prodaudit import __version__
from prodaudit.errors import ScanIncomplete, UsageError
from prodaudit.model import Launch, Strictness

FORMATS = ("text", "json", "sarif", "markdown", "junit", "github")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prodaudit", description="Is this code safe to ship to production?")
    parser.add_argument("--version", action="version", version=f"prodaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan a repository and give a verdict")
    scan.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to scan (default: current directory)")
    _add_scan_options(scan)

    base = sub.add_parser("baseline", help="write or refresh the baseline file of accepted findings")
    base.add_argument("paths", nargs="*", metavar="PATH")
    base.add_argument("--config", metavar="FILE")
    base.add_argument("--output", metavar="FILE", help="baseline file (default: .prodaudit-baseline.json at the scan root)")
    base.add_argument("--jobs", type=int, default=0, metavar="N")
    base.add_argument("--no-cache", action="store_true")

    rules = sub.add_parser("rules", help="the rule catalog")
    rules.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    rules.add_argument("code", nargs="?", metavar="CODE")
    rules.add_argument("--phase", help="list only this phase")

    init = sub.add_parser("init", help="write a commented .prodaudit.yml after asking the launch questions")
    init.add_argument("--launch", choices=[m.value for m in Launch])
    init.add_argument("--strictness", choices=[m.value for m in Strictness])
    init.add_argument("--yes", action="store_true", help="accept defaults for unanswered questions")
    init.add_argument("--force", action="store_true", help="overwrite an existing .prodaudit.yml")

    for name, help_text in (
        ("map", "the system map (entry points, outbound calls, data stores, trust boundaries)"),
        ("explain", "explanations for an existing report"),
    ):
        extra = sub.add_parser(name, help=help_text)
        extra.add_argument("args", nargs="*")

    merge = sub.add_parser("merge", help="one report and verdict from shard reports")
    merge.add_argument("reports", nargs="+", metavar="REPORT.json", help="JSON reports of `prodaudit scan --shard K/N --format json`")
    _add_output_options(merge)
    _add_verdict_options(merge)
    return parser


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """The report options `scan` and `merge` share."""
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", metavar="FILE", help="write the report here (default: stdout); a folder for markdown gets a timestamped file")
    parser.add_argument("--json-output", metavar="FILE")
    parser.add_argument("--sarif-output", metavar="FILE")
    parser.add_argument("--markdown-output", metavar="FILE")


def _add_scan_options(scan: argparse.ArgumentParser) -> None:
    scan.add_argument("--config", metavar="FILE", help="config file (default: .prodaudit.yml, else [tool.prodaudit] in pyproject.toml)")
    _add_output_options(scan)
    scan.add_argument("--launch", choices=[m.value for m in Launch])
    scan.add_argument("--strictness", choices=[m.value for m in Strictness])
    scan.add_argument("--diff-base", metavar="REF", help="gate only what this change introduces")
    scan.add_argument("--head-policy", action="store_true",
                      help="with --diff-base: read config and baseline from the working tree, not the merge-base")
    scan.add_argument("--baseline", metavar="FILE", help="accepted existing findings")
    scan.add_argument("--shard", metavar="K/N", help="scan only the K-th of N stable slices of the files (CI matrix; see `prodaudit merge`)")
    scan.add_argument("--explain", action="store_true", help="add LLM explanations (advisory)")
    scan.add_argument("--jobs", type=int, default=0, metavar="N", help="parallel workers (default: one per core)")
    scan.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    _add_verdict_options(scan)


def _add_verdict_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 on NOT READY (never hides exit 2 or 3)")
    noise = parser.add_mutually_exclusive_group()
    noise.add_argument("--quiet", action="store_true", help="only Stop-Ship findings and the verdict")
    noise.add_argument("--verbose", action="store_true", help="list skipped files and more detail")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"prodaudit: error: {exc}", file=sys.stderr)
        return 2
    except ScanIncomplete as exc:
        print(f"prodaudit: scan incomplete: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("prodaudit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: fail closed with a short message, never a silent pass
        if os.environ.get("PRODAUDIT_DEBUG"):
            raise
        print(f"prodaudit: internal error: {type(exc).__name__}: {exc} (set PRODAUDIT_DEBUG=1 for a traceback)", file=sys.stderr)
        return 3


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "scan":
        from prodaudit.commands.scan import run

        return run(args)
    if args.command == "baseline":
        from prodaudit.commands.baseline import run

        return run(args)
    if args.command == "rules":
        from prodaudit.commands.rules import run

        return run(args)
    if args.command == "init":
        from prodaudit.commands.init import run

        return run(args)
    if args.command == "merge":
        from prodaudit.commands.merge import run

        return run(args)
    raise UsageError(f"'prodaudit {args.command}' is not available in this version yet")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
