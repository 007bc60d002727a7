"""The baseline file: accepted existing findings, by fingerprint, count-aware, no line numbers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from prodaudit.atomic import write_text_atomic
from prodaudit.errors import UsageError
from prodaudit.model import Finding, Status

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".prodaudit-baseline.json"


def render_baseline(findings: Sequence[Finding]) -> str:
    """Entries for every open finding, sorted so the file diffs cleanly; duplicates stay (count-aware)."""
    entries = sorted(
        (
            {"fingerprint": f.fingerprint, "message": f.message, "path": f.path, "rule_id": f.rule_id}
            for f in findings
            if f.status is Status.OPEN
        ),
        key=lambda e: (e["path"], e["rule_id"], e["fingerprint"]),
    )
    return json.dumps({"entries": entries, "version": BASELINE_VERSION}, indent=2, sort_keys=True) + "\n"


def write_baseline(path: Path, findings: Sequence[Finding]) -> int:
    text = render_baseline(findings)
    write_text_atomic(path, text)
    return len(json.loads(text)["entries"])


def load_baseline(path: Path) -> Counter[str]:
    """Fingerprint -> how many findings with it are accepted."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"baseline file not found: {path}") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"invalid baseline file {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise UsageError(f"invalid baseline file {path}: key 'entries': expected a list")
    counts: Counter[str] = Counter()
    for i, entry in enumerate(data["entries"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise UsageError(f"invalid baseline file {path}: key 'entries[{i}].fingerprint': expected a string")
        counts[entry["fingerprint"]] += 1
    return counts


def apply_baseline(findings: Sequence[Finding], accepted: Counter[str]) -> tuple[list[Finding], int]:
    """Mark open findings baselined while the baseline still has room for their fingerprint.

    Also return how many baseline entries matched nothing (stale: the finding was fixed or changed)."""
    remaining = Counter(accepted)
    out = []
    for f in sorted(findings, key=lambda f: f.sort_key):
        if f.status is Status.OPEN and remaining[f.fingerprint] > 0:
            remaining[f.fingerprint] -= 1
            f = replace(f, status=Status.BASELINED)
        out.append(f)
    return out, sum(remaining.values())
