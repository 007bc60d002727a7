"""Which files to scan: git-aware listing, excludes, language, size/binary/encoding limits, and a skip log.

Every file that looks like code but is not scanned appears in `skipped` with a reason, so a gate
never passes silently over code it did not read. Excluded folders appear once, not file by file.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prodaudit import pathmatch
from prodaudit.config import Config
from prodaudit.errors import UsageError
from prodaudit.model import Skipped, Target

BINARY_SNIFF = 8192
# Caches hold no source; listing every `__pycache__/` of a non-git tree would only be noise.
_SILENT_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})

_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".dockerfile": "dockerfile",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".sql": "sql",
    ".json": "json",
    ".txt": "generic",
    ".cfg": "generic",
    ".ini": "generic",
    ".toml": "generic",
    ".conf": "generic",
    ".properties": "generic",
    ".sh": "generic",
}
_SHEBANGS = (("python", "python"), ("node", "javascript"), ("bash", "generic"), ("/sh", "generic"), (" sh", "generic"))


# A JavaScript line this long is a minified or bundled build output, not source anyone edits.
MINIFIED_LINE = 5000


def _longest_line(data: bytes) -> int:
    return max((len(line) for line in data.split(b"\n")), default=0)


def language_of(name: str) -> str | None:
    """The language a file name implies, or None (no rules read it). `name` is a base name."""
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.startswith(("dockerfile.", "containerfile.")):
        return "dockerfile"
    if lower == ".env" or lower.startswith(".env."):
        return "generic"
    if lower == "procfile":
        return "generic"
    _, dot, ext = lower.rpartition(".")
    return _EXTENSIONS.get("." + ext) if dot else None


def _shebang_language(abspath: str) -> str | None:
    try:
        with open(abspath, "rb") as fh:
            first = fh.readline(200)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    line = first.decode("latin-1")
    for needle, language in _SHEBANGS:
        if needle in line:
            return language
    return None


def select_targets(root: Path, paths: list[Path], config: Config) -> tuple[list[Target], list[Skipped]]:
    """The files to scan under `root` (limited to `paths`, if any), and what was left out and why."""
    root = Path(os.path.realpath(root))
    if not root.is_dir():
        raise UsageError(f"path not found: {root}")
    limits = _relative_limits(root, paths)
    selector = _Selector(root, config)
    listed = _git_files(root, limits)
    if listed is None:
        listed = _walk(root, limits, selector)
    else:
        _refuse_ignored_folders(root, limits, listed)
    for rel in listed:
        selector.consider(rel)
    selector.account_for_explicit_files(limits)
    return selector.result()


# ---------------------------------------------------------------------------------------------
# Path arguments


@dataclass(frozen=True)
class _Limit:
    rel: str  # POSIX relative to root; "" for the root itself
    is_file: bool


def _relative_limits(root: Path, paths: list[Path]) -> list[_Limit]:
    out: dict[str, _Limit] = {}
    for p in paths:
        absolute = os.path.abspath(p)
        if not os.path.lexists(absolute):
            raise UsageError(f"path not found: {p}")
        rel = _under(root, absolute)
        if rel is None:
            raise UsageError(f"path {p} is outside the scan root {root}")
        is_file = not os.path.isdir(absolute) or os.path.islink(absolute)
        out[rel] = _Limit(rel, is_file)
    limits = sorted(out.values(), key=lambda lim: lim.rel)
    if any(lim.rel == "" for lim in limits):
        return []  # the whole root
    # Drop paths inside a folder that is already listed.
    dirs = [lim.rel for lim in limits if not lim.is_file]
    return [lim for lim in limits if not any(lim.rel != d and lim.rel.startswith(d + "/") for d in dirs)]


def _under(root: Path, absolute: str) -> str | None:
    """`absolute` relative to root (POSIX): as written, then with its parent folders resolved, then fully
    resolved (a root reached through a symlinked folder)."""
    head, tail = os.path.split(absolute)
    for candidate in (absolute, os.path.join(os.path.realpath(head), tail), os.path.realpath(absolute)):
        rel = os.path.relpath(os.path.normpath(candidate), root)
        if rel == ".":
            return ""
        if rel != ".." and not rel.startswith(".." + os.sep):
            return Path(rel).as_posix()
    return None



# ---------------------------------------------------------------------------------------------
# Listing


def _git_files(root: Path, limits: list[_Limit]) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None when root is not in a git work tree."""
    cmd = ["git", "--literal-pathspecs", "-c", "core.quotePath=off", "ls-files", "-z",
           "--cached", "--others", "--exclude-standard"]
    if limits:
        cmd += ["--", *(lim.rel for lim in limits)]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None  # git missing or hung: fall back to walking the tree
    if proc.returncode != 0:
        return None  # not a work tree (or one git refuses, e.g. dubious ownership): walk instead
    # A file both staged and modified is listed once per stage; keep one.
    return sorted({os.fsdecode(p) for p in proc.stdout.split(b"\0") if p})


def _refuse_ignored_folders(root: Path, limits: list[_Limit], listed: list[str]) -> None:
    """A folder named on the command line that git ignores would scan nothing and pass: refuse it."""
    for lim in limits:
        if lim.is_file or any(rel.startswith(lim.rel + "/") for rel in listed):
            continue
        check = subprocess.run(["git", "check-ignore", "-q", "--", lim.rel], cwd=root, capture_output=True, check=False)
        if check.returncode == 0:
            raise UsageError(
                f"path {lim.rel} is ignored by git in {root}, so nothing in it would be scanned; "
                "scan it from outside this repository or stop ignoring it"
            )


def _walk(root: Path, limits: list[_Limit], selector: _Selector) -> list[str]:
    ignore = _GitIgnore.read(root / ".gitignore")
    out: list[str] = []
    starts = limits or [_Limit("", False)]
    for lim in starts:
        if lim.is_file:
            if not ignore.ignored(lim.rel, is_dir=False):
                out.append(lim.rel)
            continue
        out.extend(_walk_dir(root, lim.rel, ignore, selector))
    return out


def _walk_dir(root: Path, start: str, ignore: _GitIgnore, selector: _Selector) -> Iterator[str]:
    top = os.path.join(root, start) if start else str(root)
    def unreadable(exc: OSError) -> None:  # os.walk would otherwise drop the folder silently
        rel = _rel(root, exc.filename) if exc.filename else None
        if rel:
            selector.skip_folder(rel, "unreadable", exc.strerror or str(exc))

    for dirpath, dirnames, filenames in os.walk(top, onerror=unreadable, followlinks=False):
        rel_dir = Path(os.path.relpath(dirpath, root)).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        keep = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if ignore.ignored(rel, is_dir=True):
                continue
            if selector.excluded_dir(rel):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                selector.directory_symlink(rel)  # never descended into: no loops
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not ignore.ignored(rel, is_dir=False):
                yield rel


class _GitIgnore:
    """A root `.gitignore`, approximately: ordered patterns, `!` re-includes, a middle `/` anchors."""

    def __init__(self, patterns: list[tuple[str, bool, bool]]):
        self.patterns = patterns  # (pattern, negated, dir_only)

    @classmethod
    def read(cls, path: Path) -> _GitIgnore:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return cls([])
        patterns = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            line = line[1:] if line.startswith("\\") else line
            dir_only = line.endswith("/")
            body = line.rstrip("/")
            if "/" in body and not body.startswith("/") and not body.startswith("**/"):
                body = "/" + body  # gitignore: a slash inside the pattern anchors it to the root
            if body:
                patterns.append((body, negated, dir_only))
        return cls(patterns)

    def ignored(self, rel: str, is_dir: bool) -> bool:
        result = False
        for pattern, negated, dir_only in self.patterns:
            if dir_only and not is_dir:
                # `build/` still ignores files inside a build folder, just not a file named build.
                if "/" not in rel or not pathmatch.matches(rel.rsplit("/", 1)[0], pattern):
                    continue
            if pathmatch.matches(rel, pattern):
                result = not negated
        return result


# ---------------------------------------------------------------------------------------------
# Selection


class _Selector:
    """Turns listed paths into targets and skip records."""

    def __init__(self, root: Path, config: Config):
        self.root = root
        self.config = config
        self.excludes = config.excludes
        self.targets: dict[str, Target] = {}
        self.skipped: dict[str, Skipped] = {}
        self.seen: set[str] = set()
        self._dir_cache: dict[str, str | None] = {"": None}
        self._file_links: list[tuple[str, str, str]] = []  # (rel, real rel, language)

    # -- folders

    def excluded_dir(self, rel_dir: str) -> bool:
        """Whether a folder is excluded; records it (once) when it is."""
        hit = self._excluded_ancestor(rel_dir)
        if hit is not None:
            name = hit.rsplit("/", 1)[-1]
            if name not in _SILENT_DIRS:
                self.skipped.setdefault(hit + "/", Skipped(hit + "/", "excluded", detail="excluded folder"))
            return True
        return False

    def _excluded_ancestor(self, rel_dir: str) -> str | None:
        if rel_dir in self._dir_cache:
            return self._dir_cache[rel_dir]
        parent = rel_dir.rsplit("/", 1)[0] if "/" in rel_dir else ""
        hit = self._excluded_ancestor(parent)
        if hit is None and (
            pathmatch.matches_any(rel_dir, self.excludes)
            or os.path.isfile(os.path.join(self.root, rel_dir, "pyvenv.cfg"))  # a virtualenv by any name
        ):
            hit = rel_dir
        self._dir_cache[rel_dir] = hit
        return hit

    def directory_symlink(self, rel: str) -> None:
        abspath = os.path.join(self.root, rel)
        if self.config.include and not pathmatch.matches_any(rel, self.config.include):
            return
        detail = _symlink_problem(self.root, abspath)
        if detail is None:
            real = os.path.realpath(abspath)
            parent = os.path.dirname(abspath)
            if parent == real or parent.startswith(real + os.sep):
                detail = f"points to its own ancestor {_rel(self.root, real) or '.'} (a loop); not followed"
            else:
                detail = f"symlink to the folder {_rel(self.root, real)}; not followed (its real path is scanned)"
        self._skip(rel + "/", "symlink", detail)

    # -- files

    def consider(self, rel: str) -> None:
        nested_repo = rel.endswith("/")  # git lists an untracked nested repository as a folder
        rel = rel.rstrip("/")
        self.seen.add(rel)
        parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
        if self.excluded_dir(parent):
            return
        if nested_repo:
            self._skip(rel + "/", "excluded", "nested git repository")
            return
        abspath = os.path.join(self.root, rel)
        try:
            st = os.lstat(abspath)
        except (FileNotFoundError, NotADirectoryError):
            return  # tracked but deleted in the work tree
        except OSError as exc:
            self._skip(rel, "unreadable", exc.strerror or str(exc))
            return
        if stat.S_ISDIR(st.st_mode):
            self._skip(rel + "/", "excluded", "submodule or nested git repository")
            return
        name = rel.rsplit("/", 1)[-1]
        language = language_of(name)
        if language is None and "." not in name and stat.S_ISREG(st.st_mode):
            language = _shebang_language(abspath)
        if stat.S_ISLNK(st.st_mode):
            self._consider_link(rel, abspath, language)
            return
        if language is None:
            return  # not code any rule reads; listing every image would drown the log
        if self.config.include and not pathmatch.matches_any(rel, self.config.include):
            return
        if pathmatch.matches_any(rel, self.excludes):
            self._skip(rel, "excluded", "matches an exclude pattern")
            return
        self._check_content(rel, abspath, language, st)

    def _consider_link(self, rel: str, abspath: str, language: str | None) -> None:
        problem = _symlink_problem(self.root, abspath)
        try:
            st = os.stat(abspath)
        except OSError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            self.directory_symlink(rel)  # git lists a symlink to a folder as a file
            return
        if language is None and st is not None and stat.S_ISREG(st.st_mode):
            language = _shebang_language(abspath) if "." not in rel.rsplit("/", 1)[-1] else None
        if language is None:
            return
        if self.config.include and not pathmatch.matches_any(rel, self.config.include):
            return
        if pathmatch.matches_any(rel, self.excludes):
            self._skip(rel, "excluded", "matches an exclude pattern")
            return
        if problem is not None:
            self._skip(rel, "symlink", problem)
            return
        # Decided after the listing: scan the link only if its target is not scanned anyway.
        self._file_links.append((rel, _rel(self.root, os.path.realpath(abspath)), language))

    def _check_content(self, rel: str, abspath: str, language: str, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            self._skip(rel, "unreadable", "not a regular file")
            return
        limit = self.config.max_file_size
        if st.st_size > limit:
            self._skip(rel, "too-large", f"{st.st_size} bytes > max_file_size {limit}")
            return
        try:
            with open(abspath, "rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            self._skip(rel, "unreadable", exc.strerror or str(exc))
            return
        if len(data) > limit:  # grew since stat
            self._skip(rel, "too-large", f"more than max_file_size {limit} bytes")
            return
        if b"\0" in data[:BINARY_SNIFF]:
            self._skip(rel, "binary", "NUL byte in the first 8 KB")
            return
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._skip(rel, "not-utf8", f"invalid UTF-8 at byte {exc.start}")
            return
        if language in ("javascript", "typescript") and (longest := _longest_line(data)) > MINIFIED_LINE:
            # Built bundles: nobody reviews them, and taint rules time out on them (exit 3).
            self._skip(rel, "minified", f"a line of {longest} characters; scan the sources it was built from")
            return
        self.targets[rel] = Target(
            path=rel,
            abspath=abspath,
            language=language,
            is_test=pathmatch.matches_any(rel, self.config.test_paths),
        )

    def account_for_explicit_files(self, limits: list[_Limit]) -> None:
        """A file named on the command line that was not listed (ignored by git) must not vanish silently."""
        for lim in limits:
            rel = lim.rel
            if not lim.is_file or rel in self.targets or rel in self.skipped or rel + "/" in self.skipped:
                continue
            if self._excluded_ancestor(rel.rsplit("/", 1)[0] if "/" in rel else "") is not None:
                continue  # its folder is listed as excluded
            if rel not in self.seen:
                self._skip(rel, "excluded", "ignored by .gitignore")
            elif any(link == rel for link, _, _ in self._file_links):
                continue
            elif language_of(rel.rsplit("/", 1)[-1]) is None:
                self._skip(rel, "unsupported", "no rules read this kind of file")
            else:
                self._skip(rel, "excluded", "not matched by the config's include patterns")

    def skip_folder(self, rel: str, reason: str, detail: str) -> None:
        self._skip(rel + "/", reason, detail)

    def _skip(self, rel: str, reason: str, detail: str) -> None:
        self.skipped.setdefault(rel, Skipped(path=rel, reason=reason, detail=detail))

    def result(self) -> tuple[list[Target], list[Skipped]]:
        for rel, real, language in self._file_links:
            if real in self.targets:
                self._skip(rel, "symlink", f"same file as {real} (scanned there)")
                continue
            abspath = os.path.join(self.root, rel)
            try:
                st = os.stat(abspath)
            except OSError as exc:  # changed since it was listed
                self._skip(rel, "unreadable", exc.strerror or str(exc))
                continue
            self._check_content(rel, abspath, language, st)
        targets = sorted(self.targets.values(), key=lambda t: t.path)
        skipped = sorted(self.skipped.values(), key=lambda s: s.path)
        return targets, skipped


def _symlink_problem(root: Path, abspath: str) -> str | None:
    """Why a symlink must not be followed (dangling, loop, outside the root), or None."""
    try:
        target = os.readlink(abspath)
    except OSError:  # no longer a symlink: nothing special to report
        return None
    try:
        os.stat(abspath)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"symlink loop ({target})"
        if exc.errno == errno.ENOENT:
            return f"dangling symlink to {target}"
        return f"symlink to {target}: {exc.strerror}"
    real = os.path.realpath(abspath)
    if _rel(root, real) is None:
        return f"points outside the scan root ({target})"
    return None


def _rel(root: Path, real: str) -> str | None:
    rel = os.path.relpath(real, root)
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return Path(rel).as_posix()

