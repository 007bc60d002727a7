"""JUnit XML: structure CI dashboards read, and escaping that keeps it valid XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.dom import minidom

from builders import OBS001, SEC001, clean_report, make_finding, make_report, sample_report

from prodaudit.model import EngineError, Status, Suppression
from prodaudit.report import junit


def parse(report) -> ET.Element:
    return ET.fromstring(junit.render(report).encode("utf-8"))


def test_suites_per_phase_and_counts() -> None:
    root = parse(sample_report())
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == [
        "prodaudit.security", "prodaudit.data-safety", "prodaudit.reliability", "prodaudit.observability",
        "prodaudit.performance", "prodaudit.operations", "prodaudit.scan",
    ]  # fmt: skip
    security = suites["prodaudit.security"]
    assert (security.get("tests"), security.get("failures"), security.get("skipped")) == ("3", "2", "1")
    assert [f.get("type") for f in security.iter("failure")] == ["stop-ship", "stop-ship"]
    assert suites["prodaudit.reliability"].find("testcase/skipped").get("message") == "baselined"
    # A phase with no gated finding still has a passing case.
    [case] = suites["prodaudit.operations"].findall("testcase")
    assert case.find("failure") is None and case.find("skipped") is None
    assert suites["prodaudit.scan"].find("testcase/error").get("message") == "timed out after 300 s"
    totals = {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert totals == {"tests": "10", "failures": "5", "errors": "1", "skipped": "2"}


def test_acceptable_risk_is_not_a_failure() -> None:
    root = parse(make_report([make_finding(OBS001, "a.py", 1, snippet="print(1)")], [OBS001]))
    assert root.get("failures") == "0"
    obs = next(s for s in root.iter("testsuite") if s.get("name") == "prodaudit.observability")
    assert "1 Acceptable-Risk finding(s)" in obs.find("testcase/system-out").text


def test_clean_report_passes() -> None:
    root = parse(clean_report())
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("7", "0", "0", "0")


def test_markup_and_control_characters_stay_valid_xml() -> None:
    nasty = 'a < b && c > "d" \'e\' ]]> \x00\x08\x1b[31m \ud800 end'
    f = make_finding(SEC001, 'dir/<x>&"y".py', 3, 1, snippet=f"    call({nasty!r})", message=nasty)
    s = make_finding(SEC001, "z.py", 1, snippet="q", status=Status.SUPPRESSED, suppression=Suppression(nasty))
    report = make_report([f, s], [SEC001], errors=(EngineError("semgrep", nasty, "p&q.py"),))
    text = junit.render(report)
    minidom.parseString(text.encode("utf-8"))  # a strict parser accepts it
    root = ET.fromstring(text.encode("utf-8"))
    failure = root.find(".//failure")
    assert failure.get("message") == 'a < b && c > "d" \'e\' ]]> \\x00\\x08\\x1b[31m \\ud800 end'
    assert 'dir/<x>&"y".py' in failure.text
    assert root.find(".//testcase[@file='dir/<x>&\"y\".py']") is not None
    assert "\\x1b" in root.find(".//skipped").get("message")
    assert root.find(".//error").get("message").startswith("a < b &&")


def test_multiline_message_survives_in_attribute() -> None:
    f = make_finding(SEC001, "a.py", 1, snippet="x", message="first\nsecond")
    failure = parse(make_report([f], [SEC001])).find(".//failure")
    assert failure.get("message") == "first\nsecond"
