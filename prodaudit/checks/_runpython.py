"""What the Python functions of a migration's `RunPython` do, read from the syntax tree: which live
models they use instead of the historical ones from `apps.get_model`, and whether they write rows.

The functions are those defined in the migration file (at module level or in the `Migration` class)
that `RunPython` names, wraps in `functools.partial` or gives as a lambda, plus the module-level
functions they call. A function imported from elsewhere cannot be read: it is "unknown"."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from prodaudit.checks._imports import dotted_name, last_name
from prodaudit.checks._migration import Operation

Function = cst.FunctionDef | cst.Lambda

# Methods that write rows: the ORM's, a cursor's, schema_editor.execute.
_WRITES = {
    "save", "update", "create", "bulk_create", "bulk_update", "delete", "get_or_create",
    "update_or_create", "execute", "executemany", "call_command",
}  # fmt: skip
# Names on the global app registry that hand out today's model classes.
_REGISTRY_LOOKUPS = {"get_model", "get_models", "get_app_config"}


@dataclass(frozen=True)
class Binding:
    """A name that a module-level import binds: `Order` -> "shop.models.Order"."""

    name: str
    target: str  # what it refers to; relative imports keep their leading dots
    node: cst.CSTNode  # the import statement


@dataclass(frozen=True)
class RunPythonCode:
    """The functions one RunPython runs (forward and reverse)."""

    functions: tuple[Function, ...]  # readable ones, with the module functions they call
    unknown: bool  # some code could not be read (imported from another module, or not a function)


def module_bindings(module: cst.Module) -> dict[str, Binding]:
    out: dict[str, Binding] = {}
    for stmt in _top_level_statements(module.body):
        for small in stmt.body:
            for binding in _import_bindings(small):
                out[binding.name] = binding
    return out


def local_functions(module: cst.Module, migration_class: cst.ClassDef | None) -> dict[str, cst.FunctionDef]:
    """Functions defined at module level and in the Migration class body (where `operations` sees them)."""
    out: dict[str, cst.FunctionDef] = {}
    bodies: list[Sequence[cst.CSTNode]] = [module.body]
    if migration_class is not None and isinstance(migration_class.body, cst.IndentedBlock):
        bodies.append(migration_class.body.body)
    for body in bodies:
        for node in body:
            if isinstance(node, cst.FunctionDef):
                out[node.name.value] = node
    return out


def run_python_code(op: Operation, functions: dict[str, cst.FunctionDef], forward_only: bool = False) -> RunPythonCode:
    keys = ("code",) if forward_only else ("code", "reverse_code")
    found: list[Function] = []
    unknown = False
    for key in keys:
        expr = op.arg(key)
        if expr is None:
            continue
        resolved = _resolve(expr, functions)
        if resolved is None:
            unknown = True
        elif resolved is not _NOOP:
            found.append(resolved)
    return RunPythonCode(tuple(_reachable(found, functions)), unknown)


_NOOP = cst.Name("noop")  # a marker: `migrations.RunPython.noop` or None does nothing


def _resolve(expr: cst.BaseExpression, functions: dict[str, cst.FunctionDef]) -> Function | None:
    if isinstance(expr, cst.Lambda):
        return expr
    if isinstance(expr, cst.Name):
        if expr.value == "None":
            return _NOOP  # type: ignore[return-value]
        return functions.get(expr.value)
    if isinstance(expr, cst.Attribute) and expr.attr.value == "noop":
        return _NOOP  # type: ignore[return-value]
    if isinstance(expr, cst.Call) and last_name(expr.func) == "partial" and expr.args:
        return _resolve(expr.args[0].value, functions)
    return None


def _reachable(start: Sequence[Function], functions: dict[str, cst.FunctionDef]) -> Iterator[Function]:
    """`start` and the local functions they call, each once."""
    seen: set[int] = set()
    todo = list(start)
    while todo:
        fn = todo.pop(0)
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        yield fn
        for node in _walk(fn):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in functions:
                todo.append(functions[node.func.value])


def writes_rows(code: RunPythonCode) -> bool:
    """The functions call something that writes rows (or cannot be read, and so may)."""
    if code.unknown:
        return True
    return any(
        isinstance(node, cst.Call) and last_name(node.func) in _WRITES for fn in code.functions for node in _walk(fn)
    )


@dataclass(frozen=True)
class LiveModelUse:
    node: cst.CSTNode  # where to report
    what: str  # "imports shop.models.Order", ...


def live_model_uses(code: RunPythonCode, bindings: dict[str, Binding]) -> list[LiveModelUse]:
    """Where the functions reach today's model classes instead of `apps.get_model(...)`: an import
    of a models module inside them, a module-level one they use, get_user_model(), or the global
    app registry (`django.apps.apps.get_model`)."""
    out: list[LiveModelUse] = []
    for fn in code.functions:
        nodes = list(_walk(fn))
        local_imports = [b for n in nodes if isinstance(n, (cst.Import, cst.ImportFrom)) for b in _import_bindings(n)]
        for binding in local_imports:
            if is_live_models(binding.target) and all(u.node is not binding.node for u in out):
                out.append(LiveModelUse(binding.node, f"imports {binding.target.lstrip('.')}"))
        local = _locally_bound(fn, nodes)
        scope = {**{k: v for k, v in bindings.items() if k not in local}, **{b.name: b for b in local_imports}}
        reported: set[str] = set()
        dotted_imports = [b for b in scope.values() if "." in b.name]  # `import shop.models`
        for node in nodes:
            if isinstance(node, cst.Call):
                use = _live_call(node, scope)
                if use is not None:
                    out.append(use)
            elif isinstance(node, cst.Attribute) and dotted_imports and _root_name(node) not in local:
                text = dotted_name(node)
                for b in dotted_imports:
                    if text.startswith(b.name + ".") and b.name not in reported:
                        reported.add(b.name)
                        out.append(LiveModelUse(node, f"uses {b.target}, imported at module level"))
        for name in _name_uses(fn):
            binding = bindings.get(name.value)
            if binding is None or name.value in local or name.value in reported:
                continue
            if any(b.name == name.value for b in local_imports) or not is_live_models(binding.target):
                continue
            reported.add(name.value)
            out.append(LiveModelUse(name, f"uses {binding.target.lstrip('.')}, imported at module level"))
    return out


def _live_call(node: cst.Call, scope: dict[str, Binding]) -> LiveModelUse | None:
    func = node.func
    root = _root_name(func)
    if root is None or root not in scope:
        return None
    target = scope[root].target
    if _dotted(func, target) == "django.contrib.auth.get_user_model":
        return LiveModelUse(node, "calls get_user_model(), which returns today's user model")
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in _REGISTRY_LOOKUPS
        and _dotted(func.value, target) == "django.apps.apps"
    ):
        return LiveModelUse(node, f"calls django.apps.apps.{func.attr.value}() on the global app registry")
    return None


def _name_uses(node: cst.CSTNode) -> Iterator[cst.Name]:
    """Names the code reads (roughly): not attribute names, keyword names or import statements."""
    if isinstance(node, (cst.Import, cst.ImportFrom)):
        return
    if isinstance(node, cst.Name):
        yield node
        return
    if isinstance(node, cst.Attribute):
        yield from _name_uses(node.value)
        return
    if isinstance(node, cst.Arg):
        yield from _name_uses(node.value)
        return
    if isinstance(node, cst.Param):
        if node.default is not None:
            yield from _name_uses(node.default)
        return
    for child in _children(node):
        yield from _name_uses(child)


def is_live_models(target: str) -> bool:
    """`shop.models.Order`, `shop.models`, `.models`: a project's models module (Django's field
    module `django.db.models` and its submodules are not models)."""
    parts = target.lstrip(".").split(".")
    if target.startswith("django.db."):
        return False
    return "models" in parts


def _locally_bound(fn: Function, nodes: Sequence[cst.CSTNode]) -> set[str]:
    """Names the function binds itself (parameters, assignments, loop targets): they shadow imports."""
    names: set[str] = set()
    params = fn.params
    for p in (*params.posonly_params, *params.params, *params.kwonly_params):
        names.add(p.name.value)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    for node in nodes:
        targets: list[cst.BaseExpression] = []
        if isinstance(node, cst.AssignTarget):
            targets.append(node.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            targets.append(node.target)
        elif isinstance(node, (cst.For, cst.CompFor)):
            targets.append(node.target)
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets.append(node.asname.name)
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            targets.append(node.name.name)
        elif isinstance(node, cst.FunctionDef) and node is not fn:
            names.add(node.name.value)
        for target in targets:
            names.update(_names_in(target))
    return names


def _names_in(node: cst.CSTNode) -> Iterator[str]:
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _names_in(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _names_in(node.value)


def _import_bindings(small: cst.CSTNode) -> Iterator[Binding]:
    if isinstance(small, cst.Import):
        for alias in small.names:
            full = dotted_name(alias.name)
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield Binding(alias.asname.name.value, full, small)
            else:  # `import shop.models` binds `shop`; uses read `shop.models.Order`
                yield Binding(full.split(".", 1)[0], full.split(".", 1)[0], small)
                if is_live_models(full):
                    yield Binding(full, full, small)
    elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
        dots = "".join("." for _ in small.relative)
        base = dots + (dotted_name(small.module) if small.module is not None else "")
        for alias in small.names:
            name = dotted_name(alias.name)
            bound = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            joiner = "" if base.endswith(".") or not base else "."
            yield Binding(bound, f"{base}{joiner}{name}", small)


def _top_level_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.SimpleStatementLine]:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield stmt
        elif isinstance(stmt, (cst.If, cst.Try)):
            yield from _top_level_statements(stmt.body.body)
            if isinstance(stmt, cst.Try):
                for handler in stmt.handlers:
                    yield from _top_level_statements(handler.body.body)
            elif isinstance(stmt.orelse, cst.Else):
                yield from _top_level_statements(stmt.orelse.body.body)


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    # Read the dataclass fields: LibCST's own `children` rebuilds every node it visits, which
    # made this walk the slowest part of the migration checks.
    out: list[cst.CSTNode] = []
    for name in _fields_of(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (tuple, list)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


@lru_cache(maxsize=None)
def _fields_of(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _root_name(expr: cst.BaseExpression) -> str | None:
    while isinstance(expr, cst.Attribute):
        expr = expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def _dotted(expr: cst.BaseExpression, root_target: str) -> str:
    """`auth.get_user_model` with `auth` bound to "django.contrib.auth" -> "django.contrib.auth.get_user_model"."""
    if isinstance(expr, cst.Name):
        return root_target
    if isinstance(expr, cst.Attribute):
        return f"{_dotted(expr.value, root_target)}.{expr.attr.value}"
    return ""
