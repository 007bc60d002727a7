"""Markdown for PR comments, step summaries and audit reports."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import (
    OBS001,
    REL003,
    SEC001,
    clean_report,
    make_finding,
    make_report,
    many_findings_report,
    sample_report,
)
from markdown_it import MarkdownIt

from prodaudit.model import EngineError, Status, Suppression
from prodaudit.report import markdown

GITHUB_COMMENT_LIMIT = 65_536


def html(text: str) -> str:
    """CommonMark plus GFM tables, close enough to GitHub to check structure."""
    return MarkdownIt("commonmark").enable("table").render(text)


def test_verdict_first_then_banner_table_sections_plan() -> None:
    out = markdown.render(sample_report())
    lines = out.splitlines()
    assert lines[0] == markdown.COMMENT_MARKER
    assert lines[1] == "# prodaudit: ⛔ NOT READY"
    assert lines[3].startswith("**2 Stop-Ship · 3 Fix-Soon · 1 Acceptable-Risk**")
    order = ["[!CAUTION]", "## By phase", "## Stop-Ship (2)", "## Fix-Soon (3)", "## Acceptable-Risk (1)",
             "## Remediation plan", "## Not gated"]  # fmt: skip
    positions = [out.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_phase_table_renders_as_a_table() -> None:
    page = html(markdown.render(sample_report()))
    rows = re.findall(r"<tr>\s*<td>([a-z-]+)</td>\s*<td>([A-Z ]+)</td>", page)
    assert rows == [
        ("security", "NOT READY"),
        ("data-safety", "READY WITH RISKS"),
        ("reliability", "READY WITH RISKS"),
        ("observability", "READY WITH RISKS"),
        ("performance", "READY WITH RISKS"),
        ("operations", "READY"),
    ]


def test_remediation_plan_orders_stop_ship_first_and_groups_by_rule() -> None:
    findings = [make_finding(REL003, f"r{i}.py", 1, snippet=f"r{i}") for i in range(3)]
    findings += [make_finding(SEC001, f"s{i}.py", 1, snippet=f"s{i}") for i in range(8)]
    plan = markdown.remediation_plan(make_report(findings, [SEC001, REL003]))
    assert [(s.rule_id, len(s.findings)) for s in plan] == [("SEC001", 8), ("REL003", 3)]
    out = markdown.render(make_report(findings, [SEC001, REL003]))
    assert "1. **Stop-Ship · `SEC001` jwt-signature-not-verified**: JWT decoded without verifying its signature (8 findings)" in out
    assert "`s4.py:1` and 3 more" in out
    assert "2. **Fix-Soon · `REL003` exception-swallowed**" in out
    # The whole fix text is there, not just its first line.
    assert '   `jwt.decode(token, key, algorithms=["HS256"])`.' in out


def test_scan_incomplete_banner_only_when_errors() -> None:
    assert "Scan incomplete" in markdown.render(sample_report())
    assert "Scan incomplete" not in markdown.render(clean_report())
    errors = tuple(EngineError("semgrep", f"failure {i}", f"f{i}.py") for i in range(25))
    out = markdown.render(make_report([], [SEC001], errors=errors))
    assert "> - 5 more engine errors not shown" in out and out.count("> - `semgrep`") == 20


def test_size_cap_with_2000_findings() -> None:
    report = many_findings_report(2000)
    full = markdown.render(report, max_chars=10_000_000)
    assert len(full) > GITHUB_COMMENT_LIMIT  # the cap is needed for this report
    out = markdown.render(report)
    assert len(out) <= markdown.DEFAULT_MAX_CHARS < GITHUB_COMMENT_LIMIT
    shown = {c: len(re.findall(rf"^- `app/module_\d+\.py:\d+` · `{r}`", out, re.M)) for c, r in
             (("stop-ship", "SEC001"), ("fix-soon", "REL003"), ("acceptable-risk", "OBS001"))}  # fmt: skip
    hidden = {
        c: int(m.group(1)) if (m := re.search(rf"_(\d+) more {label} findings not shown", out)) else 0
        for c, label in (("stop-ship", "Stop-Ship"), ("fix-soon", "Fix-Soon"), ("acceptable-risk", "Acceptable-Risk"))
    }
    totals = {"stop-ship": 667, "fix-soon": 667, "acceptable-risk": 666}
    for category, total in totals.items():
        assert shown[category] + hidden[category] == total, category
    # Lowest category cut first: Acceptable-Risk is gone before any Stop-Ship is.
    assert shown["stop-ship"] > 0 and shown["acceptable-risk"] == 0 and hidden["acceptable-risk"] == 666
    assert "## Remediation plan" in out and out.rstrip().endswith("</sub>")


def test_cap_fills_the_budget() -> None:
    report = many_findings_report(600)
    for limit in (20_000, 35_000):
        out = markdown.render(report, max_chars=limit)
        assert limit - 1_000 < len(out) <= limit


def test_small_reports_are_not_cut() -> None:
    full = markdown.render(sample_report())
    assert "not shown" not in full
    assert markdown.render(sample_report(), max_chars=len(full)) == full


def test_hard_cut_is_marked_when_even_the_summary_does_not_fit() -> None:
    out = markdown.render(sample_report(), max_chars=600)
    assert len(out) <= 600
    assert re.search(r"\*\*Report cut here: \d+ more characters not shown", out)


def test_untrusted_text_is_escaped() -> None:
    f = make_finding(SEC001, "a|b`c.py", 3, 1, snippet="x",
                     message="hi | there `code` <img src=x onerror=alert(1)> **bold** [link](http://x) @octocat")  # fmt: skip
    closed = make_finding(OBS001, "b.py", 2, snippet="y", status=Status.SUPPRESSED, suppression=Suppression("a | b <script>"))
    out = markdown.render(make_report([f, closed], [SEC001, OBS001]))
    assert r"hi \| there \`code\` \<img src=x onerror=alert(1)\> \*\*bold\*\* \[link\](http://x) @" in out
    assert "@\u2060octocat" in out
    assert "``a|b`c.py:3``" in out
    assert r"a \| b \<script\>" in out
    page = html(out)
    assert "<img" not in page and "<script" not in page and "<strong>bold" not in page


def test_md_filter() -> None:
    assert markdown.md("a|b") == r"a\|b"
    assert markdown.md("x `y`") == r"x \`y\`"
    assert markdown.md("line one\nline two") == "line one line two"
    assert markdown.md("__init__") == r"\_\_init\_\_"


def test_code_filter_handles_backticks() -> None:
    assert markdown.code("a.py:3") == "`a.py:3`"
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x") == "`` `x ``"
    assert html(markdown.code("a``b`c")).strip() == "<p><code>a``b`c</code></p>"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-26T13:47:05Z", "20261126-134705.md"),
        ("2026-11-26T13:47:05+00:00", "20261126-134705.md"),
        ("2026-11-26T15:47:05+02:00", "20261126-134705.md"),
        ("2026-11-26T13:47:05.123456Z", "20261126-134705.md"),
    ],
)
def test_audit_path(stamp: str, expected: str) -> None:
    assert markdown.audit_path("docs/audits", stamp) == Path("docs/audits") / expected
    assert markdown.audit_path(Path("/tmp/x"), stamp) == Path("/tmp/x") / expected
