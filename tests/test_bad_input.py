"""Bad input: each case is listed and skipped, or a one-line error with exit 2, or exit 3 — never a
traceback, never a silent pass."""

import os
import stat
import shutil
from pathlib import Path

import pytest

from helpers import assert_one_line_error, make_repo, prodaudit, write

JWT_BAD = "import jwt\nclaims = jwt.decode(token, verify=False)\n"



@pytest.fixture(scope="module")
def messy_repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("messy")
    make_repo(root, {
        "app/ok.py": JWT_BAD,
        "app/broken.py": "def f(:\n    pass\n",
        "app/image.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary",
        "app/generated.py": "X = 1\n" * 900_000,  # ~5 MB
        "app/latin1.py": "name = 'caf\xe9'\n".encode("latin-1"),
        "app/newer.py": 'who = "x"\nprint(f"{"nested"}: {who}")\n',  # PEP 701: Python 3.12 grammar
    })
    (root / "app" / "loop").symlink_to(root / "app")  # a directory symlink to its own parent
    (root / "app" / "dangling.py").symlink_to(root / "nowhere.py")
    return root


@pytest.fixture(scope="module")
def messy_report(messy_repo):
    run = prodaudit("scan", str(messy_repo), "--format", "json", cwd=messy_repo)
    assert "Traceback" not in run.err
    return run


def test_messy_repo_completes_and_gates(messy_report):
    assert messy_report.code == 1, messy_report.err  # the real finding in ok.py still gates
    report = messy_report.json
    assert report["exit_code"] == 1 and report["errors"] == []
    assert [f["path"] for f in report["findings"] if f["rule_id"] == "SEC001"] == ["app/ok.py"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("app/broken.py", "unparseable"),
        ("app/image.py", "binary"),
        ("app/generated.py", "too-large"),
        ("app/latin1.py", "not-utf8"),
    ],
)
def test_bad_files_are_listed_with_reason(messy_report, path, reason):
    skipped = {(s["path"], s["reason"]) for s in messy_report.json["skipped"]}
    assert (path, reason) in skipped


def test_symlinks_do_not_loop_or_vanish(messy_report):
    paths = {s["path"] for s in messy_report.json["skipped"]}
    assert "app/dangling.py" in paths
    findings = messy_report.json["findings"]
    assert not any(f["path"].startswith("app/loop/") for f in findings)


def test_newer_syntax_is_scanned_and_bandit_skip_is_visible(messy_report):
    skipped = [s for s in messy_report.json["skipped"] if s["path"] == "app/newer.py"]
    assert [(s["reason"], s.get("engine")) for s in skipped] == [("unparseable", "bandit")]
    assert messy_report.json["summary"]["files_skipped"] >= 4


def test_empty_repository_is_ready(tmp_path):
    root = make_repo(tmp_path / "empty", {}, commit=False)
    run = prodaudit("scan", str(root), "--format", "json", cwd=root)
    assert run.code == 0, run.err
    assert run.json["verdict"] == "READY" and run.json["summary"]["files_scanned"] == 0


def test_path_that_does_not_exist(tmp_path):
    assert_one_line_error(prodaudit("scan", str(tmp_path / "nope"), cwd=tmp_path), 2, "path not found")


def test_invalid_config_value(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n", ".prodaudit.yml": "launch: publc\n"})
    assert_one_line_error(prodaudit("scan", str(root), cwd=root), 2, ".prodaudit.yml", "launch")


def test_unknown_config_key_suggests(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n", ".prodaudit.yml": "lauch: public\n"})
    assert_one_line_error(prodaudit("scan", str(root), cwd=root), 2, "lauch", "launch")


def test_rule_file_with_bad_field(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(Path(__file__).resolve().parent.parent / "rules", rules)
    target = next((rules / "security").glob("SEC001-*.yml"))
    target.write_text(target.read_text().replace("confidence: high", "confidence: sure"))
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    run = prodaudit("scan", str(root), cwd=root, env={"PRODAUDIT_RULES_DIR": str(rules)})
    assert_one_line_error(run, 2, target.name, "confidence")


def test_semgrep_missing(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": JWT_BAD})
    run = prodaudit("scan", str(root), cwd=root, env={"PRODAUDIT_SEMGREP": str(tmp_path / "no-semgrep")})
    assert_one_line_error(run, 2, "semgrep not found")


def test_semgrep_not_on_path_is_found_beside_python(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": JWT_BAD})
    git_dir = os.path.dirname(shutil.which("git"))
    run = prodaudit("scan", str(root), "--format", "json", cwd=root, env={"PATH": git_dir})
    assert run.code == 1, run.err
    assert run.json["findings"][0]["rule_id"] == "SEC001"


def test_engine_crash_exits_3(tmp_path):
    fake = tmp_path / "semgrep"
    fake.write_text("#!/bin/sh\necho 'segmentation fault' >&2\nexit 139\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    root = make_repo(tmp_path / "r", {"a.py": JWT_BAD})
    run = prodaudit("scan", str(root), "--format", "json", cwd=root, env={"PRODAUDIT_SEMGREP": str(fake)})
    assert run.code == 3, run.err
    assert run.json["exit_code"] == 3 and run.json["errors"][0]["engine"] == "semgrep"


def test_gitignored_folder_named_on_the_command_line_is_refused(tmp_path):
    root = make_repo(tmp_path / "r", {".gitignore": "corpora/\n", "a.py": "x = 1\n"})
    write(root, {"corpora/lib/app.py": JWT_BAD})
    assert_one_line_error(prodaudit("scan", "corpora/lib", cwd=root), 2, "ignored by git")
