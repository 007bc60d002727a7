"""Terminal output: order, code frames, options, and nothing unsafe reaching the terminal."""

from __future__ import annotations

from builders import OBS001, PERF001, SEC001, clean_report, make_finding, make_report, sample_report

from prodaudit.model import EngineError
from prodaudit.report import text


def test_categories_in_order_and_verdict_last() -> None:
    out = text.render(sample_report())
    headers = [line.split()[0] for line in out.splitlines() if line.split()[:1] in (["stop-ship"], ["fix-soon"], ["acceptable-risk"])]
    assert headers == ["stop-ship"] * 2 + ["fix-soon"] * 3 + ["acceptable-risk"]
    assert out.rstrip("\n").splitlines()[-1].endswith("NOT READY — 2 Stop-Ship, 3 Fix-Soon, 1 Acceptable-Risk")


def test_frame_layout() -> None:
    f = make_finding(SEC001, "app/auth.py", 42, 14, snippet='    claims = jwt.decode(token, options={"verify_signature": False})',
                     message="The JWT's signature is not verified.")  # fmt: skip
    lines = text.frame(f, text._Paint(False))
    assert lines[0] == "stop-ship SEC001 jwt-signature-not-verified: The JWT's signature is not verified."
    assert lines[1] == "  --> app/auth.py:42:14"
    assert lines[3].startswith("42 |     claims = jwt.decode(")
    # The caret starts under column 14 (1-based) of the source line.
    source_start = lines[3].index("|") + 2
    assert lines[4].index("^") - source_start == 13
    assert lines[5].startswith("   = fix: Verify the signature")


def test_caret_lines_up_after_a_tab() -> None:
    f = make_finding(PERF001, "c.py", 5, 6, snippet="\tx = requests.get(u)")
    lines = text.frame(f, text._Paint(False))
    src, carets = lines[3], lines[4]
    assert src == "5 |     x = requests.get(u)"
    assert src[carets.index("^")] == "r"


def test_long_match_is_shortened() -> None:
    snippet = "\n".join(f"    line_{i}()" for i in range(20))
    lines = text.frame(make_finding(SEC001, "a.py", 100, 5, snippet=snippet), text._Paint(False))
    assert any("(15 more lines)" in line for line in lines)
    assert sum(1 for line in lines if "line_" in line) == 5


def test_finding_without_snippet_has_no_source_block() -> None:
    lines = text.frame(make_finding(SEC001, "a.py", 3, 1), text._Paint(False))
    assert lines[1] == " --> a.py:3:1" and lines[2].startswith("  = fix:")


def test_color_only_when_asked() -> None:
    assert "\x1b[" not in text.render(sample_report())
    assert "\x1b[" not in text.render(sample_report(), verbose=True, quiet=False)
    colored = text.render(sample_report(), color=True)
    assert "\x1b[1;31mstop-ship\x1b[0m" in colored
    # Without the escape codes the output is the same text.
    import re

    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == text.render(sample_report())


def test_quiet_prints_only_stop_ship_errors_and_verdict() -> None:
    out = text.render(sample_report(), quiet=True)
    assert "stop-ship SEC001" in out and "stop-ship SEC004" in out
    assert "fix-soon" not in out and "acceptable-risk" not in out
    assert "Not gated" not in out and "by phase" not in out
    assert "SCAN INCOMPLETE" in out  # exit 3 always says why
    assert out.rstrip().splitlines()[-1].startswith("SCAN INCOMPLETE")


def test_skipped_files_summarized_and_listed_only_when_verbose() -> None:
    out = text.render(sample_report())
    assert "3 files skipped (1 binary, 1 too-large, 1 unparseable); 1 file partly scanned (bandit: 1)" in out
    assert "static/logo.png" not in out
    verbose = text.render(sample_report(), verbose=True)
    assert "  static/logo.png: binary" in verbose
    assert "  app/templates/macros.py: unparseable [bandit only]: syntax error" in verbose


def test_suppressed_and_baselined_are_listed_and_marked() -> None:
    out = text.render(sample_report())
    assert ("  suppressed  SEC004 sql-built-from-strings app/admin/export.py:88 -- cutoff is a date computed "
            "server-side (expires 2027-01-31)") in out  # fmt: skip
    assert "  baselined   REL003 exception-swallowed app/payments/sync.py:30" in out
    assert "1 suppressed, 1 baselined" in out


def test_many_closed_findings_are_capped_without_verbose() -> None:
    from prodaudit.model import Status

    closed = [make_finding(OBS001, f"m{i:02}.py", 1, snippet=f"print({i})", status=Status.BASELINED) for i in range(25)]
    out = text.render(make_report(closed, [OBS001]))
    assert out.count("  baselined ") == 20 and "... and 5 more (--verbose lists them)" in out
    assert text.render(make_report(closed, [OBS001]), verbose=True).count("  baselined ") == 25


def test_engine_errors_are_prominent() -> None:
    report = make_report([], [SEC001], errors=(EngineError("bandit", "crashed with exit code 2"),))
    out = text.render(report)
    assert "SCAN INCOMPLETE: 1 engine error" in out
    assert "  bandit: crashed with exit code 2" in out
    # An incomplete scan never reads as a plain READY.
    assert out.rstrip().splitlines()[-1].startswith("SCAN INCOMPLETE — 1 engine error; results so far: READY")


def test_ready() -> None:
    out = text.render(clean_report())
    assert out.endswith("READY — 0 Stop-Ship, 0 Fix-Soon, 0 Acceptable-Risk\n")
    assert "SCAN INCOMPLETE" not in out


def test_terminal_escapes_and_bidi_controls_in_scanned_code_are_neutralized() -> None:
    f = make_finding(SEC001, "evil\x1b[2J.py", 1, 1, snippet='x = "\x1b]0;pwned\x07"  # \u202e txet',
                     message="bad\x1b[31m message\nsecond line")  # fmt: skip
    out = text.render(make_report([f], [SEC001]))
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "evil\\x1b[2J.py:1:1" in out
    assert '\\x1b]0;pwned\\x07' in out and "\\u202e" in out
    assert "bad\\x1b[31m message second line" in out
