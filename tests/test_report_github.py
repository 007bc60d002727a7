"""GitHub workflow commands: escaping per actions/toolkit and the per-step annotation caps."""

from __future__ import annotations

from builders import OBS001, REL003, SEC001, clean_report, make_finding, make_report, sample_report

from prodaudit.model import EngineError, Status
from prodaudit.report import github


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """Split a workflow command the way the runner does: `::name k=v,k=v::message`."""
    assert line.startswith("::")
    head, message = line[2:].split("::", 1)
    name, _, props = head.partition(" ")
    pairs = dict(p.split("=", 1) for p in props.split(",")) if props else {}
    return name, {k: unescape_property(v) for k, v in pairs.items()}, unescape_data(message)


def test_escaping_rules() -> None:
    assert github.escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert github.escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_hostile_text_cannot_inject_commands_or_properties() -> None:
    f = make_finding(
        SEC001, "dir,line=1/a:b.py", 7, 3, snippet="x",
        message="50% off\n::add-mask::secret\r\n::set-env name=X::1,title=fake",
    )  # fmt: skip
    lines = github.render(make_report([f], [SEC001])).splitlines()
    assert len(lines) == 2  # one annotation, one verdict line: nothing smuggled onto its own line
    name, props, message = parse(lines[0])
    assert name == "error"
    assert props["file"] == "dir,line=1/a:b.py"
    assert (props["line"], props["endLine"], props["col"]) == ("7", "7", "3")
    assert props["title"] == "Stop-Ship SEC001 jwt-signature-not-verified"
    assert message.startswith("50% off\n::add-mask::secret\r\n::set-env name=X::1,title=fake\nFix: ")


def test_levels_and_what_is_not_annotated() -> None:
    lines = github.render(sample_report()).splitlines()
    names = [parse(line)[0] for line in lines if line.startswith("::")]
    # engine error, 2 Stop-Ship errors, 3 Fix-Soon warnings; no Acceptable-Risk, suppressed or baselined.
    assert names == ["error", "error", "error", "warning", "warning", "warning"]
    assert not any("admin/export.py" in line or "payments/sync.py" in line or "app/cli.py" in line for line in lines)
    assert lines[-1] == "prodaudit: SCAN INCOMPLETE — NOT READY — 2 Stop-Ship, 3 Fix-Soon, 1 Acceptable-Risk"


def test_caps_ten_per_level_then_a_notice() -> None:
    findings = [make_finding(SEC001, f"s{i:02}.py", 1, snippet=f"s{i}") for i in range(13)]
    findings += [make_finding(REL003, f"r{i:02}.py", 1, snippet=f"r{i}") for i in range(11)]
    findings += [make_finding(OBS001, f"o{i:02}.py", 1, snippet=f"o{i}") for i in range(4)]
    lines = github.render(make_report(findings, [SEC001, REL003, OBS001])).splitlines()
    names = [parse(line)[0] for line in lines if line.startswith("::")]
    assert names.count("error") == 10 and names.count("warning") == 10
    assert lines[-2] == "::notice title=prodaudit::4 more findings in the summary (3 Stop-Ship, 1 Fix-Soon)"
    assert [parse(line)[1]["file"] for line in lines[:3]] == ["s00.py", "s01.py", "s02.py"]


def test_engine_errors_come_first_and_share_the_error_budget() -> None:
    errors = tuple(EngineError("semgrep", f"crash {i}", None) for i in range(12))
    report = make_report([make_finding(SEC001, "a.py", 1, snippet="x")], [SEC001], errors=errors)
    lines = github.render(report).splitlines()
    annotated = [parse(line) for line in lines if line.startswith("::error")]
    assert len(annotated) == 10
    assert all(props == {"title": "prodaudit: scan incomplete"} for _, props, _ in annotated)
    assert lines[-2] == (
        "::notice title=prodaudit::1 more finding in the summary (1 Stop-Ship); 2 more engine errors in the summary"
    )


def test_clean_report_prints_only_the_verdict() -> None:
    assert github.render(clean_report()) == "prodaudit: READY — 0 Stop-Ship, 0 Fix-Soon, 0 Acceptable-Risk\n"


def test_suppressed_stop_ship_is_not_annotated() -> None:
    f = make_finding(SEC001, "a.py", 1, snippet="x", status=Status.BASELINED)
    assert not github.render(make_report([f], [SEC001])).startswith("::")
