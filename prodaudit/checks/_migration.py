"""Read a Django migration's `operations` list from the syntax tree, without importing it.

Operations are recognised by qualified name (`django.db.migrations.RemoveField`, however imported),
so a project's own class that happens to be called `RemoveField` is not mistaken for Django's.
Only operations that touch the database are returned: the `state_operations` of
`SeparateDatabaseAndState` and `RunSQL` change Django's model state, not the tables."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from prodaudit.checks._imports import ImportMap, last_name

_DJANGO_OPS = ("django.db.migrations.", "django.contrib.postgres.operations.")
# Third-party operations the checks understand: django-add-default-value keeps a database default.
_OTHER_OPS = {"django_add_default_value.AddDefaultValue", "django_add_default_value.add_default_value.AddDefaultValue"}
_MIGRATION_BASES = {"django.db.migrations.Migration", "django.db.migrations.migration.Migration"}

# Positional signatures of the operations the checks read (Django 3.2 - 5.2).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "CreateModel": ("name", "fields", "options", "bases", "managers"),
    "DeleteModel": ("name",),
    "RenameModel": ("old_name", "new_name"),
    "AddField": ("model_name", "name", "field", "preserve_default"),
    "AlterField": ("model_name", "name", "field", "preserve_default"),
    "RemoveField": ("model_name", "name"),
    "RenameField": ("model_name", "old_name", "new_name"),
    "AddIndex": ("model_name", "index"),
    "AddIndexConcurrently": ("model_name", "index"),
    "RemoveIndex": ("model_name", "name"),
    "RenameIndex": ("model_name", "new_name", "old_name", "old_fields"),
    "AddConstraint": ("model_name", "constraint"),
    "RemoveConstraint": ("model_name", "name"),
    "AlterUniqueTogether": ("name", "unique_together"),
    "AlterIndexTogether": ("name", "index_together"),
    "AlterModelTable": ("name", "table"),
    "AddDefaultValue": ("model_name", "name", "value"),
    "RunPython": ("code", "reverse_code", "atomic", "hints", "elidable"),
    "RunSQL": ("sql", "reverse_sql", "state_operations", "hints", "elidable"),
    "SeparateDatabaseAndState": ("database_operations", "state_operations"),
}


@dataclass(frozen=True)
class Operation:
    kind: str  # "RemoveField", "AddField", ...
    call: cst.Call

    def arg(self, key: str) -> cst.BaseExpression | None:
        """The argument bound to parameter `key`, by keyword or by position; None when absent."""
        return bound_arg(self.call, SIGNATURES.get(self.kind, ()), key)

    def text(self, key: str) -> str | None:
        value = self.arg(key)
        return literal_str(value) if value is not None else None

    @property
    def opaque(self) -> bool:
        """`*args`/`**kwargs` in the call: which parameters are set cannot be read."""
        return any(a.star for a in self.call.args)


@dataclass(frozen=True)
class Migration:
    operations: tuple[Operation, ...]  # database operations in order, nested ones flattened
    atomic: bool = True  # `atomic = False`: each operation commits on its own (PostgreSQL)

    @cached_property  # asked once per operation by several checks
    def created_models(self) -> frozenset[str]:
        """Models created by this migration (lower-case, as Django compares them): their tables
        are new, so adding, indexing or dropping their columns cannot hurt existing rows."""
        return frozenset(
            name.lower() for op in self.operations if op.kind == "CreateModel" and (name := op.text("name"))
        )

    @cached_property
    def added_fields(self) -> frozenset[tuple[str, str]]:
        return frozenset(
            (model.lower(), field.lower())
            for op in self.operations
            if op.kind == "AddField" and (model := op.text("model_name")) and (field := op.text("name"))
        )

    @cached_property
    def kept_db_defaults(self) -> frozenset[tuple[str, str]]:
        """(model, field) given a lasting database default by django-add-default-value's AddDefaultValue."""
        return frozenset(
            (model.lower(), field.lower())
            for op in self.operations
            if op.kind == "AddDefaultValue" and (model := op.text("model_name")) and (field := op.text("name"))
        )

    def is_new_model(self, model: str | None) -> bool:
        return model is not None and model.lower() in self.created_models


def read_migration(imports: ImportMap, node: cst.ClassDef) -> Migration | None:
    """The migration defined by `node`, if it is a Django `Migration` class with an `operations` list."""
    if not _is_migration_class(imports, node):
        return None
    operations: tuple[Operation, ...] | None = None
    atomic = True
    for stmt in node.body.body if isinstance(node.body, cst.IndentedBlock) else ():
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            value = _operations_value(small)
            if value is not None and operations is None:
                operations = tuple(_operations(imports, value))
            elif _assigns_false(small, "atomic"):
                atomic = False
    return Migration(operations, atomic) if operations is not None else None


def _assigns_false(small: cst.BaseSmallStatement, name: str) -> bool:
    return (
        isinstance(small, cst.Assign)
        and any(isinstance(t.target, cst.Name) and t.target.value == name for t in small.targets)
        and isinstance(small.value, cst.Name)
        and small.value.value == "False"
    )


def _is_migration_class(imports: ImportMap, node: cst.ClassDef) -> bool:
    return any(imports.qualify(base.value) in _MIGRATION_BASES for base in node.bases)


def _operations_value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, cst.Assign):
        targets = [t.target for t in small.targets]
        if any(isinstance(t, cst.Name) and t.value == "operations" for t in targets):
            return small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == "operations":
        return small.value
    return None


def _operations(imports: ImportMap, value: cst.BaseExpression) -> Iterator[Operation]:
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        yield from _operations(imports, value.left)
        yield from _operations(imports, value.right)
        return
    if not isinstance(value, (cst.List, cst.Tuple)):
        return
    for element in value.elements:
        if isinstance(element, cst.StarredElement) or not isinstance(element.value, cst.Call):
            continue
        call = element.value
        kind = operation_kind(imports, call)
        if kind is None:
            continue
        if kind == "SeparateDatabaseAndState":
            nested = bound_arg(call, SIGNATURES[kind], "database_operations")
            if nested is not None:
                yield from _operations(imports, nested)
            continue
        yield Operation(kind, call)


def operation_kind(imports: ImportMap, call: cst.Call) -> str | None:
    """"RemoveField" for a call of Django's RemoveField (or a postgres operation), else None."""
    name = imports.qualify(call.func)
    if name and (name.startswith(_DJANGO_OPS) or name in _OTHER_OPS):
        return name.rsplit(".", 1)[1]
    return None


def bound_arg(call: cst.Call, signature: tuple[str, ...], key: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == key:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if key in signature:
        index = signature.index(key)
        if index < len(positional):
            return positional[index].value
    return None


def keyword(call: cst.Call, key: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == key:
            return arg.value
    return None


def literal_str(node: cst.BaseExpression) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def is_true(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "True"


def is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def callee_name(call: cst.Call) -> str:
    """The last name of what is called: `models.CharField(...)` -> "CharField"."""
    return last_name(call.func)
