"""Pieces the commands share: finding the scan root, loading config, the cache folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from prodaudit.errors import UsageError


def git_toplevel(start: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(start), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(out.stdout.strip()).resolve() if out.returncode == 0 and out.stdout.strip() else None


def resolve_root(paths: list[str]) -> tuple[Path, tuple[Path, ...]]:
    """The scan root (the git top-level if inside one) and the requested paths, resolved."""
    resolved = []
    for p in paths:
        path = Path(p)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"path not found: {p}")
        resolved.append(path.resolve())
    anchor = resolved[0] if resolved else Path.cwd().resolve()
    start = anchor if anchor.is_dir() else anchor.parent
    root = git_toplevel(start) or (start if resolved else Path.cwd().resolve())
    for p in resolved:
        if p != root and root not in p.parents:
            raise UsageError(f"path {p} is outside the scan root {root}; scan each repository separately")
    limits = tuple(p for p in resolved if p != root)
    return root, limits


def cache_dir(disabled: bool) -> Path | None:
    if disabled:
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "prodaudit"
