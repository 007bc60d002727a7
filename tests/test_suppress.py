import datetime as dt

from prodaudit.model import Category, Confidence, Finding, Phase, Rule, Severity, Status
from prodaudit.suppress import EXPIRED, NO_REASON, UNUSED, apply_suppressions, parse_directives

RULE = Rule(id="SEC001", name="jwt-signature-not-verified", phase=Phase.SECURITY, severity=Severity.CRITICAL,
            confidence=Confidence.HIGH, title="t", why="w", fix="f", engine="semgrep", languages=("python",))
RULES = {RULE.id: RULE}
TODAY = dt.date(2026, 6, 1)


def finding(line: int, path: str = "a.py") -> Finding:
    return Finding(rule_id="SEC001", rule_name=RULE.name, phase=Phase.SECURITY, category=Category.STOP_SHIP,
                   severity=Severity.CRITICAL, confidence=Confidence.HIGH, path=path, line=line, end_line=line,
                   column=1, message="m", fix="f", cwe=(), engine="semgrep", fingerprint=f"fp{line}")


def run(lines, findings):
    return apply_suppressions(findings, parse_directives("a.py", lines), RULES, TODAY)


def test_same_line_and_line_above_suppress_with_reason():
    lines = ["x = 1  # prodaudit: ignore[SEC001] -- verified upstream", "# prodaudit: ignore[jwt-signature-not-verified] -- ok", "y = 2"]
    result, problems = run(lines, [finding(1), finding(3)])
    assert [f.status for f in result] == [Status.SUPPRESSED, Status.SUPPRESSED]
    assert result[0].suppression.reason == "verified upstream"
    assert problems == []


def test_reason_is_required():
    result, problems = run(["x = 1  # prodaudit: ignore[SEC001]"], [finding(1)])
    assert result[0].status is Status.OPEN
    assert [p.rule_id for p in problems] == [NO_REASON]


def test_expiry_is_enforced():
    lines = ["x  # prodaudit: ignore[SEC001] expires=2026-05-31 -- window", "y  # prodaudit: ignore[SEC001] expires=2026-06-01 -- window"]
    result, problems = run(lines, [finding(1), finding(2)])
    assert [f.status for f in result] == [Status.OPEN, Status.SUPPRESSED]
    assert result[1].suppression.expires == "2026-06-01"
    assert [p.rule_id for p in problems] == [EXPIRED]


def test_unused_suppression_reported_only_for_known_rules():
    lines = ["x  # prodaudit: ignore[SEC001] -- old", "y  # prodaudit: ignore[XYZ999] -- other tool's code"]
    result, problems = run(lines, [])
    assert [(p.rule_id, p.line) for p in problems] == [(UNUSED, 1)]


def test_other_comment_forms_and_several_codes():
    lines = ["// prodaudit: ignore[SEC002, SEC001] -- js", "call()", "-- prodaudit: ignore[SEC001] -- sql", "DROP"]
    result, problems = run(lines, [finding(2), finding(4)])
    assert [f.status for f in result] == [Status.SUPPRESSED, Status.SUPPRESSED]


def test_directive_two_lines_above_does_not_apply():
    result, problems = run(["# prodaudit: ignore[SEC001] -- x", "", "z"], [finding(3)])
    assert result[0].status is Status.OPEN
    assert [p.rule_id for p in problems] == [UNUSED]
