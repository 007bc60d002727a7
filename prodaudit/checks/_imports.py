"""What the names of a module refer to, from its top-level imports: a cheap stand-in for LibCST's
QualifiedNameProvider (whose scope analysis costs several tree walks) where a check only needs to
recognise a library's names. Shadowing by local assignments is ignored."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst


class ImportMap:
    def __init__(self, module: cst.Module) -> None:
        self.aliases: dict[str, str] = {}
        for small in _import_statements(module.body):
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = dotted_name(alias.name)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        self.aliases[alias.asname.name.value] = full
                    else:  # `import a.b` binds `a`
                        head = full.split(".", 1)[0]
                        self.aliases[head] = head
            elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                if isinstance(small.names, cst.ImportStar):
                    continue
                base = dotted_name(small.module)
                for alias in small.names:
                    name = dotted_name(alias.name)
                    bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                    self.aliases[bound] = f"{base}.{name}"

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """`migrations.RemoveField` -> "django.db.migrations.RemoveField"; None for local names."""
        if isinstance(expr, cst.Name):
            return self.aliases.get(expr.value)
        if isinstance(expr, cst.Attribute):
            base = self.qualify(expr.value)
            return f"{base}.{expr.attr.value}" if base else None
        return None


def _import_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.BaseSmallStatement]:
    """Imports at module level, including those inside top-level `if` and `try` blocks."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from (s for s in stmt.body if isinstance(s, (cst.Import, cst.ImportFrom)))
        elif isinstance(stmt, cst.If):
            yield from _import_statements(stmt.body.body)
            if isinstance(stmt.orelse, cst.Else):
                yield from _import_statements(stmt.orelse.body.body)
        elif isinstance(stmt, cst.Try):
            yield from _import_statements(stmt.body.body)
            for handler in stmt.handlers:
                yield from _import_statements(handler.body.body)


def dotted_name(node: cst.BaseExpression) -> str:
    """`shop.models.Order` as written; "" for anything but a name or an attribute chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{dotted_name(node.value)}.{node.attr.value}"
    return ""


def last_name(node: cst.BaseExpression) -> str:
    """`models.CharField` -> "CharField"; "" for anything but a name or an attribute."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return ""
