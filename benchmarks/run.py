"""Compare prodaudit with bandit and semgrep on the same code, in one run, as ratios.

    python benchmarks/run.py [--corpus django==5.2.8:django] [--keep]

The corpus is an sdist from the package index (`pip download --no-deps --no-binary :all:`),
unpacked outside this repository (`$PRODAUDIT_BENCH_DIR`, default ~/.cache/prodaudit-benchmarks):
inside it, git would ignore the corpus and semgrep would skip it. Each tool runs under `/usr/bin/time -v`;
wall time and peak memory (max RSS of the process tree) are reported, with prodaudit's ratios to
`bandit -r DIR` (all Bandit tests) and to semgrep running prodaudit's own Semgrep rules alone.
prodaudit runs with --no-cache so the numbers are cold-cache numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

CORPORA = Path(os.environ.get("PRODAUDIT_BENCH_DIR") or Path.home() / ".cache" / "prodaudit-benchmarks")


def fetch(spec: str) -> Path:
    """`name==version:subdir` -> the unpacked subdir."""
    package, _, subdir = spec.partition(":")
    name, _, version = package.partition("==")
    CORPORA.mkdir(parents=True, exist_ok=True)
    existing = [p for p in CORPORA.glob(f"{name}-{version}*") if p.is_dir()] + [
        p for p in CORPORA.glob(f"{name.capitalize()}-{version}*") if p.is_dir()
    ]
    if not existing:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", package, "-d", str(CORPORA)],
            check=True,
        )
        archive = next(p for p in CORPORA.iterdir() if p.name.lower().startswith(f"{name.lower()}-{version}") and p.name.endswith(".tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(CORPORA, filter="data")
        existing = [p for p in CORPORA.iterdir() if p.is_dir() and p.name.lower().startswith(f"{name.lower()}-{version}")]
    return existing[0] / subdir if subdir else existing[0]


def timed(cmd: list[str], cwd: Path | None = None) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - start
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"cmd": " ".join(cmd), "exit": proc.returncode, "wall_s": round(wall, 2),
            "peak_rss_mb": round(int(rss[1]) / 1024, 1) if rss else None, "stdout": proc.stdout}


def semgrep_config() -> Path:
    from prodaudit.catalog import load_catalog
    from prodaudit.engines.semgrep import build_config

    rules = [r for r in load_catalog() if r.engine == "semgrep"]
    path = Path(tempfile.mkdtemp(prefix="prodaudit-bench-")) / "rules.json"
    path.write_text(json.dumps(build_config(rules)))
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="django==5.2.8:django")
    parser.add_argument("--launch", default="public")
    args = parser.parse_args()
    target = fetch(args.corpus)
    bin_dir = Path(sys.executable).parent
    runs = {
        "prodaudit": timed([str(bin_dir / "prodaudit"), "scan", str(target), "--launch", args.launch, "--format", "json", "--no-cache"]),
        "bandit": timed([str(bin_dir / "bandit"), "-r", str(target), "-f", "json", "-q"]),
        "semgrep": timed([str(bin_dir / "semgrep"), "scan", "--metrics=off", "--disable-version-check", "--json", "--quiet",
                          "--config", str(semgrep_config()), str(target)]),
    }
    report = json.loads(runs["prodaudit"]["stdout"] or "{}")
    print(f"corpus: {args.corpus} ({target})")
    for name, run in runs.items():
        print(f"  {name:<10} wall {run['wall_s']:>7.2f} s   peak RSS {run['peak_rss_mb']:>7} MB   exit {run['exit']}")
    for other in ("bandit", "semgrep"):
        wall = runs["prodaudit"]["wall_s"] / max(runs[other]["wall_s"], 0.01)
        mem = (runs["prodaudit"]["peak_rss_mb"] or 0) / max(runs[other]["peak_rss_mb"] or 1, 1)
        print(f"  prodaudit / {other}: wall x{wall:.2f}, peak memory x{mem:.2f}")
    if report:
        print(f"  verdict {report['verdict']}, summary {json.dumps(report['summary'], sort_keys=True)}, errors {len(report['errors'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
