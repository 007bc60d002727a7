"""What one rule phase costs: scan the same code with the whole catalog and with that phase's
folder removed, alternating runs, and report the ratio of the median wall times.

    python benchmarks/phase_cost.py --phase security [--corpus django==5.2.8:django] [--runs 3]

The corpus comes from `benchmarks/run.py`'s cache (an sdist outside this repository). prodaudit
runs with --no-cache, so every run parses everything."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import fetch

from prodaudit.catalog import builtin_rules_dir


def scan_seconds(corpus: Path, rules_dir: Path | None) -> tuple[float, int]:
    env = None
    if rules_dir is not None:
        import os

        env = {**os.environ, "PRODAUDIT_RULES_DIR": str(rules_dir)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "prodaudit", "scan", str(corpus), "--no-cache", "--launch", "public", "--format", "json"],
        capture_output=True, text=True, env=env,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"prodaudit exited {proc.returncode}: {proc.stderr.strip()[:400]}")
    return elapsed, proc.stdout.count('"rule_id"')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", default="security")
    parser.add_argument("--corpus", default="django==5.2.8:django")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    corpus = fetch(args.corpus)
    rules = builtin_rules_dir()
    if not (rules / args.phase).is_dir():
        raise SystemExit(f"no phase folder {rules / args.phase}")
    with tempfile.TemporaryDirectory(prefix="prodaudit-phase-") as tmp:
        without = Path(tmp) / "rules"
        shutil.copytree(rules, without, ignore=shutil.ignore_patterns(args.phase))
        n_with = len(list(rules.glob("*/*.yml")))
        n_without = len(list(without.glob("*/*.yml")))
        times: dict[str, list[float]] = {"with": [], "without": []}
        for _ in range(args.runs):  # alternate, so load on the machine hits both alike
            times["without"].append(scan_seconds(corpus, without)[0])
            times["with"].append(scan_seconds(corpus, None)[0])
    med_with, med_without = statistics.median(times["with"]), statistics.median(times["without"])
    print(f"corpus {args.corpus}, {args.runs} runs each, median wall time")
    print(f"  without {args.phase} ({n_without} rules): {med_without:.1f} s  {['%.1f' % t for t in times['without']]}")
    print(f"  with {args.phase} ({n_with} rules):    {med_with:.1f} s  {['%.1f' % t for t in times['with']]}")
    print(f"  ratio with/without: x{med_with / med_without:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
