"""A `--diff-base` scan of a 5-file change against a full scan of the same tree, in one run.

    python benchmarks/diff_scan.py [--corpus django==5.2.8]

The sdist is unpacked (see run.py), committed to a scratch git repository, and a branch appends
an unverified `jwt.decode` helper to five files; both scans run cold (--no-cache).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import fetch, timed

CHANGED = (
    "django/core/mail/message.py",
    "django/http/request.py",
    "django/db/models/query.py",
    "django/contrib/auth/views.py",
    "django/utils/text.py",
)
HELPER = "\n\ndef _pr_helper(token):\n    import jwt\n    return jwt.decode(token, verify=False)\n"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=b@example.com", "-c", "user.name=bench", *args],
                   check=True, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="django==5.2.8")
    args = parser.parse_args()
    source = fetch(args.corpus)
    repo = Path(tempfile.mkdtemp(prefix="prodaudit-diffbench-")) / "repo"
    shutil.copytree(source, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "change")
    for name in CHANGED:
        with open(repo / name, "a", encoding="utf-8") as fh:
            fh.write(HELPER)
    git(repo, "commit", "-q", "-am", "five files")
    prodaudit = str(Path(sys.executable).parent / "prodaudit")
    full = timed([prodaudit, "scan", "--format", "json", "--no-cache"], cwd=repo)
    diff = timed([prodaudit, "scan", "--diff-base", "main", "--format", "json", "--no-cache"], cwd=repo)
    for name, run in (("full", full), ("diff", diff)):
        report = json.loads(run["stdout"])
        print(f"  {name}: wall {run['wall_s']:.2f} s, peak RSS {run['peak_rss_mb']} MB, exit {run['exit']}, "
              f"files scanned {report['summary']['files_scanned']}, stop-ship {report['summary']['stop-ship']}")
    print(f"  diff / full: wall x{diff['wall_s'] / max(full['wall_s'], 0.01):.2f}")
    shutil.rmtree(repo.parent)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
