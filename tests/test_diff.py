"""`--diff-base`: only what a change introduces gates; real git repositories, the real CLI."""

import json

import pytest
from helpers import git, make_repo, prodaudit, write

BAD = "import jwt\n\ndef user(token):\n    return jwt.decode(token, verify=False)\n"


def branch(root, files=None, delete=(), message="change"):
    git(root, "checkout", "-q", "-B", "feature")
    write(root, files or {})
    for path in delete:
        git(root, "rm", "-q", path)
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)


def scan_diff(root, *extra):
    run = prodaudit("scan", "--diff-base", "main", "--format", "json", *extra, cwd=root)
    assert "Traceback" not in run.err, run.err
    return run


def test_existing_finding_in_a_touched_file_does_not_gate(tmp_path):
    root = make_repo(tmp_path / "r", {"app/auth.py": BAD, "app/other.py": "x = 1\n"})
    branch(root, {"app/auth.py": "# a comment added above\n\n" + BAD + "\nVALUE = 2\n"})
    run = scan_diff(root)
    assert run.code == 0, run.out
    [finding] = run.json["findings"]
    assert finding["new"] is False and finding["status"] == "open"
    assert run.json["verdict"] == "READY" and run.json["summary"]["files_scanned"] == 1


def test_new_finding_gates_and_renamed_file_keeps_identity(tmp_path):
    root = make_repo(tmp_path / "r", {"app/auth.py": BAD})
    git(root, "checkout", "-q", "-B", "feature")
    git(root, "mv", "app/auth.py", "app/login.py")
    write(root, {"app/tokens.py": BAD})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "rename and add")
    run = scan_diff(root)
    assert run.code == 1
    flags = {f["path"]: f["new"] for f in run.json["findings"]}
    assert flags == {"app/login.py": False, "app/tokens.py": True}


def test_change_that_makes_an_untouched_line_bad_is_new(tmp_path):
    base = "from mylib import decode\n\ndef user(token):\n    return decode(token, verify=False)\n"
    root = make_repo(tmp_path / "r", {"app/auth.py": base})
    branch(root, {"app/auth.py": base.replace("from mylib import decode", "from jwt import decode")})
    run = scan_diff(root)
    assert run.code == 1
    [finding] = run.json["findings"]
    assert finding["line"] == 4 and finding["new"] is True


def test_empty_diff_is_ready(tmp_path):
    root = make_repo(tmp_path / "r", {"app/auth.py": BAD})
    branch(root)
    run = scan_diff(root)
    assert run.code == 0 and run.json["verdict"] == "READY" and run.json["findings"] == []
    text = prodaudit("scan", "--diff-base", "main", cwd=root)
    assert "0 files changed" in text.out


def test_deleted_file_is_fine(tmp_path):
    root = make_repo(tmp_path / "r", {"app/auth.py": BAD, "app/x.py": "x = 1\n"})
    branch(root, delete=["app/auth.py"])
    run = scan_diff(root)
    assert run.code == 0 and run.json["findings"] == []


def test_config_and_baseline_come_from_the_merge_base(tmp_path):
    root = make_repo(tmp_path / "r", {"app/x.py": "x = 1\n", ".prodaudit.yml": "launch: public\n"})
    # The change adds a finding, disables the rule and baselines the finding: none of it counts.
    git(root, "checkout", "-q", "-B", "feature")
    write(root, {"app/auth.py": BAD})
    assert prodaudit("baseline", cwd=root).code == 0
    write(root, {".prodaudit.yml": "launch: public\nrules:\n  SEC001: {enabled: false}\n"})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "sneaky")
    run = scan_diff(root)
    assert run.code == 1, run.out
    [finding] = run.json["findings"]
    assert finding["status"] == "open" and finding["new"] is True
    text = prodaudit("scan", "--diff-base", "main", cwd=root).out
    assert "policy change needs review" in text and ".prodaudit-baseline.json changed" in text


def test_unknown_base_and_shallow_clone_exit_2(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": "x = 1\n"})
    for i in range(3):
        write(root, {"a.py": f"x = {i}\n"})
        git(root, "commit", "-q", "-am", f"c{i}")
    run = prodaudit("scan", "--diff-base", "nope", cwd=root)
    assert run.code == 2 and "nope" in run.err and "Traceback" not in run.err
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{root}", str(shallow))
    run = prodaudit("scan", "--diff-base", "HEAD~2", cwd=shallow)
    assert run.code == 2 and "shallow" in run.err, run.err
    assert len(run.err.strip().splitlines()) == 1


def test_new_stop_ship_suppression_is_flagged_and_head_policy_opts_out(tmp_path):
    root = make_repo(tmp_path / "r", {"app/x.py": "x = 1\n", ".prodaudit.yml": "launch: public\n"})
    branch(root, {
        "app/auth.py": BAD.replace("verify=False)", "verify=False)  # prodaudit: ignore[SEC001] -- trust me"),
        ".prodaudit.yml": "launch: internal\n",
    })
    run = prodaudit("scan", "--diff-base", "main", cwd=root)
    assert run.code == 0
    assert "new suppression of Stop-Ship SEC001 at app/auth.py:4 -- trust me" in run.out
    comment = prodaudit("scan", "--diff-base", "main", "--format", "markdown", cwd=root).out
    section = comment.split("## Policy changes that need review", 1)[1]
    assert "the prodaudit config differs from the merge-base" in section and "SEC001 at app/auth.py:4" in section
    # Opting out of policy from the base uses the branch's own config.
    own = prodaudit("scan", "--diff-base", "main", "--head-policy", "--format", "json", cwd=root)
    assert own.json["launch"]["type"] == "internal"
    assert prodaudit("scan", "--diff-base", "main", "--format", "json", cwd=root).json["launch"]["type"] == "public"
    assert prodaudit("scan", "--head-policy", cwd=root).code == 2
