"""JUnit XML for CI dashboards: a test suite per phase, a failing test case per open Stop-Ship or
Fix-Soon finding, a skipped one per suppressed or baselined finding, and a passing one for each
phase without such findings so the dashboard shows that the phase ran."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from prodaudit.model import Category, Finding, Phase, Status
from prodaudit.report import ScanReport
from prodaudit.report.common import LABEL, fix_summary

GATED = (Category.STOP_SHIP, Category.FIX_SOON)
# Characters XML 1.0 cannot carry at all, even escaped; ElementTree would write them as they are.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_text(text: str) -> str:
    """Text XML can carry: characters it cannot are written as visible escapes."""
    return _NOT_XML.sub(_escape, text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: xml_text(str(v)) for k, v in attrs.items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def _details(f: Finding) -> str:
    lines = [
        f"{LABEL[f.category]}: {f.rule_id} {f.rule_name} ({f.severity.value} severity, {f.confidence.value} confidence)",
        f"at {f.path}:{f.line}:{f.column}",
        f.message,
    ]
    if f.snippet.strip():
        lines += ["", f.snippet.rstrip("\n")]
    if f.fix:
        lines += ["", f"Fix: {fix_summary(f.fix)}"]
    if f.explanation:
        lines += ["", f.explanation]
    return "\n".join(lines)


def _testcase(suite: ET.Element, classname: str, f: Finding) -> str:
    """Adds the case and returns its outcome: failure, skipped or passed."""
    case = _element(
        suite, "testcase", name=f"{f.rule_id} {f.rule_name} {f.path}:{f.line}", classname=classname,
        file=f.path, line=f.line, time="0",
    )  # fmt: skip
    if f.status is Status.SUPPRESSED:
        reason = f.suppression.reason if f.suppression else ""
        _element(case, "skipped", message=f"suppressed: {reason}".rstrip(": "))
        return "skipped"
    if f.status is Status.BASELINED:
        _element(case, "skipped", message="baselined")
        return "skipped"
    _element(case, "failure", _details(f), message=f.message, type=f.category.value)
    return "failure"


def build(report: ScanReport) -> ET.Element:
    root = ET.Element("testsuites", {"name": "prodaudit"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = report.generated_at.replace("Z", "")
    for phase in Phase:
        classname = f"prodaudit.{phase.value}"
        suite = _element(root, "testsuite", name=classname, timestamp=stamp)
        outcomes = []
        for f in sorted(report.findings, key=lambda f: f.sort_key):
            if f.phase is phase and f.category in GATED:
                outcomes.append(_testcase(suite, classname, f))
        if "failure" not in outcomes:
            case = _element(suite, "testcase", name=f"{phase.value}: no open Stop-Ship or Fix-Soon findings",
                            classname=classname, time="0")  # fmt: skip
            accepted = report.count(Category.ACCEPTABLE_RISK, phase)
            if accepted:
                _element(case, "system-out", f"{accepted} Acceptable-Risk finding(s), not gated.")
            outcomes.append("passed")
        _count(suite, outcomes, totals)
    suite = _element(root, "testsuite", name="prodaudit.scan", timestamp=stamp)
    outcomes = []
    for e in sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message)):
        case = _element(suite, "testcase", name=f"{e.engine} {e.path or ''}".strip(), classname="prodaudit.scan", time="0")
        _element(case, "error", f"{e.engine}: {e.message}", message=e.message, type="engine-error")
        outcomes.append("error")
    if not outcomes:
        _element(suite, "testcase", name="scan complete", classname="prodaudit.scan", time="0")
        outcomes.append("passed")
    _count(suite, outcomes, totals)
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def _count(suite: ET.Element, outcomes: list[str], totals: dict[str, int]) -> None:
    counts = {
        "tests": len(outcomes),
        "failures": outcomes.count("failure"),
        "errors": outcomes.count("error"),
        "skipped": outcomes.count("skipped"),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] += value
    suite.set("time", "0")


def render(report: ScanReport, **_options: object) -> str:
    root = build(report)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
