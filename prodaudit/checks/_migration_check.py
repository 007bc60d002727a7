"""The base classes of the Django migration checks: one that reads a migration's operations, and
one that also knows the model state before each operation (the app's earlier migrations, read
from the sibling files by `_migration_history`, then this migration's own earlier operations)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import libcst as cst

from prodaudit.checks import _migration_history as history
from prodaudit.checks._field_def import FieldDef, field_def_from_cst
from prodaudit.checks._imports import ImportMap
from prodaudit.checks._migration import Migration, Operation, literal_str, read_migration
from prodaudit.checks._migration_state import State
from prodaudit.checks.base import Check


class MigrationCheck(Check):
    imports: ImportMap
    module: cst.Module

    def visit_Module(self, node: cst.Module) -> None:
        self.imports = ImportMap(node)
        self.module = node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        migration = read_migration(self.imports, node)
        if migration is not None:
            self.check_migration(migration, node)

    def check_migration(self, migration: Migration, node: cst.ClassDef) -> None:
        for op in migration.operations:
            if not op.opaque:
                self.check_operation(op, migration)

    def check_operation(self, op: Operation, migration: Migration) -> None:
        raise NotImplementedError


class HistoryCheck(MigrationCheck):
    """A check that compares an operation with the model state before it: the earlier migrations of
    the app (sibling files, read from disk) replayed, then this migration's earlier operations.
    Without them (no path, or the history is incomplete) only this migration's own operations are
    known, and a field they do not define has no known previous definition."""

    state_at_start: State  # the state before this migration's first operation

    @classmethod
    def inputs(cls, path: Path) -> Sequence[Path]:
        return history.inputs(path)

    def check_migration(self, migration: Migration, node: cst.ClassDef) -> None:
        known = _state_before(node, self.path) if self.path else None
        state = known.copy() if known is not None else State()
        self.state_at_start = state.copy()
        for op in migration.operations:
            if not op.opaque:
                self.check_with_state(op, migration, state)
            state.apply_operation(op)

    def check_with_state(self, op: Operation, migration: Migration, state: State) -> None:
        raise NotImplementedError

    def previous_and_new(self, op: Operation, state: State) -> tuple[FieldDef, FieldDef] | None:
        """For an AlterField on an existing table: the field's previous and new definitions, when
        both are known."""
        if op.kind != "AlterField":
            return None
        field = op.arg("field")
        if field is None:
            return None
        previous = state.field(op.text("model_name"), op.text("name"))
        new = field_def_from_cst(field)
        return (previous, new) if previous is not None and new is not None else None


def field_call(op: Operation) -> cst.Call | None:
    field = op.arg("field")
    if isinstance(field, cst.Call) and not any(a.star for a in field.args):
        return field
    return None


def label(op: Operation, model_key: str = "model_name", field_key: str = "name") -> str:
    model = op.text(model_key) or "?"
    field = op.text(field_key)
    return f"{model}.{field}" if field_key and field else model


@lru_cache(maxsize=1)
def _state_before(node: cst.ClassDef, path: Path) -> State | None:
    """The state before the migration class `node` of the file `path`, shared by the history
    checks of that file (one batched traversal). LibCST nodes hash and compare by identity, and
    the cache holds the node, so a later file's node cannot be taken for it. Callers copy."""
    return history.state_before(path, history.cst_dependencies(node))


def sql_statements(node: cst.BaseExpression | None) -> list[str] | None:
    """The SQL text of a RunSQL `sql` argument: a string, or a list of strings or (sql, params)
    pairs; None when any part is not a literal."""
    if node is None:
        return None
    text = literal_str(node)
    if text is not None:
        return [text]
    if isinstance(node, (cst.List, cst.Tuple)):
        out: list[str] = []
        for element in node.elements:
            value = element.value
            if isinstance(value, (cst.Tuple, cst.List)) and value.elements:
                value = value.elements[0].value
            part = literal_str(value)
            if part is None:
                return None
            out.append(part)
        return out
    return None


def strip_sql_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)
