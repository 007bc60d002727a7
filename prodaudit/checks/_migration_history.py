"""What a Django migration starts from: the model state built by the earlier migrations of its app.

An `AlterField` only shows the new definition of a field; whether it changes the column type,
narrows it, makes it NOT NULL or unique depends on the previous one, which lives in an earlier
migration of the same folder. This module reads those files from disk with `ast` (cheaper than
LibCST, and nothing is imported), follows the same-app `dependencies` from the migration being
checked back to the first one, and replays their operations in order.

When the history cannot be read completely (a dependency whose file is missing, as in the base scan
of `--diff-base`, which holds only the changed files), the state is None: callers then know nothing
about previous definitions rather than something wrong."""

from __future__ import annotations

import ast
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import libcst as cst

from prodaudit.checks._field_def import cst_literal
from prodaudit.checks._migration import SIGNATURES
from prodaudit.checks._migration_state import State, ast_binder, ast_text

_OPS_PREFIX = "django.db.migrations."
_MIGRATION_BASES = {"django.db.migrations.Migration", "django.db.migrations.migration.Migration"}


def _state_calls(node: ast.expr | None, kind_of: Callable[[ast.expr], str | None]) -> Iterator[tuple[str, ast.Call]]:
    """The Django operations of an operations list (`[...]`, `(...)`, `a + b`) as Django's model
    state sees them: the `state_operations` of SeparateDatabaseAndState and RunSQL included."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _state_calls(node.left, kind_of)
        yield from _state_calls(node.right, kind_of)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for element in node.elts:
            kind = kind_of(element.func) if isinstance(element, ast.Call) else None
            if kind in ("SeparateDatabaseAndState", "RunSQL"):
                assert isinstance(element, ast.Call)
                yield from _state_calls(ast_binder(element, SIGNATURES[kind])("state_operations"), kind_of)
            elif kind:
                assert isinstance(element, ast.Call)
                yield kind, element


# --- reading a migration file ----------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationFile:
    """What the replay needs from one migration file."""

    name: str  # file stem: "0002_order_total"
    dependencies: tuple[tuple[str, str], ...] | None  # None: not a literal list
    replaces: tuple[tuple[str, str], ...]
    operations: tuple[tuple[str, ast.Call], ...]


def read_file(path: Path) -> MigrationFile | None:
    """The migration in `path`; None when the file is not a readable Django migration."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "Migration" not in text:
        return None
    return parse_migration(path.stem, text)


def parse_migration(name: str, text: str) -> MigrationFile | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    aliases = _aliases(tree)

    def qualify(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = qualify(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def kind_of(func: ast.expr) -> str | None:
        q = qualify(func)
        return q[len(_OPS_PREFIX):] if q and q.startswith(_OPS_PREFIX) and q.count(".") == 3 else None

    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(qualify(b) in _MIGRATION_BASES for b in node.bases):
            values = _class_values(node)
            return MigrationFile(
                name=name,
                dependencies=_pairs(values.get("dependencies"), strict=True),
                replaces=_pairs(values.get("replaces"), strict=False) or (),
                operations=tuple(_state_calls(values.get("operations"), kind_of)),
            )
    return None


def _aliases(tree: ast.Module) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    out[head] = head
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def _class_values(node: ast.ClassDef) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, stmt.value)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            out.setdefault(stmt.target.id, stmt.value)
    return out


def _pairs(node: ast.expr | None, strict: bool) -> tuple[tuple[str, str], ...] | None:
    """`[("shop", "0001_initial"), ...]` -> pairs. A call (`migrations.swappable_dependency(...)`: another
    app) is skipped; when `strict`, a pair or list that is not literal makes the whole None."""
    if node is None:
        return ()
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None if strict else ()
    out = []
    for element in node.elts:
        if isinstance(element, (ast.Tuple, ast.List)) and len(element.elts) == 2:
            app, name = ast_text(element.elts[0]), ast_text(element.elts[1])
            if app is not None and name is not None:
                out.append((app, name))
            elif strict:
                return None  # `(APP_LABEL, "0001_initial")`: could be this app
    return tuple(out)


# --- the history of one migration ------------------------------------------------------------------


def state_before(path: Path, dependencies: tuple[tuple[str, str], ...] | None) -> State | None:
    """The app's model state just before the migration in `path` (with these `dependencies`)
    runs; None when the earlier migrations cannot all be found and read. The caller owns the
    returned State."""
    folder = _folder_history(str(path.parent), _listing(str(path.parent)))
    state = folder.before(path.stem, dependencies)
    return state.copy() if state is not None else None


def inputs(path: Path) -> Sequence[Path]:
    """The files `state_before` may read for `path` (for the cache key): the migrations of its
    folder (the file itself among them: one shared tuple per folder, and its own text is in the
    key anyway)."""
    return _folder_paths(str(path.parent), _mtime(str(path.parent)))


def cst_dependencies(node: cst.ClassDef) -> tuple[tuple[str, str], ...] | None:
    """The `dependencies` of a Migration class (LibCST): pairs, skipping calls such as
    `migrations.swappable_dependency(...)`; None when they cannot be read."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
    for stmt in body:
        for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "dependencies" for t in small.targets
            ):
                return _cst_pairs(small.value)
    return ()


def _cst_pairs(node: cst.BaseExpression) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(node, (cst.List, cst.Tuple)):
        return None
    out = []
    for element in node.elements:
        value = element.value
        if isinstance(value, cst.Call):
            continue
        pair = cst_literal(value)
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(v, str) for v in pair)):
            return None
        out.append((pair[0], pair[1]))
    return tuple(out)


def _mtime(folder: str) -> int:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return -1


@lru_cache(maxsize=64)
def _folder_paths(folder: str, mtime_ns: int) -> tuple[Path, ...]:
    # Keyed by the folder's mtime, which changes when a file is added, removed or renamed.
    return tuple(Path(folder, name) for name, _, _ in _listing(folder))


def _listing(folder: str) -> tuple[tuple[str, int, int], ...]:
    """(name, mtime, size) of the folder's migration files, sorted: a cache key that changes
    when any of them is edited."""
    out = []
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.endswith(".py") and e.name != "__init__.py" and e.is_file():
                    st = e.stat()
                    out.append((e.name, st.st_mtime_ns, st.st_size))
    except OSError:
        return ()
    return tuple(sorted(out))


@lru_cache(maxsize=16)
def _folder_history(folder: str, listing: tuple[tuple[str, int, int], ...]) -> _FolderHistory:
    # Files that are not migrations (helpers) are left out: if a dependency names one, the
    # history is incomplete, and `before` says so.
    files = {f.name: f for f in (_read_cached(os.path.join(folder, n), m, s) for n, m, s in listing) if f is not None}
    return _FolderHistory(files, Path(folder).parent.name)


@lru_cache(maxsize=4096)
def _read_cached(path: str, mtime_ns: int, size: int) -> MigrationFile | None:
    return read_file(Path(path))


class _FolderHistory:
    """The migrations of one folder, and the model state after each, computed once: a chain of
    migrations replays each file once, not once per later migration."""

    def __init__(self, files: Mapping[str, MigrationFile], app_folder: str) -> None:
        self.files = files
        self.readable = all(f.dependencies is not None for f in files.values())
        self.label = _app_label(files, app_folder)
        self.replaced_by = {dep: f.name for f in files.values() for app, dep in f.replaces if app == self.label}
        self._after: dict[str, State] = {}  # stem -> the state after it ran (owned here, copied out)

    def before(self, name: str, dependencies: tuple[tuple[str, str], ...] | None) -> State | None:
        if dependencies is None or not self.readable:
            # Dependencies that cannot be read: fall back to the order of the file names.
            return self._replay(sorted(stem for stem in self.files if stem < name))
        chain: list[str] = []  # single-parent ancestors still to replay, newest first
        deps: Sequence[tuple[str, str]] = dependencies
        while True:
            parents = self._parents(deps)
            if parents is None:
                return None
            if not parents:
                state = State()
                break
            if len(parents) > 1:  # a merge migration: replay its whole history
                order = self._ancestors(parents)
                if order is None:
                    return None
                state = self._replay(order)
                break
            parent = parents[0]
            if parent in self._after:
                state = self._after[parent].copy()
                break
            if parent == name or parent in chain:
                return None  # a cycle: not a history Django could run
            chain.append(parent)
            deps = self.files[parent].dependencies or ()
        for stem in reversed(chain):
            for kind, call in self.files[stem].operations:
                state.apply(kind, call)
            self._after[stem] = state.copy()
        return state

    def _parents(self, deps: Sequence[tuple[str, str]]) -> list[str] | None:
        """The files of this app among `deps`; None when one is missing (history incomplete)."""
        if self.label is None:
            # No migration here names another one of the folder: either a lone first migration
            # or, with dependencies, one whose predecessors are not here (the --diff-base base tree).
            return [] if not deps else None
        out = []
        for dep in sorted(dep for app, dep in deps if app == self.label):
            stem = dep if dep in self.files else self.replaced_by.get(dep)
            if stem is None:
                return None
            out.append(stem)
        return out

    def _ancestors(self, parents: Sequence[str]) -> list[str] | None:
        """`parents` and everything they depend on, dependencies first; None when incomplete."""
        order: list[str] = []
        seen: set[str] = set()
        todo: list[tuple[str, bool]] = [(p, False) for p in reversed(parents)]
        while todo:  # an iterative depth-first walk: histories can be hundreds of files deep
            stem, done = todo.pop()
            if done:
                order.append(stem)
                continue
            if stem in seen:
                continue
            seen.add(stem)
            deps = self._parents(self.files[stem].dependencies or ())
            if deps is None:
                return None
            todo.append((stem, True))
            todo.extend((d, False) for d in reversed(deps) if d not in seen)
        return order

    def _replay(self, order: Sequence[str]) -> State:
        state = State()
        for stem in order:
            for kind, call in self.files[stem].operations:
                state.apply(kind, call)
        return state


def _app_label(files: Mapping[str, MigrationFile], app_folder: str) -> str | None:
    """The app label of this folder: the label that dependencies use for the folder's own
    earlier files (a migration cannot depend on itself or a later one of its app, so those votes
    are skipped); a tie goes to the label equal to the app folder's name."""
    stems = set(files) | {dep for f in files.values() for _, dep in f.replaces}
    votes: Counter[str] = Counter()
    for f in files.values():
        for app, dep in f.dependencies or ():
            if dep in stems and dep < f.name:
                votes[app] += 1
    if not votes:
        return None
    best = max(votes.values())
    leaders = sorted(app for app, n in votes.items() if n == best)
    return app_folder if app_folder in leaders else leaders[0]
