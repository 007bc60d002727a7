"""Finding identity that survives code moving above it (DESIGN §1.5): no line numbers inside."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

_WS = re.compile(r"\s+")


def matched_text(lines: Sequence[str], line: int, column: int, end_line: int, end_column: int) -> str:
    """The source text an engine matched, from 1-based (line, column) to (end_line, end_column) exclusive.

    Columns outside the line (some engines report whole lines) are clamped."""
    if not lines or line < 1 or line > len(lines):
        return ""
    end_line = min(max(end_line, line), len(lines))
    if line == end_line:
        text = lines[line - 1]
        start, end = max(column - 1, 0), end_column - 1 if end_column > column else len(text)
        return text[start:end]
    parts = [lines[line - 1][max(column - 1, 0):]]
    parts.extend(lines[line:end_line - 1])
    last = lines[end_line - 1]
    parts.append(last[: end_column - 1] if end_column > 1 else last)
    return "\n".join(parts)


def normalize(text: str) -> str:
    return _WS.sub(" ", text).strip()


def fingerprints(keys: Sequence[tuple[str, str, str]]) -> list[str]:
    """One fingerprint per (rule_id, path, matched text) key, in input order.

    Equal keys in one file get an occurrence index (0, 1, 2 ... in input order), so two identical
    findings in a file stay two identities. Callers pass findings sorted by position."""
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    out = []
    for rule_id, path, text in keys:
        key = (rule_id, path, normalize(text))
        index = seen[key]
        seen[key] += 1
        digest = hashlib.sha256("\x1f".join((*key, str(index))).encode("utf-8")).hexdigest()
        out.append(digest[:32])
    return out
