"""The pre-commit hook (.pre-commit-hooks.yaml) through real pre-commit and real `git commit`.

pre-commit installs this checkout into its own virtualenv (from the package index), so the test
copies the package into a scratch git repository and points a consumer repository at it.
`pre-commit try-repo` reinstalls that environment on every call (it uses a throwaway store), so
one test runs it once; the commit test uses an installed hook with PRE_COMMIT_HOME in tmp_path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import git, make_repo, write

SOURCE = Path(__file__).resolve().parents[1]
BAD = "import jwt\nclaims = jwt.decode(t, verify=False)\n"
FIXED = 'import jwt\nclaims = jwt.decode(t, key, algorithms=["HS256"])\n'


def _hook_repo(dest: Path) -> tuple[Path, str]:
    """A git repository holding this checkout's package, rules and hook manifest."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(SOURCE / name, dest / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in ("prodaudit", "rules"):
        shutil.copytree(SOURCE / folder, dest / folder, ignore=skip)
    make_repo(dest, {})
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "hook")
    return dest, git(dest, "rev-parse", "HEAD").strip()


def _commit(repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), "commit", "-m", "change"], capture_output=True, text=True, env=env, timeout=300
    )


def test_manifest_declares_the_hook_pre_commit_expects() -> None:
    [hook] = yaml.safe_load((SOURCE / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "prodaudit" and hook["entry"] == "prodaudit scan"
    assert hook["language"] == "python" and hook["pass_filenames"] is True and hook["require_serial"] is True
    assert {"python", "javascript", "ts", "dockerfile", "yaml", "sql"} <= set(hook["types_or"])


def test_hook_blocks_a_stop_ship_commit_and_passes_the_fix(tmp_path: Path) -> None:
    pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra")
    hook_repo, rev = _hook_repo(tmp_path / "hook")
    # A Stop-Ship finding already committed before the hook: only staged files are scanned, so it
    # must not block later commits that do not touch it.
    config = {"repos": [{"repo": str(hook_repo), "rev": rev, "hooks": [{"id": "prodaudit"}]}]}
    project = make_repo(tmp_path / "project", {"legacy.py": BAD, ".pre-commit-config.yaml": yaml.safe_dump(config)})
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "NO_COLOR": "1",
    }
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=project, capture_output=True, text=True, env=env
    )
    assert install.returncode == 0, install.stderr

    write(project, {"app/auth.py": BAD, "app/clean.py": "def add(a, b):\n    return a + b\n", "README.md": "# x\n"})
    git(project, "add", "-A")
    blocked = _commit(project, env)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "SEC001" in output and "app/auth.py:2" in output, output
    assert "exit code: 1" in output, output  # NOT READY, not a crash (3)
    assert "legacy.py" not in output and "scanned 2 files" in output, output  # staged code files only
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"

    write(project, {"app/auth.py": FIXED})
    git(project, "add", "-A")
    passed = _commit(project, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout + passed.stderr
    assert git(project, "rev-list", "--count", "HEAD").strip() == "2"


def test_scan_of_many_named_files_scans_only_those(tmp_path: Path) -> None:
    """pre-commit passes the staged files as arguments: only they are targets, whatever else is in the tree."""
    from helpers import prodaudit

    files = {f"pkg{i % 5}/mod_{i}.py": f"def f{i}(a):\n    return a + {i}\n" for i in range(60)}
    project = make_repo(tmp_path / "project", {**files, "legacy/auth.py": BAD, "deploy/app.yml": "replicas: 2\n"})
    named = sorted(files)[:45] + ["deploy/app.yml"]
    run = prodaudit("scan", *named, "--format", "json", cwd=project)
    assert run.code == 0, run.err
    assert run.json["summary"]["files_scanned"] == 46 and run.json["findings"] == [] and run.json["skipped"] == []
    # Named from a subfolder, relative paths still resolve against the scan root.
    run = prodaudit("scan", "auth.py", "--format", "json", cwd=project / "legacy")
    assert run.code == 1 and [f["path"] for f in run.json["findings"]] == ["legacy/auth.py"], run.err


def test_try_repo_blocks_staged_stop_ship(tmp_path: Path) -> None:
    """`pre-commit try-repo`, the way users try a hook before adopting it."""
    pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra")
    hook_repo, _rev = _hook_repo(tmp_path / "hook")
    project = make_repo(tmp_path / "project", {"legacy.py": BAD})
    write(project, {"app/auth.py": BAD})
    git(project, "add", "-A")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "prodaudit"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600,
    )
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert "app/auth.py:2" in output and "exit code: 1" in output, output
