"""`prodaudit init`: delegates to prodaudit.init."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from prodaudit.commands.common import git_toplevel
from prodaudit.init import run_init


def run(args: argparse.Namespace) -> int:
    root = git_toplevel(Path.cwd()) or Path.cwd()
    answers = {k: v for k, v in (("launch", args.launch), ("strictness", args.strictness)) if v}
    answers["yes"] = args.yes
    return run_init(root, answers=answers, force=args.force, stdin=sys.stdin, stdout=sys.stdout)
