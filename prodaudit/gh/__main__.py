"""`python -m prodaudit.gh event|outputs|comment|enforce`: the steps of action.yml.

Inputs arrive as environment variables (the action maps each `inputs.*` through `env:`), so no
user-controlled text is ever spliced into a shell script.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
from collections.abc import Sequence
from pathlib import Path

from prodaudit.gh import comment, event, outputs, verdict


def _event(args: argparse.Namespace) -> int:
    ctx = event.context(
        os.environ.get("GITHUB_EVENT_NAME", ""),
        event.load_payload(os.environ.get("GITHUB_EVENT_PATH")),
        os.environ.get("PRODAUDIT_DIFF_BASE", ""),
    )
    outputs.write_outputs(
        {
            "diff-base": ctx.diff_base or "",
            "pr-number": ctx.pr_number if ctx.pr_number is not None else "",
            "fork": "true" if ctx.fork else "false",
        }
    )
    scope = f"new findings since {ctx.diff_base}" if ctx.diff_base else "a full scan"
    print(f"prodaudit: {ctx.name or 'local'} event: {scope}")
    return 0


def _outputs(args: argparse.Namespace) -> int:
    report = verdict.read_report(Path(args.report))
    values = verdict.counts(report)
    values["json-report"] = args.report
    values["sarif-report"] = args.sarif or ""
    values["markdown-report"] = args.markdown or ""
    outputs.write_outputs(values)
    if report is None:
        print(f"prodaudit: no readable report at {args.report}; outputs are empty")
    return 0


def _skip(note: str) -> int:
    print(note)
    outputs.append_summary(f"\n> [!NOTE]\n> {note}\n")
    return 0


def _comment(args: argparse.Namespace) -> int:
    number = args.pr
    if number is None:
        ctx = event.context(
            os.environ.get("GITHUB_EVENT_NAME", ""), event.load_payload(os.environ.get("GITHUB_EVENT_PATH"))
        )
        number = ctx.pr_number
    if number is None:
        return _skip("prodaudit: not a pull request; no PR comment posted")
    try:
        body = Path(args.markdown).read_text(encoding="utf-8")
    except OSError as exc:
        return _skip(f"prodaudit: no Markdown report to comment ({exc.strerror or exc})")
    api = comment.Api(
        base_url=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
        token=os.environ.get("GITHUB_TOKEN", ""),
        repository=os.environ.get("GITHUB_REPOSITORY", ""),
    )
    if not api.token or "/" not in api.repository:
        return _skip("prodaudit: GITHUB_TOKEN or GITHUB_REPOSITORY not set; PR comment skipped")
    try:
        action = comment.upsert(api, number, body)
    except comment.NoPermission as exc:
        return _skip(
            f"prodaudit: PR comment skipped, the token cannot write to this pull request ({exc}); "
            "a fork's pull request, or the job lacks `pull-requests: write`"
        )
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        print(f"::warning title=prodaudit::PR comment failed: {exc}")
        return 1
    print(f"prodaudit: PR #{number} comment {action}")
    return 0


def _enforce(args: argparse.Namespace) -> int:
    decision = verdict.decide(verdict.read_report(Path(args.report)), args.scan_exit)
    prefix = "::error title=prodaudit::" if decision.exit_code else ""
    print(prefix + decision.message)
    return decision.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prodaudit.gh", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("event", help="diff base and PR number of the triggering event, as step outputs")
    out = sub.add_parser("outputs", help="verdict, counts and report paths as step outputs")
    out.add_argument("report", metavar="REPORT.json")
    out.add_argument("--sarif", metavar="FILE")
    out.add_argument("--markdown", metavar="FILE")
    com = sub.add_parser("comment", help="create or update the one prodaudit comment on the pull request")
    com.add_argument("markdown", metavar="REPORT.md")
    com.add_argument("--pr", type=int, help="pull request number (default: from the event payload)")
    enf = sub.add_parser("enforce", help="exit with the gate's verdict")
    enf.add_argument("report", metavar="REPORT.json")
    enf.add_argument("--scan-exit", type=int, required=True, help="the exit code the scan step recorded")
    args = parser.parse_args(argv)
    handler = {"event": _event, "outputs": _outputs, "comment": _comment, "enforce": _enforce}[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
