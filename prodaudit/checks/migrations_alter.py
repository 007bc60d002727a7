"""Django migration checks that compare an operation with the field's previous definition:
column type changes and narrowing (DATA021), NOT NULL on a nullable column (DATA022), and unique
constraints added to existing tables (DATA024)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import libcst as cst

from prodaudit.checks._field_def import column_change, cst_literal
from prodaudit.checks._migration import Migration, Operation, callee_name, is_none, is_true, keyword, literal_str
from prodaudit.checks._migration_check import HistoryCheck, field_call, label, sql_statements, strip_sql_comments
from prodaudit.checks._migration_state import State, normalize_unique_together


class AlterFieldColumnType(HistoryCheck):
    """AlterField that changes the column's type or narrows it, against its previous definition."""

    name = "migrations.alter_field_column_type"

    def check_with_state(self, op: Operation, migration: Migration, state: State) -> None:
        if migration.is_new_model(op.text("model_name")):
            return
        pair = self.previous_and_new(op, state)
        change = column_change(*pair) if pair is not None else None
        if change is None:
            return
        if change.kind == "narrow":
            self.report(
                op.call,
                f"AlterField narrows column {label(op)} from {change.old} to {change.new}: PostgreSQL "
                "checks every row under an ACCESS EXCLUSIVE lock (reads and writes wait) and the migration "
                "fails on the first longer value; MySQL without strict mode truncates it.",
            )
        else:
            self.report(
                op.call,
                f"AlterField changes column {label(op)} from {change.old} to {change.new}: PostgreSQL "
                "rewrites the whole table and its indexes under an ACCESS EXCLUSIVE lock (reads and writes "
                "wait), and the release still running reads and writes the old type.",
            )


class AlterFieldSetsNotNull(HistoryCheck):
    """AlterField that makes a column NOT NULL which its previous definition left nullable."""

    name = "migrations.alter_field_not_null"

    def check_with_state(self, op: Operation, migration: Migration, state: State) -> None:
        if migration.is_new_model(op.text("model_name")):
            return
        pair = self.previous_and_new(op, state)
        if pair is None:
            return
        previous, new = pair
        if previous.nullable is not True or new.nullable is not False or not new.has_column:
            return
        if new.get("primary_key") is True:
            return
        if new.get("default") is not None or new.get("db_default") is not None:
            detail = (
                "Django first UPDATEs every NULL row to the default, then SET NOT NULL scans the table, "
                "all under an ACCESS EXCLUSIVE lock"
            )
        else:
            detail = "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock and fails on the first NULL row"
        self.report(
            op.call,
            f"AlterField makes column {label(op)} NOT NULL (it was null=True): {detail}; the release still "
            "running keeps writing NULL and fails.",
        )


class UniqueOnExistingTable(HistoryCheck):
    """A unique constraint or index added to a table that already has rows."""

    name = "migrations.unique_on_existing_table"

    def check_with_state(self, op: Operation, migration: Migration, state: State) -> None:
        if op.kind == "RunSQL":
            self._run_sql(op)
            return
        model = op.text("name") if op.kind == "AlterUniqueTogether" else op.text("model_name")
        if migration.is_new_model(model):
            return
        what = self._what(op, state)
        if what:
            self.report(
                op.call,
                f"{what} on existing table {model or '?'}: the migration fails if the rows already hold "
                "duplicates, and PostgreSQL builds the unique index with a plain CREATE UNIQUE INDEX that "
                "blocks writes to the table for the whole build.",
            )

    def _implied(self, model: str | None, fields: Sequence[str], state: State) -> bool:
        """Rows already unique on a subset of `fields` (before this migration or now) cannot
        hold duplicates on `fields`: moving a unique_together into a UniqueConstraint, say."""
        wanted = {f.lower() for f in fields}
        return any(
            unique <= wanted for s in (self.state_at_start, state) for unique in s.unique_sets(model)
        )

    def _what(self, op: Operation, state: State) -> str:
        if op.kind == "AddConstraint":
            constraint = op.arg("constraint")
            if isinstance(constraint, cst.Call) and callee_name(constraint) == "UniqueConstraint":
                fields = _string_list(keyword(constraint, "fields"))
                if fields and self._implied(op.text("model_name"), fields, state):
                    return ""
                return "AddConstraint adds a UniqueConstraint"
        elif op.kind == "AlterField":
            pair = self.previous_and_new(op, state)
            if pair is not None and pair[0].unique is False and pair[1].unique is True:
                return f"AlterField makes {label(op)} unique"
        elif op.kind == "AlterUniqueTogether":
            before = state.unique_together(op.text("name"))
            value = op.arg("unique_together")
            after = normalize_unique_together(cst_literal(value)) if value is not None else frozenset()
            if before is None or after is None:
                return ""
            added = sorted(t for t in after - before if not self._implied(op.text("name"), t, state))
            if added:
                return f"AlterUniqueTogether adds unique_together {', '.join('(' + ', '.join(t) + ')' for t in added)}"
        elif op.kind == "AddField":
            field = field_call(op)
            if field is not None and _fills_existing_rows_with_one_value(field):
                return (
                    f"AddField adds unique column {label(op)} with a default, which Django computes once and "
                    "writes into every existing row (so a second row is already a duplicate)"
                )
        return ""

    def _run_sql(self, op: Operation) -> None:
        statements = sql_statements(op.arg("sql"))
        if statements is None:
            return
        statements = [strip_sql_comments(s) for s in statements]
        if any(_CREATE_TABLE.search(s) for s in statements):
            return
        for statement in statements:
            if _UNIQUE_INDEX.search(statement) or (
                _ADD_UNIQUE.search(statement) and not _USING_INDEX.search(statement)
            ):
                self.report(
                    op.call,
                    "RunSQL adds a unique index or constraint without CONCURRENTLY: it blocks writes to the "
                    "table for the whole build, and fails if the rows already hold duplicates.",
                )
                return


def _string_list(node: cst.BaseExpression | None) -> list[str] | None:
    """`["a", "b"]` or `("a", "b")` -> ["a", "b"]; None when not a literal list of strings."""
    if not isinstance(node, (cst.List, cst.Tuple)):
        return None
    out = [literal_str(e.value) for e in node.elements]
    return [v for v in out if v is not None] if all(v is not None for v in out) else None


def _fills_existing_rows_with_one_value(field: cst.Call) -> bool:
    """AddField(unique=True, default=...) of a NOT NULL column: every existing row gets the same value."""
    if not is_true(keyword(field, "unique")) or is_true(keyword(field, "null")):
        return False
    default = keyword(field, "default")
    return default is not None and not is_none(default)


_CREATE_TABLE = re.compile(r"\bCREATE\s+TABLE\b", re.I)
_UNIQUE_INDEX = re.compile(r"\bCREATE\s+UNIQUE\s+INDEX\b(?!\s+CONCURRENTLY)", re.I)
_ADD_UNIQUE = re.compile(r"\bADD\s+(?:CONSTRAINT\s+\S+\s+)?UNIQUE\b", re.I)
_USING_INDEX = re.compile(r"\bUSING\s+INDEX\b", re.I)
