"""SARIF 2.1.0 for GitHub code scanning: passes the OASIS schema and GitHub's ingestion rules.

GitHub's limits (docs: "SARIF results exceed one or more limits"): 25,000 results per run,
1,000 locations per result, 20 tags per rule (10 displayed). We emit one location per result,
at most 10 tags per rule, and past 25,000 results keep the most urgent ones and say so in a
tool notification.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from prodaudit.model import Category, Confidence, Finding, Phase, Rule, Severity, Status
from prodaudit.policy import cap_low_confidence, default_category
from prodaudit.report import ScanReport

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# The project's home page for tool.driver.informationUri; None until the project has a public URL.
INFORMATION_URI: str | None = None
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "prodaudit/v1"
MAX_RESULTS = 25_000
MAX_TAGS = 10
MAX_SKIP_NOTES = 100
QUIET_SKIP_REASONS = {"excluded", "binary"}

LEVEL = {Category.STOP_SHIP: "error", Category.FIX_SOON: "warning", Category.ACCEPTABLE_RISK: "note"}
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def artifact_uri(path: str) -> str:
    """A relative URI reference for a POSIX path (spaces, `#`, `%` and the like percent-encoded)."""
    return quote(path, safe="/")


def _location(path: str, region: dict[str, Any] | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path), "uriBaseId": SRCROOT}}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def _help_markdown(rule: Rule) -> str:
    parts = [f"**{rule.title}**", "", rule.why, "", "**Fix**", "", rule.fix]
    for kind, heading in (("bad", "Flagged"), ("good", "Not flagged")):
        example = next((e for e in rule.examples if e.kind == kind), None)
        if example is not None:
            lang = rule.languages[0] if rule.languages else ""
            code = example.code.rstrip("\n")
            fence = "```" if "```" not in code else "~~~~"
            parts += ["", f"**{heading}**", "", f"{fence}{lang}", code, fence]
    if rule.references:
        parts += ["", "**References**", ""] + [f"- {ref}" for ref in rule.references]
    return "\n".join(parts)


def _tags(phase: Phase, cwe: tuple[str, ...]) -> list[str]:
    tags = ["security", phase.value] if phase is Phase.SECURITY else [phase.value]
    tags += [f"external/cwe/{c.lower()}" for c in cwe]
    return list(dict.fromkeys(tags))[:MAX_TAGS]  # SARIF tags must be unique


def rule_descriptor(rule: Rule, report: ScanReport) -> dict[str, Any]:
    category = cap_low_confidence(
        default_category(rule.severity, rule.confidence, report.strictness, report.launch, rule.phase), rule.confidence
    )
    properties: dict[str, Any] = {
        "tags": _tags(rule.phase, rule.cwe),
        "precision": PRECISION[rule.confidence],
        "phase": rule.phase.value,
        "severity": rule.severity.value,
        "confidence": rule.confidence.value,
    }
    if rule.phase is Phase.SECURITY:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.why}\n\nFix: {rule.fix}", "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": LEVEL[category]},
        "properties": properties,
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def _rule_from_finding(f: Finding) -> Rule:
    """Metadata for a finding whose rule is not in report.rules (should not happen; never drop it)."""
    return Rule(
        id=f.rule_id, name=f.rule_name, phase=f.phase, severity=f.severity, confidence=f.confidence,
        title=f.message, why=f.message, fix=f.fix, engine=f.engine, languages=(), cwe=f.cwe,
    )  # fmt: skip


def result(finding: Finding, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": finding.line, "endLine": max(finding.end_line, finding.line)}
    if finding.column >= 1:
        region["startColumn"] = finding.column
    if finding.snippet.strip():
        region["snippet"] = {"text": finding.snippet}
    out: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.category],
        "message": {"text": finding.message or finding.rule_name},
        "locations": [_location(finding.path, region)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "category": finding.category.value,
            "phase": finding.phase.value,
            "status": finding.status.value,
            "new": finding.new,
            "severity": finding.severity.value,
            "confidence": finding.confidence.value,
            "engine": finding.engine,
        },
    }
    if finding.new is not None:
        out["baselineState"] = "new" if finding.new else "unchanged"
    if finding.explanation:
        out["properties"]["explanation"] = finding.explanation
    if finding.status is Status.SUPPRESSED:
        suppression: dict[str, Any] = {"kind": "inSource", "status": "accepted"}
        if finding.suppression is not None:
            suppression["justification"] = finding.suppression.reason
            if finding.suppression.expires:
                suppression["properties"] = {"expires": finding.suppression.expires}
        out["suppressions"] = [suppression]
    elif finding.status is Status.BASELINED:
        out["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": "accepted in the prodaudit baseline"}
        ]
    return out


def _priority(finding: Finding) -> tuple:
    """Which results to keep when over the cap: open before not gated, then the most urgent."""
    return (finding.status is not Status.OPEN, -finding.category.rank, finding.sort_key)


def _notification(level: str, rule_id: str, text: str, path: str | None = None, **props: Any) -> dict[str, Any]:
    note: dict[str, Any] = {"level": level, "message": {"text": text}, "descriptor": {"id": rule_id}}
    if path:
        note["locations"] = [_location(path)]
    if props:
        note["properties"] = props
    return note


def to_dict(report: ScanReport, *, max_results: int = MAX_RESULTS) -> dict[str, Any]:
    rules = dict(report.rules)
    for f in report.findings:
        rules.setdefault(f.rule_id, _rule_from_finding(f))
    rules = dict(sorted(rules.items()))
    index = {rule_id: i for i, rule_id in enumerate(rules)}

    findings = sorted(report.findings, key=lambda f: f.sort_key)
    kept = findings
    if len(findings) > max_results:
        kept = sorted(sorted(findings, key=_priority)[:max_results], key=lambda f: f.sort_key)

    notifications = [
        _notification("error", "engine-error", f"{e.engine}: {e.message}", e.path, engine=e.engine)
        for e in sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message))
    ]
    if len(kept) < len(findings):
        notifications.append(
            _notification(
                "warning",
                "results-capped",
                f"{len(findings) - len(kept)} of {len(findings)} findings are not in this SARIF file: GitHub code "
                f"scanning accepts at most {max_results} results per run. The JSON report has them all.",
            )
        )
    # Binary and excluded files are skipped by design; the others may hide findings, so name them.
    worth_naming = [s for s in report.skipped if s.reason not in QUIET_SKIP_REASONS]
    worth_naming.sort(key=lambda s: (s.path, s.engine or ""))
    for s in worth_naming[:MAX_SKIP_NOTES]:
        who = f"{s.engine} could not read this file" if s.engine else "file not scanned"
        text = f"{who}: {s.reason}" + (f" ({s.detail})" if s.detail else "")
        notifications.append(_notification("note", "file-skipped", text, s.path, reason=s.reason))
    if len(worth_naming) > MAX_SKIP_NOTES:
        more = len(worth_naming) - MAX_SKIP_NOTES
        notifications.append(_notification("note", "file-skipped", f"{more} more skipped files; see the JSON report."))

    invocation: dict[str, Any] = {"executionSuccessful": not report.incomplete, "exitCode": report.exit_code}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications

    driver: dict[str, Any] = {"name": "prodaudit", "version": report.tool_version}
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    driver["rules"] = [rule_descriptor(rule, report) for rule in rules.values()]
    driver["properties"] = {"engines": dict(sorted(report.engine_versions.items()))}
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": [result(f, index[f.rule_id]) for f in kept],
        "properties": {
            "verdict": report.verdict.value,
            "exitCode": report.exit_code,
            "launch": report.launch.value,
            "strictness": report.strictness.value,
            "summary": report.summary,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def render(report: ScanReport, *, max_results: int = MAX_RESULTS, **_options: object) -> str:
    return json.dumps(to_dict(report, max_results=max_results), indent=2, ensure_ascii=False) + "\n"
