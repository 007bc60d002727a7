"""Terminal output: code frames by category, what was not gated, engine errors, and the verdict last."""

from __future__ import annotations

import re
from collections import Counter

from prodaudit.model import Category, Finding, Phase, Status, Verdict
from prodaudit.policy import gates
from prodaudit.report import CATEGORY_ORDER, ScanReport
from prodaudit.report.common import counts_text, fix_summary, plural

MAX_FRAME_LINES = 6  # longer matches show their first lines and a "more lines" marker
MAX_CLOSED_LISTED = 20  # suppressed/baselined findings listed without --verbose
TAB = "    "

_RESET = "\x1b[0m"
_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "1;31",
    "yellow": "1;33",
    "cyan": "1;36",
    "green": "1;32",
    "blue": "1;34",
    "alert": "1;37;41",
}
_CATEGORY_COLOR = {Category.STOP_SHIP: "red", Category.FIX_SOON: "yellow", Category.ACCEPTABLE_RISK: "cyan"}
_VERDICT_COLOR = {Verdict.NOT_READY: "red", Verdict.READY_WITH_RISKS: "yellow", Verdict.READY: "green"}


# Control characters and bidi overrides in scanned code must not reach the terminal as-is
# (escape-sequence injection, "Trojan Source"); they are shown escaped instead.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """One display line: newlines become spaces, unsafe characters are escaped."""
    return _UNSAFE.sub(_escape, " ".join(text.splitlines()))


class _Paint:
    """Wraps text in ANSI codes only when color is on; the CLI decides (TTY, NO_COLOR)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, style: str, text: str) -> str:
        if not self.enabled or not text:
            return text
        return f"\x1b[{_CODES[style]}m{text}{_RESET}"


def verdict_line(report: ScanReport, paint: _Paint) -> str:
    verdict = report.verdict
    line = f"{paint(_VERDICT_COLOR[verdict], verdict.label)} — {counts_text(report)}"
    if report.incomplete:
        n = len(report.errors)
        head = paint("alert", "SCAN INCOMPLETE")
        return f"{head} — {n} engine error{'s' if n != 1 else ''}; results so far: {line}"
    return line


def frame(finding: Finding, paint: _Paint) -> list[str]:
    """A rustc-style code frame: header, location, numbered source with a caret, the fix."""
    color = _CATEGORY_COLOR[finding.category]
    tag = " (new)" if finding.new else ""
    header = (
        f"{paint(color, finding.category.value)} {paint('bold', finding.rule_id + ' ' + finding.rule_name)}"
        f"{tag}: {clean(finding.message)}"
    )
    source = finding.snippet.rstrip("\n").split("\n") if finding.snippet.strip() else []
    shown = source if len(source) <= MAX_FRAME_LINES else source[: MAX_FRAME_LINES - 1]
    width = len(str(finding.line + max(len(shown) - 1, 0)))
    pad = " " * width
    out = [header, f"{pad}{paint('blue', '-->')} {clean(finding.path)}:{finding.line}:{finding.column}"]
    if shown:
        bar = paint("blue", "|")
        out.append(f"{pad} {bar}")
        for i, raw in enumerate(shown):
            text = clean(raw.rstrip().replace("\t", TAB))
            number = paint("blue", str(finding.line + i).rjust(width))
            out.append(f"{number} {bar} {text}".rstrip())
            if i == 0:
                offset = len(clean(raw[: max(finding.column - 1, 0)].replace("\t", TAB)))
                offset = min(offset, len(text))
                carets = "^" * max(len(text) - offset, 1)
                out.append(f"{pad} {bar} {' ' * offset}{paint(color, carets)}")
        if len(shown) < len(source):
            out.append(f"{pad} {bar} ... ({len(source) - len(shown)} more lines)")
    fix = fix_summary(finding.fix)
    if fix:
        out.append(f"{pad} {paint('bold', '= fix:')} {clean(fix)}")
    if finding.explanation:
        for i, line in enumerate(finding.explanation.strip().splitlines()):
            label = paint("bold", "= explanation:") if i == 0 else " " * len("= explanation:")
            out.append(f"{pad} {label} {clean(line.strip())}".rstrip())
    return out


def _closed_line(finding: Finding, paint: _Paint) -> str:
    where = f"{clean(finding.path)}:{finding.line}"
    status = "existing" if finding.new is False and finding.status is Status.OPEN else finding.status.value
    line = f"  {status:<10}  {finding.rule_id} {finding.rule_name} {where}"
    if finding.suppression is not None:
        line += f" -- {clean(finding.suppression.reason)}"
        if finding.suppression.expires:
            line += f" (expires {finding.suppression.expires})"
    return paint("dim", line)


def _skip_summary(report: ScanReport, verbose: bool) -> list[str]:
    """One line of counts by reason; the file list only when verbose."""
    whole = [s for s in report.skipped if s.engine is None]
    partial = [s for s in report.skipped if s.engine is not None]
    parts: list[str] = []
    if whole:
        reasons = Counter(s.reason for s in whole)
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))
        parts.append(f"{plural(report.files_skipped, 'file')} skipped ({detail})")
    if partial:
        engines = Counter(s.engine for s in partial)
        detail = ", ".join(f"{engine}: {n}" for engine, n in sorted(engines.items()))
        parts.append(f"{plural(len({s.path for s in partial}), 'file')} partly scanned ({detail})")
    if not parts:
        return []
    if not verbose:
        return ["; ".join(parts) + "; --verbose lists them"]
    out = ["; ".join(parts) + ":"]
    for s in sorted(report.skipped, key=lambda s: (s.path, s.engine or "")):
        engine = f" [{s.engine} only]" if s.engine else ""
        detail = f": {s.detail}" if s.detail else ""
        out.append(clean(f"  {s.path}: {s.reason}{engine}{detail}"))
    return out


def _phase_lines(report: ScanReport, paint: _Paint) -> list[str]:
    out = ["by phase:"]
    width = max(len(p.value) for p in Phase)
    for phase in Phase:
        verdict = report.phase_verdict(phase)
        counts = ", ".join(
            f"{report.count(c, phase)} {c.value}" for c in CATEGORY_ORDER if report.count(c, phase)
        )
        label = f"{verdict.label:<16}  " if counts else verdict.label
        out.append(f"  {phase.value:<{width}}  {paint(_VERDICT_COLOR[verdict], label)}{counts}")
    return out


def _error_lines(report: ScanReport, paint: _Paint) -> list[str]:
    n = len(report.errors)
    out = [
        f"{paint('alert', 'SCAN INCOMPLETE')}: {plural(n, 'engine error')}; "
        "findings from the failed part of the scan are missing (exit 3)"
    ]
    for e in sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message)):
        where = f" {clean(e.path)}" if e.path else ""
        out.append(f"  {paint('red', clean(e.engine))}{where}: {clean(e.message)}")
    return out


def render(
    report: ScanReport, *, color: bool = False, verbose: bool = False, quiet: bool = False, **_options: object
) -> str:
    paint = _Paint(color)
    out: list[str] = []
    for category in CATEGORY_ORDER:
        if quiet and category is not Category.STOP_SHIP:
            continue
        for finding in sorted(report.by_category(category), key=lambda f: f.sort_key):
            out.extend(frame(finding, paint))
            out.append("")
    if not quiet:
        closed = sorted((f for f in report.findings if not gates(f)), key=lambda f: f.sort_key)
        if closed:
            out.append("Not gated (suppressed, baselined, or already present at the diff base):")
            limit = len(closed) if verbose else MAX_CLOSED_LISTED
            out.extend(_closed_line(f, paint) for f in closed[:limit])
            if len(closed) > limit:
                out.append(f"  ... and {len(closed) - limit} more (--verbose lists them)")
            out.append("")
        summary = [
            f"{report.count_status(Status.SUPPRESSED)} suppressed, {report.count_status(Status.BASELINED)} baselined",
            *_skip_summary(report, verbose),
        ]
        out.extend(summary)
        scanned = f"scanned {plural(report.files_scanned, 'file')}"
        if report.files_changed is not None:
            scanned += f" ({plural(report.files_changed, 'file')} changed)"
        out.append(f"{scanned}; launch {report.launch.value}, strictness {report.strictness.value}")
        if verbose:
            engines = ", ".join(f"{k} {v}" for k, v in sorted(report.engine_versions.items()))
            out.append(f"prodaudit {report.tool_version}; engines: {engines}")
        out.extend(clean(note) for note in report.notes)
        out.append("")
        out.extend(_phase_lines(report, paint))
        out.append("")
    if report.incomplete:
        out.extend(_error_lines(report, paint))
        out.append("")
    out.append(verdict_line(report, paint))
    return "\n".join(out) + "\n"
