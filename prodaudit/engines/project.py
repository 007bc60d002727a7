"""The "project" engine: checks that need more than one file — a migration read against the
application code that still uses what it drops, renames or leaves without a database default.

It costs nothing on most scans: the code base is listed and read only when a scanned migration
drops, renames or adds a NOT NULL column. The code is read from the scan root, so in `--diff-base`
mode the base scan (changed files only) sees fewer users, and a head finding counts as new."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from prodaudit.checks.schema_changes import ADD_NOT_NULL, DROP, RENAME, SchemaChange, schema_changes
from prodaudit.checks.schema_usage import CodeFile, Usage, find_usages
from prodaudit.config import Config
from prodaudit.model import EngineError, EngineResult, RawFinding, Rule, Target
from prodaudit.pathmatch import rule_applies

ENGINE = "project"
_CODE_LANGUAGES = ("python", "javascript", "typescript")
_SHOWN = 3  # usages named in a message; the rest are counted

# check name -> the schema actions it reports
CHECKS: dict[str, tuple[str, ...]] = {
    "schema.removed_but_still_used": (DROP, RENAME),
    "schema.not_null_added_while_written": (ADD_NOT_NULL,),
}


class ProjectEngine:
    name = ENGINE

    def __init__(self, config: Config, list_code: Callable[[], Sequence[Target]] | None = None) -> None:
        self.config = config
        self._list_code = list_code

    def run(self, rules: Sequence[Rule], targets: Sequence[Target], root: Path, jobs: int) -> EngineResult:
        mine = [r for r in rules if r.engine == ENGINE and r.check in CHECKS]
        changes: list[tuple[Rule, Target, SchemaChange]] = []
        errors: list[EngineError] = []
        for target in targets if mine else ():
            applicable = [r for r in mine if rule_applies(r, target)]
            if not applicable:
                continue
            try:
                text = Path(target.abspath).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # the other engines list unreadable files
            try:
                found = schema_changes(target.path, text)
            except Exception as exc:  # a bug in the reader: fail closed, name it
                errors.append(EngineError(ENGINE, f"{type(exc).__name__}: {exc}", path=target.path))
                continue
            for change in found:
                changes.extend((r, target, change) for r in applicable if change.action in CHECKS[r.check or ""])
        if not changes:
            return EngineResult(errors=tuple(errors))
        code = self._code_files(root, {t.path for _, t, _ in changes})
        findings = []
        for rule, target, change in changes:
            scope = project_scope(target.path)
            usages = find_usages(change, [c for c in code if c.path.startswith(scope)])
            if usages:
                findings.append(_finding(rule, target, change, usages))
        findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
        return EngineResult(findings=tuple(findings), errors=tuple(errors))

    def _code_files(self, root: Path, migrations: set[str]) -> list[CodeFile]:
        """The application code of the repository: not tests, not migrations."""
        if self._list_code is not None:
            listed = self._list_code()
        else:
            from prodaudit.targets import select_targets

            listed, _skipped = select_targets(root, [], self.config)
        out = []
        for t in listed:
            if t.language not in _CODE_LANGUAGES or t.is_test or t.path in migrations or _is_migration(t.path):
                continue
            try:
                out.append(CodeFile(t.path, Path(t.abspath).read_text(encoding="utf-8"), t.language))
            except (OSError, UnicodeDecodeError):
                continue
        return out


def project_scope(path: str) -> str:
    """The folder whose code a migration serves: the parent of the folder that holds the migrations
    folder (`shop/migrations/0005.py` and `db/migrations/1.sql` -> the root; `backend/shop/
    migrations/0005.py` -> `backend/`), as a path prefix ("" for the scan root)."""
    parts = path.split("/")[:-1]
    marks = [i for i, p in enumerate(parts) if p in ("migrations", "migration", "migrate", "versions")]
    if not marks:
        return ""
    keep = parts[: max(marks[-1] - 1, 0)]
    return "/".join(keep) + "/" if keep else ""


def _is_migration(path: str) -> bool:
    parts = path.split("/")
    return "migrations" in parts[:-1] or ("versions" in parts[:-1] and "alembic" in path)


def _finding(rule: Rule, target: Target, change: SchemaChange, usages: list[Usage]) -> RawFinding:
    shown = "; ".join(str(u) for u in usages[:_SHOWN])
    more = f"; and {len(usages) - _SHOWN} more" if len(usages) > _SHOWN else ""
    thing = f"column {change.label}" if change.column else f"table/model {change.table}"
    if change.action == DROP:
        head = f"This migration drops {thing}, but the code still uses it"
        tail = "Those lines fail as soon as the migration runs."
    elif change.action == RENAME:
        head = f"This migration renames {thing} to {change.new_name}, but the code still uses the old name"
        tail = "Those lines fail as soon as the migration runs."
    else:
        head = f"This migration adds NOT NULL {thing} without a database default, while the code writes the table"
        tail = "Rows inserted by the release still running (or by code that does not set it) fail."
    line, column, end_line, end_column = change.span
    return RawFinding(rule.id, target.path, line, column, end_line, end_column, f"{head}: {shown}{more}. {tail}", ENGINE)
