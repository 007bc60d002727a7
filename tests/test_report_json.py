"""The JSON report contract (DESIGN §1.2) and the JSON Schema that ships in the package."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from builders import SEC001, clean_report, make_finding, make_report, many_findings_report, sample_report

from prodaudit.model import Skipped, Status, Suppression
from prodaudit.report import json_report


def _validator() -> jsonschema.Draft202012Validator:
    schema = json_report.load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _errors(data: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(data)]


@pytest.mark.parametrize("build", [sample_report, clean_report, lambda: many_findings_report(300)])
def test_rendered_report_passes_the_shipped_schema(build) -> None:
    data = json.loads(json_report.render(build()))
    assert _errors(data) == []


def test_schema_is_loaded_from_package_resources() -> None:
    schema = json_report.load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"] == {"const": 1}
    # Each call gives a fresh dict, so a caller cannot change what the next one sees.
    schema["title"] = "changed"
    assert json_report.load_schema()["title"] != "changed"


def test_keys_are_sorted_and_findings_ordered() -> None:
    text = json_report.render(sample_report())
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    keys = [(f["path"], f["line"], f["column"], f["rule_id"]) for f in data["findings"]]
    assert keys == sorted(keys)
    assert list(data) == sorted(data)


def test_contract_values() -> None:
    data = json.loads(json_report.render(sample_report()))
    assert data["schema_version"] == 1
    assert data["tool"] == {
        "name": "prodaudit",
        "version": "0.1.0",
        "engines": {"bandit": "1.9.4", "libcst": "1.9.0", "semgrep": "1.185.0"},
    }
    assert data["verdict"] == "NOT_READY"
    assert data["exit_code"] == 3  # the engine error makes the scan incomplete
    assert data["launch"] == {"type": "public", "strictness": "high"}
    assert data["summary"] == {
        "stop-ship": 2, "fix-soon": 3, "acceptable-risk": 1, "suppressed": 1, "baselined": 1,
        "files_scanned": 118, "files_skipped": 3,
    }  # fmt: skip
    assert data["phases"]["security"] == {"verdict": "NOT_READY", "stop-ship": 2, "fix-soon": 0, "acceptable-risk": 0}
    assert data["phases"]["operations"]["verdict"] == "READY"
    suppressed = next(f for f in data["findings"] if f["status"] == "suppressed")
    assert suppressed["suppression"] == {"reason": "cutoff is a date computed server-side", "expires": "2027-01-31"}
    baselined = next(f for f in data["findings"] if f["status"] == "baselined")
    assert baselined["suppression"] is None
    jwt = next(f for f in data["findings"] if f["rule_id"] == "SEC001")
    assert jwt["cwe"] == ["CWE-347"]
    assert jwt["new"] is None
    assert jwt["explanation"].startswith("Anyone can mint")
    assert "snippet" not in jwt
    assert data["errors"] == [{"engine": "semgrep", "path": "app/vendor/huge_table.py", "message": "timed out after 300 s"}]
    bandit_only = next(s for s in data["skipped"] if s["engine"] == "bandit")
    assert bandit_only == {"path": "app/templates/macros.py", "reason": "unparseable", "engine": "bandit",
                           "detail": "syntax error"}  # fmt: skip


def test_ready_report_exits_zero() -> None:
    data = json.loads(json_report.render(clean_report()))
    assert (data["verdict"], data["exit_code"], data["findings"], data["errors"]) == ("READY", 0, [], [])


def test_unsorted_input_still_renders_in_contract_order() -> None:
    a = make_finding(SEC001, "b.py", 1, snippet="x")
    b = make_finding(SEC001, "a.py", 9, snippet="y")
    c = make_finding(SEC001, "a.py", 2, snippet="z")
    report = make_report([], [SEC001])
    report = type(report)(**{**report.__dict__, "findings": (a, b, c)})
    paths = [(f["path"], f["line"]) for f in json.loads(json_report.render(report))["findings"]]
    assert paths == [("a.py", 2), ("a.py", 9), ("b.py", 1)]


# The schema must be strict, or it would not catch a renderer drifting from the contract.
def _mutated(mutate) -> list[str]:
    data = json.loads(json_report.render(sample_report()))
    bad = copy.deepcopy(data)
    mutate(bad)
    return _errors(bad)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d.pop("skipped"), id="missing-top-level-key"),
        pytest.param(lambda d: d.update(extra=1), id="unknown-top-level-key"),
        pytest.param(lambda d: d.update(verdict="MAYBE"), id="bad-verdict"),
        pytest.param(lambda d: d.update(exit_code=2), id="exit-code-2-never-has-a-report"),
        pytest.param(lambda d: d["phases"].pop("operations"), id="missing-phase"),
        pytest.param(lambda d: d["findings"][0].pop("fingerprint"), id="finding-without-fingerprint"),
        pytest.param(lambda d: d["findings"][0].update(category="blocker"), id="bad-category"),
        pytest.param(lambda d: d["findings"][0].update(cwe="CWE-89"), id="cwe-not-a-list"),
        pytest.param(lambda d: d["findings"][0].update(path="/abs/app.py"), id="absolute-path"),
        pytest.param(lambda d: d["findings"][0].update(line=0), id="line-zero"),
        pytest.param(lambda d: d["findings"][0].update(snippet="x"), id="snippet-is-not-in-the-contract"),
        pytest.param(
            lambda d: next(f for f in d["findings"] if f["status"] == "suppressed").update(suppression=None),
            id="suppressed-without-suppression",
        ),
        pytest.param(
            lambda d: next(f for f in d["findings"] if f["status"] == "suppressed")["suppression"].update(
                expires="31.01.2027"
            ),
            id="bad-expiry-date",
        ),
        pytest.param(lambda d: d["errors"][0].pop("message"), id="error-without-message"),
        pytest.param(lambda d: d["skipped"][0].pop("engine"), id="skipped-without-engine"),
    ],
)
def test_schema_rejects_drift(mutate) -> None:
    assert _mutated(mutate), "the schema accepted a report that breaks the contract"


def test_expired_suppression_on_an_open_finding_is_allowed() -> None:
    """An expired suppression reopens the finding; the report may still say what it was."""
    f = make_finding(SEC001, "a.py", 3, snippet="x", status=Status.OPEN, suppression=Suppression("old", "2020-01-01"))
    data = json.loads(json_report.render(make_report([f], [SEC001])))
    assert _errors(data) == []
    assert data["findings"][0]["suppression"] == {"reason": "old", "expires": "2020-01-01"}


def test_skipped_engine_null_when_no_engine_read_the_file() -> None:
    report = make_report([], [SEC001], skipped=(Skipped("a.bin", "binary"),))
    assert json.loads(json_report.render(report))["skipped"] == [
        {"path": "a.bin", "reason": "binary", "engine": None, "detail": ""}
    ]
