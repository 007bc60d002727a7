"""What a migration file does to existing tables, in one shape for Django, Alembic and SQL migrations:
columns and tables it drops or renames, and NOT NULL columns it adds without a database default.

The cross-file checks (`schema_usage`) compare these changes with the application code. Only the
"up" direction counts, and tables the same migration creates are exempt (no rows, no old readers).
Files are read as syntax trees or SQL statements; nothing is imported."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from prodaudit.checks import sql
from prodaudit.checks._imports import ImportMap
from prodaudit.checks._migration import Migration, Operation, keyword, read_migration
from prodaudit.checks.migrations import _not_null_field_added_to_existing_table

DROP, RENAME, ADD_NOT_NULL = "drop", "rename", "add-not-null"
# The Django operations read here: a migration naming none of them is not parsed (most are not,
# and this runs on every scanned migration, outside the CST engine's cache).
_DJANGO_OPERATIONS = ("RemoveField", "RenameField", "DeleteModel", "RenameModel", "AddField")


@dataclass(frozen=True)
class SchemaChange:
    action: str  # DROP | RENAME | ADD_NOT_NULL
    flavor: str  # "django" (names are model and field names) | "table" (SQL table and column names)
    table: str  # Django: the model name as written in the migration; else the table name
    column: str | None  # None: the whole table/model
    new_name: str | None  # for renames
    app: str | None  # Django: the name of the app folder holding `migrations/`
    span: tuple[int, int, int, int]  # where the migration does it
    app_dir: str | None = None  # Django: that folder's path with a trailing "/" ("" at the root)

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


def schema_changes(path: str, text: str) -> list[SchemaChange]:
    """The changes a migration file makes; [] for anything that is not a recognised migration."""
    if path.endswith(".py"):
        if "Migration" in text and "operations" in text and "django" in text:
            return _django(path, text) if any(op in text for op in _DJANGO_OPERATIONS) else []
        if "alembic" in text and "def upgrade" in text:
            return _alembic(text)
        return []
    if path.endswith(".sql"):
        return _sql(path, text)
    return []


# --- Django ---------------------------------------------------------------------------------


def _django(path: str, text: str) -> list[SchemaChange]:
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return []
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    imports = ImportMap(wrapper.module)
    parts = path.split("/")
    app = parts[-3] if len(parts) >= 3 and parts[-2] == "migrations" else None
    app_dir = "/".join(parts[:-2]) + "/" if app else None
    out: list[SchemaChange] = []
    for node in wrapper.module.body:
        if not isinstance(node, cst.ClassDef):
            continue
        migration = read_migration(imports, node)
        if migration is None:
            continue
        for op in migration.operations:
            change = _django_change(op, migration, app, app_dir)
            if change is not None:
                pos = positions[op.call]
                out.append(change(span=(pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1)))
    return out


def _django_change(op: Operation, migration: Migration, app: str | None, app_dir: str | None):
    """A partial SchemaChange (missing its span), or None."""
    if op.opaque:
        return None
    model = op.text("model_name")

    def make(action: str, table: str | None, column: str | None, new_name: str | None = None):
        if not table or migration.is_new_model(table):
            return None
        return lambda span: SchemaChange(action, "django", table, column, new_name, app, span, app_dir)

    if op.kind == "RemoveField":
        field = op.text("name")
        if model and field and (model.lower(), field.lower()) in migration.added_fields:
            return None
        return make(DROP, model, field) if field else None
    if op.kind == "RenameField":
        old, new = op.text("old_name"), op.text("new_name")
        return make(RENAME, model, old, new) if old and new else None
    if op.kind == "DeleteModel":
        return make(DROP, op.text("name"), None)
    if op.kind == "RenameModel":
        old, new = op.text("old_name"), op.text("new_name")
        return make(RENAME, old, None, new) if old and new else None
    if op.kind == "AddField":
        field = _not_null_field_added_to_existing_table(op, migration)
        if field is not None and keyword(field, "db_default") is None:
            return make(ADD_NOT_NULL, model, op.text("name"))
    return None


# --- Alembic --------------------------------------------------------------------------------


def _alembic(text: str) -> list[SchemaChange]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)
    if upgrade is None:
        return []
    created = {s for call in _calls(upgrade) if _method(call) == "create_table" and (s := _str_arg(call, 0))}
    out: list[SchemaChange] = []
    for call, batch_table in _alembic_calls(upgrade):
        method = _method(call)
        # batch_op.drop_column("c") has no table argument: the table comes from batch_alter_table.
        shift = 0 if batch_table is None else -1
        table = batch_table or _str_arg(call, 0)
        if not table or table in created:
            continue
        span = (call.lineno, call.col_offset + 1, call.end_lineno or call.lineno, (call.end_col_offset or 0) + 1)
        if method == "drop_column" and (column := _str_arg(call, 1 + shift, "column_name")):
            out.append(SchemaChange(DROP, "table", table, column, None, None, span))
        elif method == "drop_table" and batch_table is None:
            out.append(SchemaChange(DROP, "table", table, None, None, None, span))
        elif method == "rename_table" and batch_table is None and (new := _str_arg(call, 1, "new_table_name")):
            out.append(SchemaChange(RENAME, "table", table, None, new, None, span))
        elif method == "alter_column" and (new := _kw_str(call, "new_column_name")):
            if column := _str_arg(call, 1 + shift, "column_name"):
                out.append(SchemaChange(RENAME, "table", table, column, new, None, span))
        elif method == "add_column":
            column_call = _arg(call, 1 + shift, "column")
            if isinstance(column_call, ast.Call) and _adds_not_null_without_default(column_call):
                if name := _str_arg(column_call, 0, "name"):
                    out.append(SchemaChange(ADD_NOT_NULL, "table", table, name, None, None, span))
    return out


def _alembic_calls(func: ast.FunctionDef) -> Iterator[tuple[ast.Call, str | None]]:
    """`op.x(...)` calls, and `batch_op.x(...)` calls with the table of their batch block."""
    for node in ast.walk(func):
        if isinstance(node, ast.With):
            for item in node.items:
                ctx = item.context_expr
                if isinstance(ctx, ast.Call) and _method(ctx) == "batch_alter_table" and isinstance(item.optional_vars, ast.Name):
                    table, alias = _str_arg(ctx, 0, "table_name"), item.optional_vars.id
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Call) and _receiver(inner) == alias:
                            yield inner, table
        elif isinstance(node, ast.Call) and _receiver(node) == "op":
            yield node, None


def _adds_not_null_without_default(column: ast.Call) -> bool:
    nullable = next((k.value for k in column.keywords if k.arg == "nullable"), None)
    if not (isinstance(nullable, ast.Constant) and nullable.value is False):
        return False
    return not any(k.arg in ("server_default", "primary_key", "autoincrement", "Identity") for k in column.keywords)


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    return (n for n in ast.walk(node) if isinstance(n, ast.Call))


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _receiver(call: ast.Call) -> str | None:
    func = call.func
    return func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None


def _arg(call: ast.Call, index: int, name: str | None = None) -> ast.expr | None:
    if name is not None:
        for k in call.keywords:
            if k.arg == name:
                return k.value
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    return positional[index] if 0 <= index < len(positional) else None


def _str_arg(call: ast.Call, index: int, name: str | None = None) -> str | None:
    value = _arg(call, index, name)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None


def _kw_str(call: ast.Call, name: str) -> str | None:
    return _str_arg(call, -1, name)


# --- SQL ------------------------------------------------------------------------------------

_ID = r'"?([\w$]+)"?'
_QUALIFIED = rf'(?:"?[\w$]+"?\.)?{_ID}'
_ALTER = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?{_QUALIFIED}\s+(.*)$", re.I | re.S)
_DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?{_QUALIFIED}", re.I)
_CREATE_TABLE = re.compile(rf"^CREATE\s+(?:\w+\s+)*?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_QUALIFIED}", re.I)
_DROP_COLUMN = re.compile(rf"\bDROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?{_ID}", re.I)
_RENAME_COLUMN = re.compile(rf"^RENAME\s+(?:COLUMN\s+)?{_ID}\s+TO\s+{_ID}", re.I)
_RENAME_TABLE = re.compile(rf"^RENAME\s+TO\s+{_ID}", re.I)
_ADD_COLUMN = re.compile(rf"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?{_ID}\s+([^,]*)", re.I)


def _sql(path: str, text: str) -> list[SchemaChange]:
    up = sql.up_direction(text, path)
    created: set[str] = set()
    out: list[SchemaChange] = []
    for stmt in sql.statements(up):
        span = sql.span_of(text, stmt.start, stmt.end)
        if m := _CREATE_TABLE.match(stmt.text):
            created.add(m.group(1).lower())
        elif m := _DROP_TABLE.match(stmt.text):
            if m.group(1).lower() not in created:
                out.append(SchemaChange(DROP, "table", m.group(1), None, None, None, span))
        elif (m := _ALTER.match(stmt.text)) and m.group(1).lower() not in created:
            table, clauses = m.group(1), m.group(2)
            for d in _DROP_COLUMN.finditer(clauses):
                out.append(SchemaChange(DROP, "table", table, d.group(1), None, None, span))
            if r := _RENAME_COLUMN.match(clauses):
                if r.group(1).upper() != "CONSTRAINT":
                    out.append(SchemaChange(RENAME, "table", table, r.group(1), r.group(2), None, span))
            elif r := _RENAME_TABLE.match(clauses):
                out.append(SchemaChange(RENAME, "table", table, None, r.group(1), None, span))
            for a in _ADD_COLUMN.finditer(clauses):
                name, rest = a.group(1), a.group(2)
                if name.upper() in ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "INDEX", "KEY"):
                    continue
                if re.search(r"\bNOT\s+NULL\b", rest, re.I) and not re.search(r"\bDEFAULT\b|\bGENERATED\b", rest, re.I):
                    out.append(SchemaChange(ADD_NOT_NULL, "table", table, name, None, None, span))
    return out
