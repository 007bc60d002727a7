"""Bandit adapter: only the Bandit tests the catalog adopts, mapped to catalog rules.

Bandit runs as a subprocess with JSON output. `# nosec` is ignored: suppressions go through
prodaudit's own reason-required syntax. Bandit parses with the host Python's `ast`, so files in
newer syntax are kept from it by the pipeline and listed as skipped by Bandit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from prodaudit.errors import ScanIncomplete, UsageError
from prodaudit.model import EngineResult, RawFinding, Rule, Skipped, Target
from prodaudit.pathmatch import rule_applies


def find_bandit() -> str:
    found = shutil.which("bandit") or shutil.which("bandit", path=sysconfig.get_path("scripts"))
    if not found:
        raise UsageError("bandit not found on PATH; install prodaudit with its dependencies (pip install prodaudit)")
    return found


class BanditEngine:
    name = "bandit"

    def __init__(self, scan_timeout: int = 1800) -> None:
        self.scan_timeout = scan_timeout

    def run(self, rules: Sequence[Rule], targets: Sequence[Target], root: Path, jobs: int) -> EngineResult:
        by_test = {r.bandit: r for r in rules if r.engine == "bandit" and r.bandit}
        if not by_test:
            return EngineResult()
        wanted = [t for t in targets if t.language == "python" and _wanted(list(by_test.values()), t)]
        if not wanted:
            return EngineResult()
        cmd = [find_bandit(), "-f", "json", "-q", "--ignore-nosec", "-t", ",".join(sorted(by_test)), "--"]
        results: list[dict] = []
        errors: list[dict] = []
        for start in range(0, len(wanted), 2000):
            data = self._invoke([*cmd, *(t.path for t in wanted[start : start + 2000])], root)
            results.extend(data.get("results", []))
            errors.extend(data.get("errors", []))
        findings = []
        for r in results:
            rule = by_test.get(r.get("test_id"))
            if rule is None:
                continue
            line_range = r.get("line_range") or [r["line_number"]]
            findings.append(
                RawFinding(
                    rule_id=rule.id,
                    path=_relative(r["filename"]),
                    line=r["line_number"],
                    column=int(r.get("col_offset", 0)) + 1,
                    end_line=max(line_range),
                    end_column=int(r.get("end_col_offset") or 0) + 1,
                    message=str(r.get("issue_text", "")).strip(),
                    engine="bandit",
                )
            )
        skipped = tuple(
            Skipped(path=_relative(e.get("filename", "")), reason="unparseable", engine="bandit", detail=str(e.get("reason", ""))[:200])
            for e in errors
        )
        return EngineResult(findings=tuple(findings), skipped=skipped)

    def _invoke(self, cmd: list[str], root: Path) -> dict:
        try:
            proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=self.scan_timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ScanIncomplete(f"bandit timed out after {self.scan_timeout}s") from None
        except OSError as exc:
            raise ScanIncomplete(f"bandit could not start: {exc}") from None
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ScanIncomplete(f"bandit failed (exit {proc.returncode}): {tail[0][:300]}") from None


def _wanted(rules: list[Rule], target: Target) -> bool:
    """Some adopted test applies to the file and its text contains one of that rule's prefilter strings."""
    applicable = [r for r in rules if rule_applies(r, target)]
    if not applicable or any(not r.prefilter for r in applicable):
        return bool(applicable)
    try:
        text = Path(target.abspath).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return any(p in text for r in applicable for p in r.prefilter)


def _relative(path: str) -> str:
    return Path(path).as_posix().removeprefix("./")

