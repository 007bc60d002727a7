"""Django migration checks: operations that destroy data, cannot be rolled back, or lock or break a
table while the previous release is still running (rolling deploys).

Each check reads the `operations` of a `Migration` class (see `_migration`). Operations on a model
created in the same migration are exempt: its table is new, so there are no rows to lose or lock.
The checks that need a field's previous definition are in `migrations_alter`, those on data steps
in `migrations_data`; all are registered here."""

from __future__ import annotations

import libcst as cst

from prodaudit.checks._migration import Migration, Operation, callee_name, is_none, is_true, keyword
from prodaudit.checks._migration_check import HistoryCheck, MigrationCheck, field_call, label
from prodaudit.checks._migration_state import State
from prodaudit.checks.base import Check
from prodaudit.checks.migrations_alter import AlterFieldColumnType, AlterFieldSetsNotNull, UniqueOnExistingTable
from prodaudit.checks.migrations_data import BackfillInSchemaMigration, RunPythonLiveModels

# Field classes that add no column (many-to-many: a join table) or compute it (GeneratedField).
_NO_COLUMN = {"ManyToManyField", "GeneratedField"}
# Columns the database fills itself.
_SELF_FILLING = {"AutoField", "BigAutoField", "SmallAutoField"}
# Field classes whose values are not strings: `blank=True` gives them no implicit "" default.
_NON_STRING = {
    "IntegerField", "BigIntegerField", "SmallIntegerField", "PositiveIntegerField",
    "PositiveBigIntegerField", "PositiveSmallIntegerField", "FloatField", "DecimalField",
    "BooleanField", "NullBooleanField", "DateField", "DateTimeField", "TimeField", "DurationField",
    "UUIDField", "JSONField", "GenericIPAddressField", "BinaryField", "ForeignKey", "OneToOneField",
}  # fmt: skip


class DropData(MigrationCheck):
    """RemoveField / DeleteModel on a table that existed before this migration."""

    name = "migrations.drop_data"

    def check_operation(self, op: Operation, migration: Migration) -> None:
        if op.kind == "RemoveField":
            model, field = op.text("model_name"), op.text("name")
            if migration.is_new_model(model):
                return
            if model and field and (model.lower(), field.lower()) in migration.added_fields:
                return
            self.report(
                op.call,
                f"RemoveField drops column {label(op)} and all its data; the previous release still "
                "reads it during the deploy, and a rollback cannot bring the data back.",
            )
        elif op.kind == "DeleteModel":
            if migration.is_new_model(op.text("name")):
                return
            self.report(
                op.call,
                f"DeleteModel drops table {label(op, 'name', '')} and every row in it; a rollback "
                "recreates an empty table.",
            )


class Rename(MigrationCheck):
    """RenameField / RenameModel: the running release still uses the old name during the deploy."""

    name = "migrations.rename"

    def check_operation(self, op: Operation, migration: Migration) -> None:
        if op.kind == "RenameField":
            if migration.is_new_model(op.text("model_name")):
                return
            old, new = op.text("old_name") or "?", op.text("new_name") or "?"
            self.report(
                op.call,
                f"RenameField renames column {op.text('model_name') or '?'}.{old} to {new}: pods still "
                "running the previous release query the old name and fail until the deploy completes.",
            )
        elif op.kind == "RenameModel":
            old, new = op.text("old_name") or "?", op.text("new_name") or "?"
            if migration.is_new_model(old):
                return
            self.report(
                op.call,
                f"RenameModel renames the table of {old} to {new}: pods still running the previous "
                "release query the old table and fail until the deploy completes.",
            )


class _WithoutReverse(MigrationCheck):
    """An operation with a forward step and an optional reverse argument that was left out."""

    operation = ""
    reverse_arg = ""

    def check_operation(self, op: Operation, migration: Migration) -> None:
        if op.kind != self.operation:
            return
        reverse = op.arg(self.reverse_arg)
        if reverse is None or is_none(reverse):
            self.report(
                op.call,
                f"{self.operation} has no {self.reverse_arg}, so this migration cannot be rolled back; pass "
                f"migrations.{self.operation}.noop when there is nothing to undo.",
            )


class RunPythonWithoutReverse(_WithoutReverse):
    name = "migrations.run_python_without_reverse"
    operation = "RunPython"
    reverse_arg = "reverse_code"


class RunSqlWithoutReverse(_WithoutReverse):
    name = "migrations.run_sql_without_reverse"
    operation = "RunSQL"
    reverse_arg = "reverse_sql"


def _given(field: cst.Call, key: str) -> bool:
    """`key=` is passed with a value other than None (`default=None` is no default)."""
    value = keyword(field, key)
    return value is not None and not is_none(value)


def _not_null_column(field: cst.Call) -> bool:
    """The field adds a real NOT NULL column the database does not fill by itself."""
    kind = callee_name(field)
    if kind in _NO_COLUMN or kind in _SELF_FILLING:
        return False
    if is_true(keyword(field, "null")) or is_true(keyword(field, "primary_key")):
        return False
    return not (is_true(keyword(field, "auto_now")) or is_true(keyword(field, "auto_now_add")))


def _not_null_field_added_to_existing_table(op: Operation, migration: Migration) -> cst.Call | None:
    """The field of an AddField that adds a NOT NULL column to a table older than this migration."""
    if op.kind != "AddField" or migration.is_new_model(op.text("model_name")):
        return None
    field = field_call(op)
    return field if field is not None and _not_null_column(field) else None


class AddNotNullField(MigrationCheck):
    """AddField of a NOT NULL column with no default at all to an existing table."""

    name = "migrations.add_not_null_field"

    def check_operation(self, op: Operation, migration: Migration) -> None:
        field = _not_null_field_added_to_existing_table(op, migration)
        if field is None:
            return
        if _given(field, "default") or _given(field, "db_default"):
            return
        # Django gives string fields with blank=True an implicit "" default.
        if is_true(keyword(field, "blank")) and callee_name(field) not in _NON_STRING:
            return
        self.report(
            op.call,
            f"AddField adds NOT NULL column {label(op)} with no default: on a table that has rows the "
            "migration fails (PostgreSQL, SQLite) in the middle of the deploy.",
        )


class AddFieldPythonDefault(MigrationCheck):
    """AddField of a NOT NULL column whose default exists only in Python (no db_default)."""

    name = "migrations.add_field_python_default"

    def check_operation(self, op: Operation, migration: Migration) -> None:
        field = _not_null_field_added_to_existing_table(op, migration)
        if field is None:
            return
        if not _given(field, "default") or _given(field, "db_default"):
            return
        model, name = op.text("model_name"), op.text("name")
        if model and name and (model.lower(), name.lower()) in migration.kept_db_defaults:
            return
        self.report(
            op.call,
            f"AddField adds NOT NULL column {label(op)} with a Python-only default: Django fills the "
            "existing rows and then drops the database default, so INSERTs from the previous release "
            "fail until every pod runs the new code.",
        )


class AddIndexBlocking(MigrationCheck):
    """AddIndex, or AddField with db_index/unique, on an existing table: a plain CREATE INDEX."""

    name = "migrations.add_index_blocking"

    def check_operation(self, op: Operation, migration: Migration) -> None:
        if migration.is_new_model(op.text("model_name")):
            return
        if op.kind == "AddIndex":
            self.report(
                op.call,
                f"AddIndex on existing table {label(op, field_key='')} runs a plain CREATE INDEX, which "
                "blocks writes to it for the whole build on PostgreSQL; use AddIndexConcurrently in a "
                "non-atomic migration.",
            )
            return
        if op.kind != "AddField":
            return
        field = field_call(op)
        if field is None or callee_name(field) in _NO_COLUMN:
            return
        for key in ("db_index", "unique"):
            if is_true(keyword(field, key)):
                self.report(
                    op.call,
                    f"AddField with {key}=True on existing table {label(op, field_key='')} builds the "
                    "index with a plain CREATE INDEX, which blocks writes for the whole build on "
                    "PostgreSQL; add the column first, then the index with AddIndexConcurrently.",
                )
                return


class AlterFieldAddsIndex(HistoryCheck):
    """AlterField whose field has db_index/unique: if that is new, the index is built blocking.
    When the previous definition is known, an index it already had is not reported, and a new
    unique one is left to `UniqueOnExistingTable`."""

    name = "migrations.alter_field_index"

    def check_with_state(self, op: Operation, migration: Migration, state: State) -> None:
        if op.kind != "AlterField" or migration.is_new_model(op.text("model_name")):
            return
        field = field_call(op)
        if field is None:
            return
        previous = state.field(op.text("model_name"), op.text("name"))
        known = previous is not None and previous.unique is not None
        if known and is_true(keyword(field, "unique")):
            return  # UniqueOnExistingTable reports a new unique index; an old one is no news
        for key in ("db_index", "unique"):
            if is_true(keyword(field, key)):
                if known and (previous.unique or previous.get("db_index") is True):
                    continue
                new = "the index is new (the previous definition had none)" if known else "if the index is new"
                self.report(
                    op.call,
                    f"AlterField sets {key}=True on {label(op)}: {new}, PostgreSQL builds it with a plain "
                    "CREATE INDEX that blocks writes for the whole build.",
                )
                return


MIGRATION_CHECKS: tuple[type[Check], ...] = (
    DropData,
    Rename,
    RunPythonWithoutReverse,
    RunSqlWithoutReverse,
    AddNotNullField,
    AddFieldPythonDefault,
    AddIndexBlocking,
    AlterFieldAddsIndex,
    AlterFieldColumnType,
    AlterFieldSetsNotNull,
    UniqueOnExistingTable,
    RunPythonLiveModels,
    BackfillInSchemaMigration,
)
