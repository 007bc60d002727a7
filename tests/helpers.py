"""Helpers for tests: real git repositories in temp dirs and the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, str | bytes], commit: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    write(root, files)
    if commit and files:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "init")
    return root


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)


def prodaudit(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 600) -> Run:
    full_env = {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(Path(tempfile.gettempdir()) / "prodaudit-test-cache")}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "prodaudit", *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=timeout
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(run: Run, code: int, *needles: str) -> None:
    """The CLI failed with `code` and said so in one stderr line containing every needle, no traceback."""
    assert run.code == code, (run.code, run.out, run.err)
    assert "Traceback" not in run.err
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, run.err
    for needle in needles:
        assert needle in lines[0], lines[0]
