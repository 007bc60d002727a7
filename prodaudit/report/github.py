"""GitHub Actions workflow commands: an `::error` annotation per Stop-Ship finding and a
`::warning` per Fix-Soon finding, on the changed line of the pull request.

GitHub shows about 10 annotations of each type per step, so we emit at most 10 of each (engine
errors first, they explain an exit 3) and then one notice pointing to the full summary.
"""

from __future__ import annotations

from prodaudit.model import Category, Finding
from prodaudit.report import ScanReport
from prodaudit.report.common import LABEL, counts_text, fix_summary

MAX_PER_LEVEL = 10
COMMAND = {Category.STOP_SHIP: "error", Category.FIX_SOON: "warning"}


def escape_data(text: str) -> str:
    """The message part of a workflow command (actions/toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value of a workflow command (actions/toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    message = finding.message
    fix = fix_summary(finding.fix)
    if fix:
        message += f"\nFix: {fix}"
    return command(
        COMMAND[finding.category],
        message,
        file=finding.path,
        line=finding.line,
        endLine=max(finding.end_line, finding.line),
        col=finding.column if finding.column >= 1 else None,
        title=f"{LABEL[finding.category]} {finding.rule_id} {finding.rule_name}",
    )


def render(report: ScanReport, *, max_per_level: int = MAX_PER_LEVEL, **_options: object) -> str:
    lines: list[str] = []
    budget = {"error": max_per_level, "warning": max_per_level}
    errors = sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message))
    for e in errors[: budget["error"]]:
        lines.append(command("error", f"{e.engine}: {e.message}", file=e.path, title="prodaudit: scan incomplete"))
    budget["error"] -= min(len(errors), max_per_level)
    hidden_errors = len(errors) - min(len(errors), max_per_level)
    hidden = {Category.STOP_SHIP: 0, Category.FIX_SOON: 0}
    for category in (Category.STOP_SHIP, Category.FIX_SOON):
        level = COMMAND[category]
        for finding in sorted(report.by_category(category), key=lambda f: f.sort_key):
            if budget[level] > 0:
                lines.append(annotation(finding))
                budget[level] -= 1
            else:
                hidden[category] += 1
    notes = []
    more = sum(hidden.values())
    if more:
        detail = ", ".join(f"{n} {LABEL[c]}" for c, n in hidden.items() if n)
        notes.append(f"{more} more finding{'s' if more != 1 else ''} in the summary ({detail})")
    if hidden_errors:
        notes.append(f"{hidden_errors} more engine error{'s' if hidden_errors != 1 else ''} in the summary")
    if notes:
        lines.append(command("notice", "; ".join(notes), title="prodaudit"))
    incomplete = "SCAN INCOMPLETE — " if report.incomplete else ""
    lines.append(f"prodaudit: {incomplete}{report.verdict.label} — {counts_text(report)}")
    return "\n".join(lines) + "\n"
