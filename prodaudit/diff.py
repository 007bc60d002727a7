"""`--diff-base REF`: gate only what a change introduces (DESIGN §1.5).

The changed files are scanned at HEAD (the work tree) and, as they were, at the merge-base; a
HEAD finding is new when its fingerprint is absent at the base. The base copies are written under
their HEAD names, so a renamed file keeps its findings' identities. The config and the baseline
come from the merge-base too, so a change cannot lower its own bar; changes to them are noted."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from prodaudit.baseline import DEFAULT_BASELINE
from prodaudit.config import load_config
from prodaudit.errors import UsageError
from prodaudit.model import Category, Status
from prodaudit.report import ScanReport
from prodaudit.scan import ScanOptions, empty_report, run_scan

CONFIG_FILES = (".prodaudit.yml", ".prodaudit.yaml", "pyproject.toml")


@dataclass(frozen=True)
class Change:
    merge_base: str
    changed: dict[str, str | None]  # HEAD path -> its path at the merge-base (None: added)
    deleted: tuple[str, ...]


def _git(root: Path, *args: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, input=input_bytes, check=False)


def resolve_change(root: Path, ref: str) -> Change:
    if _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise UsageError(f"--diff-base {ref}: no such commit here; {_fetch_hint(root, ref)}")
    base = _git(root, "merge-base", ref, "HEAD")
    if base.returncode != 0:
        raise UsageError(f"--diff-base {ref}: no merge-base with HEAD; {_fetch_hint(root, ref)}")
    merge_base = base.stdout.decode().strip()
    # Work tree against the merge-base: committed, staged and unstaged changes, renames detected.
    diff = _git(root, "-c", "core.quotePath=off", "diff", "--name-status", "-z", "-M", merge_base, "--")
    if diff.returncode != 0:
        raise UsageError(f"--diff-base {ref}: git diff failed: {diff.stderr.decode().strip()[:200]}")
    changed: dict[str, str | None] = {}
    deleted: list[str] = []
    fields = diff.stdout.decode("utf-8", "surrogateescape").split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            changed[new] = old if status.startswith("R") else None
            i += 3
            continue
        path = fields[i + 1]
        if status.startswith("D"):
            deleted.append(path)
        elif status.startswith("A"):
            changed[path] = None
        else:  # M, T
            changed[path] = path
        i += 2
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    for path in untracked.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if path:
            changed.setdefault(path, None)
    return Change(merge_base=merge_base, changed=changed, deleted=tuple(sorted(deleted)))


def _new_stop_ship_suppressions(head: ScanReport, suppressed_at_base: set[str]) -> list[str]:
    """A change that silences a Stop-Ship finding is a policy decision a reviewer should see."""
    return [
        f"policy change needs review: new suppression of Stop-Ship {f.rule_id} at {f.path}:{f.line}"
        f" -- {f.suppression.reason if f.suppression else ''}"
        for f in head.findings
        if f.status is Status.SUPPRESSED and f.category is Category.STOP_SHIP and f.fingerprint not in suppressed_at_base
    ]


def _within(path: Path, limits: tuple[Path, ...]) -> bool:
    return not limits or any(path == limit or limit in path.parents for limit in limits)


def _fetch_hint(root: Path, ref: str) -> str:
    shallow = _git(root, "rev-parse", "--is-shallow-repository").stdout.decode().strip() == "true"
    if shallow:
        return (f"this clone is shallow: fetch the history, e.g. `git fetch --unshallow origin` or "
                f"`git fetch origin {ref}` with enough depth (actions/checkout: fetch-depth: 0)")
    return f"fetch it first, e.g. `git fetch origin {ref}`"


def materialize_base(root: Path, commit: str, files: dict[str, str], into: Path) -> set[str]:
    """Write each `files` entry (name under `into` -> path at `commit`) that exists there; return the names written."""
    names = list(files)
    request = "".join(f"{commit}:{files[n]}\n" for n in names).encode("utf-8", "surrogateescape")
    proc = _git(root, "cat-file", "--batch", input_bytes=request)
    if proc.returncode != 0:
        raise UsageError(f"could not read files at the merge-base: {proc.stderr.decode().strip()[:200]}")
    data, pos, written = proc.stdout, 0, set()
    for name in names:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        blob, pos = data[pos : pos + size], pos + size + 1
        if header[1] == b"blob":
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            written.add(name)
    return written


def run_diff_scan(options: ScanOptions, ref: str, config_is_explicit: bool, baseline_is_explicit: bool) -> ScanReport:
    root = options.root
    change = resolve_change(root, ref)
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="prodaudit-base-") as tmp:
        base_root, policy_root = Path(tmp) / "tree", Path(tmp) / "policy"
        if not config_is_explicit:
            materialize_base(root, change.merge_base, {n: n for n in CONFIG_FILES}, policy_root)
            base_config, _source = load_config(policy_root, None)
            if base_config != options.config:
                notes.append("policy change needs review: the prodaudit config differs from the merge-base; the merge-base version is in force")
            options = replace(options, config=base_config, config_source=f"{ref} (merge-base)")
        if not baseline_is_explicit:
            name = options.config.baseline or DEFAULT_BASELINE
            found = materialize_base(root, change.merge_base, {name: name}, policy_root)
            if name in change.changed or name in change.deleted:
                notes.append(f"policy change needs review: {name} changed; the merge-base version is in force")
            options = replace(options, baseline=policy_root / name if found else None)
        head_files = [p for p in change.changed if ((root / p).is_file() or (root / p).is_symlink()) and _within(root / p, options.paths)]
        if not head_files:
            report = empty_report(options)
            notes.insert(0, "0 files changed" if not change.changed and not change.deleted else "no changed file left to scan")
        else:
            on_base = {head_path: base_path for head_path, base_path in change.changed.items() if base_path}
            base_files = materialize_base(root, change.merge_base, on_base, base_root)
            head_options = replace(options, paths=tuple(root / p for p in head_files))
            base_options = replace(options, root=base_root, paths=tuple(base_root / p for p in sorted(base_files)), baseline=None)
            # The two scans are independent; running them side by side halves the engines' start-up wait.
            with ThreadPoolExecutor(max_workers=2) as pool:
                head_future = pool.submit(run_scan, head_options)
                base_future = pool.submit(run_scan, base_options) if base_files else None
                head = head_future.result()
                base = base_future.result() if base_future else None
            base_fingerprints: set[str] = set()
            base_suppressed: set[str] = set()
            if base is not None:
                head = replace(head, errors=head.errors + base.errors)
                base_fingerprints = {f.fingerprint for f in base.findings}
                base_suppressed = {f.fingerprint for f in base.findings if f.status is Status.SUPPRESSED}
            notes.extend(_new_stop_ship_suppressions(head, base_suppressed))
            report = replace(
                head,
                findings=tuple(replace(f, new=f.fingerprint not in base_fingerprints) for f in head.findings),
            )
    return replace(report, files_changed=len(change.changed) + len(change.deleted), notes=report.notes + tuple(notes))
