"""Django's model state, as far as the migration checks need it: each model's fields (as
`FieldDef`) and its unique_together, built by replaying operations in order. Operations come from
sibling files (`ast`, see `_migration_history`) or from the migration being checked (LibCST); both
are decoded the same way. What cannot be read stays unknown (None), never guessed."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import libcst as cst

from prodaudit.checks._field_def import UNKNOWN, FieldDef, cst_literal, field_def, field_def_from_cst, literal
from prodaudit.checks._migration import SIGNATURES, Operation, literal_str


@dataclass
class _Model:
    fields: dict[str, FieldDef | None]  # None: the definition could not be read
    unique_together: frozenset[tuple[str, ...]] | None  # None: unknown


class State:
    """Models of one app (lower-case names) as the operations replayed so far left them. Replaying
    is mutation, so a State is owned by one caller: `copy()` before replaying further."""

    def __init__(self, models: Mapping[str, _Model] | None = None) -> None:
        self._models: dict[str, _Model] = dict(models or {})

    def copy(self) -> State:
        return State({k: _Model(dict(m.fields), m.unique_together) for k, m in self._models.items()})

    def field(self, model: str | None, name: str | None) -> FieldDef | None:
        """The field's current definition; None when unknown (or the field does not exist)."""
        if not model or not name:
            return None
        m = self._models.get(model.lower())
        return m.fields.get(name.lower()) if m is not None else None

    def unique_together(self, model: str | None) -> frozenset[tuple[str, ...]] | None:
        m = self._models.get(model.lower()) if model else None
        return m.unique_together if m is not None else None

    def unique_sets(self, model: str | None) -> list[frozenset[str]]:
        """Field sets known to be unique: unique fields and unique_together tuples (what is
        unknown is left out)."""
        m = self._models.get(model.lower()) if model else None
        if m is None:
            return []
        out = [frozenset({name}) for name, f in m.fields.items() if f is not None and f.unique]
        out.extend(frozenset(n.lower() for n in t) for t in m.unique_together or ())
        return out

    def apply(self, kind: str, call: ast.Call) -> None:
        """Replay one operation read from a sibling file (`ast`)."""
        self._apply(kind, _AstOperation(call, SIGNATURES.get(kind, ())))

    def apply_operation(self, op: Operation) -> None:
        """Replay one operation of the migration being checked (LibCST, no code generation)."""
        self._apply(op.kind, _CstOperation(op))

    def _apply(self, kind: str, op: _Reader) -> None:
        """Replay one operation on the models (operations that change no model are ignored)."""
        if kind == "CreateModel":
            name = op.text("name")
            if name:
                self._models[name.lower()] = _Model(op.fields("fields"), op.options_unique_together("options"))
        elif kind == "DeleteModel":
            name = op.text("name")
            if name:
                self._models.pop(name.lower(), None)
        elif kind == "RenameModel":
            old, new = op.text("old_name"), op.text("new_name")
            if old and new and old.lower() in self._models:
                self._models[new.lower()] = self._models.pop(old.lower())
        elif kind in ("AddField", "AlterField"):
            model, name = op.text("model_name"), op.text("name")
            if model and name:
                # A model not seen yet (its history is unknown) gets an entry that knows this field only.
                m = self._models.setdefault(model.lower(), _Model({}, None))
                m.fields[name.lower()] = op.field("field")
        elif kind == "RemoveField":
            model, name = op.text("model_name"), op.text("name")
            if model and name and model.lower() in self._models:
                self._models[model.lower()].fields.pop(name.lower(), None)
        elif kind == "RenameField":
            model, old, new = op.text("model_name"), op.text("old_name"), op.text("new_name")
            m = self._models.get(model.lower()) if model else None
            if m is not None and old and new and old.lower() in m.fields:
                m.fields[new.lower()] = m.fields.pop(old.lower())
                m.unique_together = None  # its tuples name fields; not worth renaming inside
        elif kind == "AlterUniqueTogether":
            name = op.text("name")
            if name:
                m = self._models.setdefault(name.lower(), _Model({}, None))
                m.unique_together = op.unique_together("unique_together")


class _Reader(Protocol):
    """The arguments of one operation, decoded the same way from `ast` and LibCST nodes."""

    def text(self, key: str) -> str | None: ...
    def field(self, key: str) -> FieldDef | None: ...
    def fields(self, key: str) -> dict[str, FieldDef | None]: ...
    def unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None: ...
    def options_unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None: ...


class _AstOperation:
    def __init__(self, call: ast.Call, signature: tuple[str, ...]) -> None:
        self.arg = ast_binder(call, signature)

    def text(self, key: str) -> str | None:
        return ast_text(self.arg(key))

    def field(self, key: str) -> FieldDef | None:
        return field_def(self.arg(key))

    def fields(self, key: str) -> dict[str, FieldDef | None]:
        return _fields(self.arg(key))

    def unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None:
        return unique_together_value(self.arg(key))

    def options_unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None:
        return _unique_together_option(self.arg(key))


class _CstOperation:
    def __init__(self, op: Operation) -> None:
        self.op = op

    def text(self, key: str) -> str | None:
        return self.op.text(key)

    def field(self, key: str) -> FieldDef | None:
        return field_def_from_cst(self.op.arg(key))

    def fields(self, key: str) -> dict[str, FieldDef | None]:
        node = self.op.arg(key)
        out: dict[str, FieldDef | None] = {}
        for element in node.elements if isinstance(node, (cst.List, cst.Tuple)) else ():
            pair = element.value
            if isinstance(pair, cst.Tuple) and len(pair.elements) == 2:
                name = literal_str(pair.elements[0].value)
                if name:
                    out[name.lower()] = field_def_from_cst(pair.elements[1].value)
        return out

    def unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None:
        node = self.op.arg(key)
        return normalize_unique_together(cst_literal(node)) if node is not None else frozenset()

    def options_unique_together(self, key: str) -> frozenset[tuple[str, ...]] | None:
        node = self.op.arg(key)
        if node is None:
            return frozenset()
        if not isinstance(node, cst.Dict):
            return None
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return None  # {**options}
            if literal_str(element.key) == "unique_together":
                return normalize_unique_together(cst_literal(element.value))
        return frozenset()


def unique_together_value(node: ast.expr | None) -> frozenset[tuple[str, ...]] | None:
    return normalize_unique_together(literal(node)) if node is not None else frozenset()


def normalize_unique_together(value: object) -> frozenset[tuple[str, ...]] | None:
    """Django's normalisation of `unique_together`: one tuple of names or a set of them; None
    when the value is not a literal."""
    if value is UNKNOWN or value is None:
        return None if value is UNKNOWN else frozenset()
    if isinstance(value, (tuple, list, set, frozenset)):
        items = list(value)
        if items and all(isinstance(v, str) for v in items):
            return frozenset({tuple(items)})
        if all(isinstance(v, (tuple, list)) and all(isinstance(x, str) for x in v) for v in items):
            return frozenset(tuple(v) for v in items)
    return None


def _unique_together_option(node: ast.expr | None) -> frozenset[tuple[str, ...]] | None:
    if node is None:
        return frozenset()
    if not isinstance(node, ast.Dict):
        return None
    for key, value in zip(node.keys, node.values):
        if key is None:  # {**options}
            return None
        if isinstance(key, ast.Constant) and key.value == "unique_together":
            return unique_together_value(value)
    return frozenset()


def _fields(node: ast.expr | None) -> dict[str, FieldDef | None]:
    out: dict[str, FieldDef | None] = {}
    if not isinstance(node, (ast.List, ast.Tuple)):
        return out
    for element in node.elts:
        if isinstance(element, ast.Tuple) and len(element.elts) == 2:
            name = ast_text(element.elts[0])
            if name:
                out[name.lower()] = field_def(element.elts[1])
    return out


def ast_binder(call: ast.Call, signature: tuple[str, ...]):
    def arg(key: str) -> ast.expr | None:
        for kw in call.keywords:
            if kw.arg == key:
                return kw.value
        positional = [a for a in call.args if not isinstance(a, ast.Starred)]
        if key in signature and signature.index(key) < len(positional):
            return positional[signature.index(key)]
        return None

    return arg


def ast_text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
