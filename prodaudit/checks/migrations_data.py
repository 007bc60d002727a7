"""Django migration checks on data steps: RunPython code that uses today's models instead of the
historical ones (DATA023), and backfills inside a schema migration's transaction (DATA025)."""

from __future__ import annotations

import re

import libcst as cst

from prodaudit.checks import _runpython as runpython
from prodaudit.checks._migration import Migration
from prodaudit.checks._migration_check import MigrationCheck, sql_statements, strip_sql_comments


_DML = re.compile(r"(?:^|;)\s*(?:WITH\b[^;]*?\)\s*)?(UPDATE|INSERT|DELETE|MERGE)\b", re.I)




class RunPythonLiveModels(MigrationCheck):
    """RunPython code that uses today's model classes instead of the historical `apps.get_model`."""

    name = "migrations.run_python_live_models"

    def check_migration(self, migration: Migration, node: cst.ClassDef) -> None:
        functions = runpython.local_functions(self.module, node)
        bindings = runpython.module_bindings(self.module)
        seen: set[int] = set()
        for op in migration.operations:
            if op.kind != "RunPython" or op.opaque:
                continue
            code = runpython.run_python_code(op, functions)
            for use in runpython.live_model_uses(code, bindings):
                if id(use.node) in seen:
                    continue
                seen.add(id(use.node))
                self.report(
                    use.node,
                    f"RunPython code {use.what}: that is the model as the code defines it today, not as it "
                    "was at this migration; once a later migration changes the model, this one fails or "
                    "writes the wrong columns on a fresh database. Use apps.get_model(...).",
                )


# Operations that take a lock on an existing table which stays held until the migration commits.
_SCHEMA_KINDS = {
    "AddField": "model_name", "AlterField": "model_name", "RemoveField": "model_name",
    "RenameField": "model_name", "AddIndex": "model_name", "RemoveIndex": "model_name",
    "RenameIndex": "model_name", "AddConstraint": "model_name", "RemoveConstraint": "model_name",
    "AlterUniqueTogether": "name", "AlterIndexTogether": "name", "AlterModelTable": "name",
    "RenameModel": "old_name", "DeleteModel": "name",
}  # fmt: skip


class BackfillInSchemaMigration(MigrationCheck):
    """An atomic migration that both alters existing tables and rewrites rows (RunPython, DML in
    RunSQL): on PostgreSQL the schema locks are held while the rows are rewritten."""

    name = "migrations.backfill_in_schema_migration"

    def check_migration(self, migration: Migration, node: cst.ClassDef) -> None:
        if not migration.atomic:
            return
        altered = sorted(
            {
                name
                for op in migration.operations
                if op.kind in _SCHEMA_KINDS
                and (name := op.text(_SCHEMA_KINDS[op.kind]))
                and not migration.is_new_model(name)
            }
        )
        if not altered:
            return
        functions = runpython.local_functions(self.module, node)
        tables = ", ".join(altered[:3]) + (f" and {len(altered) - 3} more" if len(altered) > 3 else "")
        for op in migration.operations:
            if op.opaque:
                continue
            if op.kind == "RunPython":
                if not runpython.writes_rows(runpython.run_python_code(op, functions, forward_only=True)):
                    continue
                step = "RunPython"
            elif op.kind == "RunSQL":
                statements = sql_statements(op.arg("sql"))
                if statements is None or not any(_DML.search(strip_sql_comments(s)) for s in statements):
                    continue
                step = "RunSQL with UPDATE/INSERT/DELETE"
            else:
                continue
            self.report(
                op.call,
                f"{step} rewrites rows in the same migration that alters {tables}: on PostgreSQL it is one "
                "transaction, so the locks taken by the schema change are held until every row is written.",
            )
