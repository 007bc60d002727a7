from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from prodaudit.config import Config
from prodaudit.errors import UsageError
from prodaudit.targets import language_of, select_targets


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=root, check=True, capture_output=True)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    return root


def _write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _select(root: Path, paths: list[Path] | None = None, **config):
    targets, skipped = select_targets(root, paths or [], Config.model_validate(config))
    return {t.path: t for t in targets}, {s.path: s for s in skipped}


@pytest.fixture(params=["git", "walk"])
def tree(request, tmp_path) -> Path:
    """The same checks in a git work tree and in a plain folder (the walk fallback)."""
    if request.param == "git":
        return _repo(tmp_path)
    root = tmp_path / "plain"
    root.mkdir()
    return root


def test_gitignore_honoured_and_untracked_included(tmp_path):
    root = _repo(tmp_path)
    _write(root, ".gitignore", "secret_build/\n*.generated.py\n")
    _write(root, "app/tracked.py")
    _write(root, "secret_build/out.py")
    _write(root, "app/models.generated.py")
    _git(root, "add", "app/tracked.py", ".gitignore")
    _write(root, "app/untracked.py")
    targets, skipped = _select(root)
    assert set(targets) == {"app/tracked.py", "app/untracked.py"}
    assert skipped == {}


def test_gitignore_approximated_without_git(tmp_path):
    root = tmp_path / "plain"
    _write(root, ".gitignore", "# comment\nout/\n*.log.py\n/top_only.py\ndocs/gen\n!keep.log.py\n")
    _write(root, "app/main.py")
    _write(root, "app/out/gen.py")
    _write(root, "x.log.py")
    _write(root, "keep.log.py")
    _write(root, "top_only.py")
    _write(root, "sub/top_only.py")
    _write(root, "docs/gen/a.py")
    _write(root, "sub/docs/gen/a.py")
    targets, skipped = _select(root)
    assert set(targets) == {"app/main.py", "keep.log.py", "sub/top_only.py", "sub/docs/gen/a.py"}
    assert skipped == {}


def test_tracked_but_deleted_file_dropped(tmp_path):
    root = _repo(tmp_path)
    _write(root, "a.py")
    gone = _write(root, "b.py")
    _git(root, "add", "-A")
    gone.unlink()
    targets, _ = _select(root)
    assert list(targets) == ["a.py"]


def test_default_excludes_listed_once_per_folder(tree):
    for i in range(50):
        _write(tree, f"node_modules/pkg{i}/index.js", "module.exports = 1\n")
    _write(tree, "node_modules/pkg0/node_modules/inner/index.js", "x\n")
    _write(tree, "web/vendor/lib.js", "x\n")
    _write(tree, "build/lib/app.py")
    _write(tree, "static/app.min.js", "x\n")
    _write(tree, "pkg.egg-info/PKG-INFO.txt", "x\n")
    _write(tree, "app/__pycache__/mod.cpython-311.pyc", b"\0\0")
    _write(tree, "app/main.py")
    targets, skipped = _select(tree)
    assert list(targets) == ["app/main.py"]
    assert {p: s.reason for p, s in skipped.items()} == {
        "build/": "excluded",
        "node_modules/": "excluded",
        "pkg.egg-info/": "excluded",
        "static/app.min.js": "excluded",
        "web/vendor/": "excluded",
    }


def test_virtualenv_by_any_name_is_excluded(tree):
    _write(tree, "env/pyvenv.cfg", "home = /usr\n")
    _write(tree, "env/lib/python3.11/site.py")
    _write(tree, "envelope/env/code.py")  # a folder named env that is not a virtualenv
    targets, skipped = _select(tree)
    assert list(targets) == ["envelope/env/code.py"]
    assert list(skipped) == ["env/"]


def test_config_include_and_exclude(tree):
    _write(tree, "src/app.py")
    _write(tree, "src/legacy/old.py")
    _write(tree, "scripts/tool.py")
    targets, skipped = _select(tree, include=["src/"], exclude=["legacy/"])
    assert list(targets) == ["src/app.py"]
    assert list(skipped) == ["src/legacy/"]


def test_binary_too_large_and_not_utf8(tree):
    _write(tree, "ok.py", "s = 'caf\u00e9'\n")
    _write(tree, "blob.py", b"x = 1\n\0\0\0")
    _write(tree, "big.json", "[" + "1," * 600 + "1]")
    _write(tree, "latin.py", "s = 'caf\u00e9'\n".encode("latin-1"))
    _write(tree, "logo.png", b"\x89PNG\0\0")  # no language: neither a target nor listed
    targets, skipped = _select(tree, max_file_size=1000)
    assert list(targets) == ["ok.py"]
    assert {p: s.reason for p, s in skipped.items()} == {
        "big.json": "too-large",
        "blob.py": "binary",
        "latin.py": "not-utf8",
    }
    assert "1203 bytes" in skipped["big.json"].detail


def test_symlink_to_parent_folder_terminates_and_is_reported(tree):
    _write(tree, "pkg/mod.py")
    os.symlink("..", tree / "pkg" / "loop")
    targets, skipped = _select(tree)
    assert list(targets) == ["pkg/mod.py"]
    assert skipped["pkg/loop/"].reason == "symlink"
    assert "loop" in skipped["pkg/loop/"].detail


def test_self_referencing_symlink_is_a_loop(tree):
    os.symlink("me.py", tree / "me.py")
    _, skipped = _select(tree)
    assert skipped["me.py"].reason == "symlink"
    assert "loop" in skipped["me.py"].detail


def test_dangling_symlink(tree):
    _write(tree, "a.py")
    os.symlink("missing.py", tree / "gone.py")
    targets, skipped = _select(tree)
    assert list(targets) == ["a.py"]
    assert skipped["gone.py"].reason == "symlink"
    assert "dangling" in skipped["gone.py"].detail


def test_symlink_outside_root(tree, tmp_path):
    outside = _write(tmp_path / "elsewhere", "secret.py")
    os.symlink(outside, tree / "link.py")
    os.symlink(outside.parent, tree / "linkdir")
    _, skipped = _select(tree)
    assert skipped["link.py"].reason == "symlink"
    assert "outside the scan root" in skipped["link.py"].detail
    assert "outside the scan root" in skipped["linkdir/"].detail


def test_file_symlink_inside_root_is_scanned_once(tree):
    _write(tree, "real.py")
    os.symlink("real.py", tree / "alias.py")
    targets, skipped = _select(tree)
    assert list(targets) == ["real.py"]
    assert skipped["alias.py"].detail == "same file as real.py (scanned there)"
    # Limited to the link alone, the link's content is scanned under the link's name.
    targets, _ = _select(tree, [tree / "alias.py"])
    assert list(targets) == ["alias.py"]


def test_fifo_is_not_read(tmp_path):
    root = tmp_path / "plain"
    _write(root, "a.py")
    os.mkfifo(root / "pipe.py")  # reading it would block forever
    targets, skipped = _select(root)
    assert list(targets) == ["a.py"]
    assert skipped["pipe.py"].reason == "unreadable"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tree):
    path = _write(tree, "locked.py")
    path.chmod(0)
    try:
        _, skipped = _select(tree)
    finally:
        path.chmod(0o644)
    assert skipped["locked.py"].reason == "unreadable"


def test_path_not_found_and_outside_root(tree, tmp_path):
    with pytest.raises(UsageError, match="^path not found: .*nope$"):
        select_targets(tree, [tree / "nope"], Config())
    outside = tmp_path / "other"
    outside.mkdir()
    with pytest.raises(UsageError, match="outside the scan root"):
        select_targets(tree, [outside], Config())


def test_paths_limit_the_scan(tree):
    _write(tree, "app/a.py")
    _write(tree, "app/sub/b.py")
    _write(tree, "lib/c.py")
    _write(tree, "d.py")
    targets, _ = _select(tree, [tree / "app", tree / "app/sub/b.py", tree / "d.py"])
    assert list(targets) == ["app/a.py", "app/sub/b.py", "d.py"]


def test_relative_paths_resolve_against_cwd(tree, monkeypatch):
    _write(tree, "app/a.py")
    _write(tree, "lib/c.py")
    monkeypatch.chdir(tree / "app")
    targets, _ = _select(tree, [Path(".")])
    assert list(targets) == ["app/a.py"]


def test_explicit_ignored_file_is_reported_not_dropped(tmp_path):
    root = _repo(tmp_path)
    _write(root, ".gitignore", "local_settings.py\n")
    _write(root, "local_settings.py")
    _write(root, "notes.md", "hi\n")
    targets, skipped = _select(root, [root / "local_settings.py", root / "notes.md"])
    assert targets == {}
    assert skipped["local_settings.py"].reason == "excluded"
    assert skipped["notes.md"].reason == "unsupported"


def test_not_a_git_repo_walk(tmp_path):
    root = tmp_path / "plain"
    _write(root, "app/main.py")
    _write(root, "app/ui.tsx", "export const x = 1\n")
    _write(root, "README.md", "# hi\n")
    targets, skipped = _select(root)
    assert list(targets) == ["app/main.py", "app/ui.tsx"]
    assert targets["app/main.py"].abspath == str(root.resolve() / "app" / "main.py")
    assert skipped == {}


def test_subfolder_of_a_repo_as_root(tmp_path):
    root = _repo(tmp_path)
    _write(root, "svc/a.py")
    _write(root, "other/b.py")
    targets, _ = _select(root / "svc")
    assert list(targets) == ["a.py"]


def test_untracked_nested_repo_is_listed_once(tmp_path):
    root = _repo(tmp_path)
    _write(root, "a.py")
    nested = root / "nested"
    nested.mkdir()
    _git(nested, "init", "-q")
    _write(nested, "b.py")
    targets, skipped = _select(root)
    assert list(targets) == ["a.py"]
    assert skipped["nested/"].reason == "excluded"


def test_test_path_detection(tree):
    for rel in ["tests/test_api.py", "pkg/test_util.py", "pkg/util_test.py", "conftest.py",
                "web/app.test.js", "web/app.spec.ts", "web/__tests__/x.js", "pkg/util.py", "web/app.js",
                "pkg/testing_helpers.py"]:
        _write(tree, rel, "x\n")
    targets, _ = _select(tree)
    assert {p for p, t in targets.items() if t.is_test} == {
        "tests/test_api.py", "pkg/test_util.py", "pkg/util_test.py", "conftest.py",
        "web/app.test.js", "web/app.spec.ts", "web/__tests__/x.js",
    }
    targets, _ = _select(tree, test_paths=["pkg/"])
    assert {p for p, t in targets.items() if t.is_test} == {"pkg/test_util.py", "pkg/util_test.py", "pkg/util.py",
                                                           "pkg/testing_helpers.py"}


def test_languages(tree):
    files = {
        "a.py": "python", "a.pyi": "python", "a.mjs": "javascript", "a.cjs": "javascript", "a.jsx": "javascript",
        "a.ts": "typescript", "a.tsx": "typescript", "Dockerfile": "dockerfile", "Dockerfile.prod": "dockerfile",
        "api.dockerfile": "dockerfile", "Containerfile": "dockerfile", "k8s/deploy.yaml": "yaml",
        ".github/workflows/ci.yml": "yaml", "db/001.sql": "sql", "package.json": "json", ".env": "generic",
        ".env.production": "generic", "setup.cfg": "generic", "Procfile": "generic", "run.sh": "generic",
        "bin/manage": "python", "bin/serve": "javascript",
    }
    for rel in files:
        _write(tree, rel, "x\n")
    _write(tree, "bin/manage", "#!/usr/bin/env python3\nprint(1)\n")
    _write(tree, "bin/serve", "#!/usr/bin/env node\n")
    _write(tree, "bin/blob", "no shebang\n")
    _write(tree, "Makefile", "all:\n")
    targets, skipped = _select(tree)
    assert {p: t.language for p, t in targets.items()} == files
    assert skipped == {}
    assert language_of("notes.md") is None and language_of("DOCKERFILE") == "dockerfile"


def test_order_is_sorted_and_posix(tree):
    for rel in ["b/z.py", "a.py", "b/a.py", "B.py"]:
        _write(tree, rel)
    targets, _ = select_targets(tree, [], Config())
    assert [t.path for t in targets] == sorted(["b/z.py", "a.py", "b/a.py", "B.py"])


def test_minified_javascript_is_skipped_with_its_reason(tmp_path):
    # Wagtail ships bundles with 100 KB lines; semgrep's taint rules time out on them (exit 3).
    root = _repo(tmp_path)
    _write(root, "static/app.bundle.js", "var a=1;" * 1000 + "\n")
    _write(root, "src/app.js", "const a = 1;\n" * 2000)
    _write(root, "src/long.py", "x = '" + "a" * 9000 + "'\n")  # only JavaScript is judged this way
    targets, skipped = select_targets(root, [], Config())
    assert sorted(t.path for t in targets) == ["src/app.js", "src/long.py"]
    [skip] = [s for s in skipped if s.path == "static/app.bundle.js"]
    assert skip.reason == "minified" and "8000 characters" in skip.detail
