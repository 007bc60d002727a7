"""The action's last word: the job's exit status from the scan's recorded exit code and its JSON report.

The scan step runs with `--exit-zero` so that the summary, SARIF and comment steps always run; this
step then restores the gate. Anything unexpected fails closed (exit 3), never a silent pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Decision:
    exit_code: int
    message: str


def read_report(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("summary"), dict) else None


def decide(report: dict[str, Any] | None, scan_exit: int) -> Decision:
    if scan_exit in (2, 3):
        kind = "a usage, config or rule-pack error" if scan_exit == 2 else "the scan could not complete"
        return Decision(scan_exit, f"prodaudit failed with exit {scan_exit} ({kind}); see the scan step's log")
    if scan_exit not in (0, 1):
        return Decision(3, f"prodaudit ended with unexpected exit {scan_exit}; failing closed")
    if report is None:
        return Decision(3, "prodaudit wrote no readable JSON report; failing closed")
    verdict = report.get("verdict")
    if report.get("exit_code") == 3:
        return Decision(3, "prodaudit: SCAN INCOMPLETE; see the engine errors in the summary")
    if verdict == "NOT_READY":
        count = report["summary"].get("stop-ship", "?")
        return Decision(1, f"prodaudit: NOT READY — {count} Stop-Ship finding(s) remain")
    if verdict in ("READY", "READY_WITH_RISKS"):
        return Decision(0, f"prodaudit: {verdict.replace('_', ' ')}")
    return Decision(3, f"prodaudit: unknown verdict {verdict!r} in the report; failing closed")


def counts(report: dict[str, Any] | None) -> dict[str, str]:
    """The verdict and category counts as step outputs (empty strings when there is no report)."""
    summary = report.get("summary", {}) if report else {}
    return {
        "verdict": str(report.get("verdict", "")) if report else "",
        **{key: str(summary.get(key, "")) for key in ("stop-ship", "fix-soon", "acceptable-risk")},
    }
