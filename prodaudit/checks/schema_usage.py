"""Where application code still uses what a migration drops or renames, and where it writes a table
that gains a NOT NULL column: the cross-file half of the data-safety checks.

Matching is by syntax, never by import or execution, and deliberately narrow so a hit is worth a
Stop-Ship: a model class that still declares the column; ORM calls rooted at the model
(`Order.objects.filter(total=...)`, `Order(total=...)`); attributes read from a variable named after
the model (`order.total`); `fields`/`list_display` strings of a form, serializer or admin bound to
the model; raw SQL strings naming the table (and the column). A file that never names the model or
the table is not read further."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from prodaudit.checks.schema_changes import ADD_NOT_NULL, SchemaChange

_ORM_WRITES = {"create", "get_or_create", "update_or_create", "bulk_create", "update", "bulk_update"}
_SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|JOIN|INTO|WHERE)\b", re.I)
_JS_STRING = re.compile(r"(['\"`])((?:\\.|(?!\1).)*)\1", re.S)


@dataclass(frozen=True)
class Usage:
    path: str
    line: int
    what: str  # "declares the field", "reads it", ...

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.what})"


@dataclass
class CodeFile:
    path: str
    text: str
    language: str

    @cached_property
    def tree(self) -> ast.Module | None:
        if self.language != "python":
            return None
        try:
            return ast.parse(self.text)
        except (SyntaxError, ValueError):
            return None

    def mentions(self, word: str) -> bool:
        return word in self.text and re.search(rf"\b{re.escape(word)}\b", self.text) is not None


def find_usages(change: SchemaChange, files: Sequence[CodeFile]) -> list[Usage]:
    """Places in `files` that read or write what `change` removes, or (ADD_NOT_NULL) write the table."""
    out: list[Usage] = []
    for file in files:
        if change.flavor == "django":
            out.extend(_django_usages(change, file))
        else:
            out.extend(_table_usages(change, file))
    return sorted(set(out), key=lambda u: (u.path, u.line, u.what))


# --- Django models ----------------------------------------------------------------------------


def _django_usages(change: SchemaChange, file: CodeFile) -> Iterator[Usage]:
    tree = file.tree
    if tree is None or change.table.lower() not in file.text.lower():
        return
    in_app = change.app_dir is not None and file.path.startswith(change.app_dir)
    classes = _model_classes(tree, change.table) if in_app else []
    model_names = {c.name for c in classes} | _imported_model_names(tree, change, in_app)
    if not model_names:
        return
    column = change.column
    if change.action == ADD_NOT_NULL:
        yield from _orm_writes(file, tree, model_names)
        return
    if column is None:
        # The model itself is dropped or renamed: only a model class still defined in its app
        # counts (were the class gone, its imports would fail on their own, long before a deploy).
        for cls in classes:
            yield Usage(file.path, cls.lineno, f"still defines model {cls.name}")
        return
    for cls in classes:
        for stmt in cls.body:
            if column in _assigned_names(stmt):
                yield Usage(file.path, stmt.lineno, "the model still declares the field")
    yield from _column_references(file, tree, model_names, column)


def _model_classes(tree: ast.Module, model: str) -> list[ast.ClassDef]:
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name.lower() == model.lower() and node.bases
    ]  # fmt: skip


def _imported_model_names(tree: ast.Module, change: SchemaChange, in_app: bool) -> set[str]:
    """Local names of the model imported from its own app's models: `from shop.models import Order`,
    `from x.shop.models import Order as O`, or `from .models import Order` inside the app. A model of
    the same name in another app is another table."""
    out = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        parts = (node.module or "").split(".")
        if parts[-1] != "models":
            continue
        same_app = (len(parts) >= 2 and parts[-2] == change.app) or (node.level > 0 and len(parts) == 1 and in_app)
        if same_app:
            out |= {a.asname or a.name for a in node.names if a.name.lower() == change.table.lower()}
    return out


def _assigned_names(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, ast.Assign):
        return {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return {stmt.target.id}
    return set()


def _root_name(node: ast.expr) -> str | None:
    """`Order.objects.filter(...).values` -> "Order"."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return node.id if isinstance(node, ast.Name) else None


def _names_column(value: str, column: str) -> bool:
    value = value.lstrip("-")
    return value == column or value.startswith(column + "__")


def _column_references(file: CodeFile, tree: ast.Module, models: set[str], column: str) -> Iterator[Usage]:
    lowered = {m.lower() for m in models}
    bound_classes = {id(c) for c in _classes_bound_to(tree, models)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _root_name(node.func) in models:
            for kw in node.keywords:
                if kw.arg and _names_column(kw.arg, column):
                    yield Usage(file.path, node.lineno, f"queries or sets {kw.arg}")
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and _names_column(arg.value, column):
                    yield Usage(file.path, node.lineno, f"names '{arg.value}'")
        elif isinstance(node, ast.Attribute) and node.attr == column and _looks_like_instance(node.value, lowered):
            yield Usage(file.path, node.lineno, "reads or writes the field")
        elif isinstance(node, ast.ClassDef) and id(node) in bound_classes:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and inner.value == column:
                    yield Usage(file.path, inner.lineno, f"lists '{column}' in {node.name}")


def _looks_like_instance(value: ast.expr, models_lower: set[str]) -> bool:
    """`order.total`, `self.order.total`, `new_order.total`, `Order.total`."""
    name = value.attr if isinstance(value, ast.Attribute) else value.id if isinstance(value, ast.Name) else None
    if name is None:
        return False
    lowered = name.lower()
    return any(m == lowered or lowered.endswith("_" + m) or lowered.startswith(m + "_") for m in models_lower)


def _classes_bound_to(tree: ast.Module, models: set[str]) -> Iterator[ast.ClassDef]:
    """Forms/serializers (`class Meta: model = Order`) and admins (`@admin.register(Order)`)."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and any(isinstance(a, ast.Name) and a.id in models for a in deco.args):
                yield node
                break
        else:
            for inner in node.body:
                if isinstance(inner, ast.ClassDef) and inner.name == "Meta":
                    for stmt in inner.body:
                        if (
                            "model" in _assigned_names(stmt)
                            and isinstance(stmt, ast.Assign)
                            and isinstance(stmt.value, ast.Name)
                            and stmt.value.id in models
                        ):
                            yield node


def _orm_writes(file: CodeFile, tree: ast.Module, models: set[str]) -> Iterator[Usage]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in models:
            yield Usage(file.path, node.lineno, f"builds a new {func.id}")
        elif isinstance(func, ast.Attribute) and func.attr in _ORM_WRITES and _root_name(func) in models:
            yield Usage(file.path, node.lineno, f"{func.attr}() on {_root_name(func)}")


# --- Tables (Alembic and SQL migrations) --------------------------------------------------------


def _table_usages(change: SchemaChange, file: CodeFile) -> Iterator[Usage]:
    table, column = change.table, change.column
    if not file.mentions(table):
        return
    tree = file.tree
    if tree is not None:
        yield from _mapped_class_usages(change, file, tree)
        strings = [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    else:
        strings = [(file.text.count("\n", 0, m.start()) + 1, m.group(2)) for m in _JS_STRING.finditer(file.text)]
    for line, value in strings:
        if not _SQL_WORDS.search(value) or not re.search(rf"\b{re.escape(table)}\b", value, re.I):
            continue
        if change.action == ADD_NOT_NULL:
            if re.search(rf"\bINSERT\s+INTO\s+[\"`]?{re.escape(table)}\b", value, re.I):
                yield Usage(file.path, line, f"inserts into {table} in SQL")
        elif column is None:
            if re.search(rf"\b(FROM|JOIN|INTO|UPDATE|TABLE)\s+[\"`]?{re.escape(table)}\b", value, re.I):
                yield Usage(file.path, line, f"uses table {table} in SQL")
        elif re.search(rf"\b{re.escape(column)}\b", value, re.I):
            yield Usage(file.path, line, f"uses {table}.{column} in SQL")


def _mapped_class_usages(change: SchemaChange, file: CodeFile, tree: ast.Module) -> Iterator[Usage]:
    """SQLAlchemy classes with `__tablename__`, Django models with `Meta.db_table`, `Table("t", ...)`."""
    table, column = change.table.lower(), change.column
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and _mapped_table(node) == table:
            if change.action == ADD_NOT_NULL:
                yield from _orm_writes(file, tree, {node.name})
            elif column is None:
                yield Usage(file.path, node.lineno, f"class {node.name} still maps table {change.table}")
            else:
                for stmt in node.body:
                    if column in _assigned_names(stmt) or _declares_column_name(stmt, column):
                        yield Usage(file.path, stmt.lineno, f"class {node.name} still maps the column")
        elif isinstance(node, ast.Call) and _callee(node) == "Table" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and str(first.value).lower() == table and change.action != ADD_NOT_NULL:
                if column is None:
                    yield Usage(file.path, node.lineno, f"Table('{change.table}') is still defined")
                elif any(_column_call_named(a, column) for a in node.args[1:]):
                    yield Usage(file.path, node.lineno, f"Table('{change.table}') still has the column")


def _mapped_table(cls: ast.ClassDef) -> str | None:
    for stmt in cls.body:
        if "__tablename__" in _assigned_names(stmt) and isinstance(stmt, ast.Assign):
            value = stmt.value
            return value.value.lower() if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and "db_table" in _assigned_names(inner):
                    value = inner.value
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        return value.value.lower()
    return None


def _declares_column_name(stmt: ast.stmt, column: str) -> bool:
    """`total_cents = Column("total", ...)` / `models.IntegerField(db_column="total")`."""
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    return isinstance(value, ast.Call) and (
        _column_call_named(value, column)
        or any(k.arg == "db_column" and isinstance(k.value, ast.Constant) and k.value.value == column for k in value.keywords)
    )


def _column_call_named(node: ast.expr, column: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and _callee(node) in ("Column", "mapped_column")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == column
    )


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
