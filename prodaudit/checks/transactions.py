"""Writes in application code that can half-succeed: a function that writes rows of several Django
models with no transaction around them, and a SQLAlchemy session committed twice with writes
before and between the commits.

Heuristic by design. The walk follows one function's own statements (nested functions are checked
on their own), skips what runs inside `with ...atomic()` / `with session.begin()`, and treats the
two arms of an `if` (and an `if` that returns, against what follows it) and a `try` body against
its handlers as never both running, so error and early-exit paths are not counted as a pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import libcst as cst

from prodaudit.checks.base import Check

# Queryset methods that write; `get_or_create` writes when the row is missing.
_QS_WRITES = {"create", "bulk_create", "bulk_update", "update", "delete", "update_or_create", "get_or_create"}
_MANAGERS = {"objects", "_default_manager", "_base_manager"}
_SA_WRITES = {"add", "add_all", "delete", "merge", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"}
_SQL_WRITE_WORDS = ("insert", "update", "delete")
# Context managers and decorators that open a transaction: Django's `atomic`, Peewee's
# `db.atomic()`/`db.transaction()`, SQLAlchemy's `begin()`, and project wrappers named after them
# (`traced_atomic_transaction()`).
_TX_WORDS = ("atomic", "transaction")
_TX_NAMES = {"begin", "begin_nested", "commit_on_success"}
_SESSION_SUFFIXES = ("session", "db", "conn", "connection")
_EXITS = (cst.Return, cst.Raise, cst.Continue, cst.Break)

Arm = tuple[int, int]  # (id of an if/try node, which arm of it)


@dataclass(frozen=True)
class _Event:
    kind: str  # "write" (Django), "sa_write", "commit"
    key: str  # the model or row written, or the session committed
    node: cst.Call
    arms: tuple[Arm, ...]
    row: str = ""  # the row written, as the code names it (`order`, `user.profile`), if known
    mentions: frozenset[str] = frozenset()  # names and attribute chains the write uses

    def related(self, other: _Event) -> bool:
        """One write uses the row of the other (`OrderLine.objects.create(order=order)` after
        `order = Order.objects.create(...)`), or one row is part of the other (`user`, `user.profile`)."""
        return (
            _uses(other, self.row)
            or _uses(self, other.row)
            or _within(self.row, other.row)
            or _within(other.row, self.row)
        )

    def excludes(self, other: _Event) -> bool:
        """The two can never both run: they sit in different arms of one if/try."""
        mine = dict(self.arms)
        return any(node in mine and mine[node] != arm for node, arm in other.arms)


def _within(row: str, outer: str) -> bool:
    return bool(row and outer) and (row == outer or row.startswith(outer + "."))


def _uses(event: _Event, row: str) -> bool:
    return bool(row) and any(_within(m, row) for m in event.mentions)


@dataclass
class _Scope:
    covered: bool  # decorated as a transaction, or inside a class or function that is
    candidates: int = 0  # calls that may be writes or commits, directly in this function


class WritesWithoutTransaction(Check):
    """Two or more Django model writes on different models, or two SQLAlchemy commits with writes
    before and between them, in one function without a transaction around them."""

    name = "transactions.writes_without_transaction"

    def __init__(self) -> None:
        super().__init__()
        self._module: cst.Module | None = None
        self._scopes: list[_Scope] = []  # enclosing classes and functions, innermost last

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._push(node.decorators)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._push(node.decorators)

    def visit_Call(self, node: cst.Call) -> None:
        # A cheap count per function, so the full walk below runs only where two writes may be.
        if self._scopes and _may_write(node):
            self._scopes[-1].candidates += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        scope = self._scopes.pop()
        if scope.covered or scope.candidates < 2:
            return
        events = _Collector(_annotated_models(original_node.params)).run(original_node.body)
        hit = _partial_writes(events) or _partial_commits(events)
        if hit is not None:
            event, first = hit
            self.report(event.node, self._message(event, first))

    def _push(self, decorators: Sequence[cst.Decorator]) -> None:
        covered = _has_tx_decorator(decorators) or any(s.covered for s in self._scopes)
        self._scopes.append(_Scope(covered))

    def _message(self, event: _Event, first: _Event) -> str:
        if event.kind == "commit":
            return (
                f"`{event.key}` is committed a second time after more writes: when this part fails, the "
                "writes before the first commit stay saved and the data is half-updated. Commit once, "
                "or wrap the unit in `with session.begin():`."
            )
        return (
            f"`{self._code(event.node)}` and the earlier `{self._code(first.node)}` write different rows "
            "outside a transaction: if this write fails, the first one stays saved (half-done change). "
            "Wrap them in `with transaction.atomic():`."
        )

    def _code(self, node: cst.Call) -> str:
        assert self._module is not None
        text = " ".join(self._module.code_for_node(node.func).split())
        return f"{text}(...)" if len(text) <= 60 else f"{text[:57]}...(...)"


def _partial_writes(events: Sequence[_Event]) -> tuple[_Event, _Event] | None:
    """The first Django write whose model differs from an earlier write that can run with it."""
    writes = [e for e in events if e.kind == "write"]
    for j, later in enumerate(writes):
        for earlier in writes[:j]:
            if earlier.key != later.key and earlier.related(later) and not earlier.excludes(later):
                return later, earlier
    return None


def _partial_commits(events: Sequence[_Event]) -> tuple[_Event, _Event] | None:
    """A commit preceded by an earlier commit of the same session, with writes before and between."""
    for j, second in enumerate(events):
        if second.kind != "commit":
            continue
        writes = [(n, e) for n, e in enumerate(events) if e.kind == "sa_write" and e.key == second.key]
        for i, first in enumerate(events[:j]):
            if first.kind != "commit" or first.key != second.key or first.excludes(second):
                continue
            before = any(n < i and not w.excludes(first) for n, w in writes)
            between = any(i < n < j and not w.excludes(first) and not w.excludes(second) for n, w in writes)
            if before and between:
                return second, first
    return None


class _Collector:
    """The write and commit calls of one function body, in source order, with the if/try arms
    they sit in. Nested functions, classes, lambdas and transaction blocks are not entered."""

    def __init__(self, models: dict[str, str] | None = None) -> None:
        self.events: list[_Event] = []
        self.uses: dict[str, set[str]] = {}  # local name -> names its assigned values use
        # local name -> the model class its value is a row of (from annotations and assignments)
        self.models: dict[str, str] = dict(models or {})

    def run(self, body: cst.BaseSuite) -> list[_Event]:
        self._suite(body, ())
        return [self._resolve(e) for e in self.events]

    def _resolve(self, event: _Event) -> _Event:
        """Name the model behind a local variable and add what the written row was built from."""
        if event.kind != "write":
            return event
        key = self.models.get(event.key, event.key)
        mentions = set(event.mentions)
        if event.row:
            mentions |= self.uses.get(event.row, set())
        return replace(event, key=key, mentions=frozenset(mentions))

    def _bind(self, small: cst.BaseSmallStatement, first_event: int) -> None:
        """Remember what `name = value` holds: the names the value uses, and its model if it is a
        row (`Order(...)`, `Order.objects.get(...)`); a write call assigned to it writes that row."""
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        else:
            return
        value = small.value
        assert value is not None
        for target in targets:
            if isinstance(target, (cst.Tuple, cst.List)) and target.elements:
                target = target.elements[0].value  # `obj, created = M.objects.get_or_create(...)`
            if not isinstance(target, cst.Name):
                continue
            name = target.value
            self.uses.setdefault(name, set()).update(_names(value) - {name})
            model = _row_model(value)
            if model:
                self.models[name] = model
            for n in range(first_event, len(self.events)):
                if self.events[n].node is value and self.events[n].kind == "write":
                    self.events[n] = replace(self.events[n], row=name)

    def _suite(self, suite: cst.BaseSuite, arms: tuple[Arm, ...]) -> None:
        if isinstance(suite, cst.SimpleStatementSuite):
            for small in suite.body:
                self._expr(small, arms)
            return
        self._block(suite.body, arms)

    def _block(self, statements: Sequence[cst.BaseStatement], arms: tuple[Arm, ...]) -> None:
        for stmt in statements:
            self._statement(stmt, arms)
            if isinstance(stmt, cst.If) and _exits(stmt.body) and stmt.orelse is None:
                # `if c: ...; return` - what follows is the implicit else of this if.
                arms = (*arms, (id(stmt), 1))

    def _statement(self, stmt: cst.BaseStatement, arms: tuple[Arm, ...]) -> None:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                first_event = len(self.events)
                self._expr(small, arms)
                self._bind(small, first_event)
        elif isinstance(stmt, cst.If):
            self._if(stmt, arms)
        elif isinstance(stmt, cst.Try):
            self._suite(stmt.body, (*arms, (id(stmt), 0)))
            for n, handler in enumerate(stmt.handlers, 1):
                self._suite(handler.body, (*arms, (id(stmt), n)))
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, (*arms, (id(stmt), 0)))
            if stmt.finalbody is not None:
                self._suite(stmt.finalbody.body, arms)
        elif isinstance(stmt, cst.With):
            if any(_opens_transaction(item.item) for item in stmt.items):
                return
            for item in stmt.items:
                self._expr(item.item, arms)
            self._suite(stmt.body, arms)
        elif isinstance(stmt, (cst.For, cst.While)):
            self._expr(stmt.iter if isinstance(stmt, cst.For) else stmt.test, arms)
            self._suite(stmt.body, arms)
            if stmt.orelse is not None:
                self._suite(stmt.orelse.body, arms)
        elif isinstance(stmt, cst.Match):
            self._expr(stmt.subject, arms)
            for n, case in enumerate(stmt.cases):
                self._suite(case.body, (*arms, (id(stmt), n)))

    def _if(self, stmt: cst.If, arms: tuple[Arm, ...]) -> None:
        self._expr(stmt.test, arms)
        self._suite(stmt.body, (*arms, (id(stmt), 0)))
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            self._if(orelse, (*arms, (id(stmt), 1)))
        elif isinstance(orelse, cst.Else):
            self._suite(orelse.body, (*arms, (id(stmt), 1)))

    def _expr(self, node: cst.CSTNode, arms: tuple[Arm, ...]) -> None:
        calls = _Calls()
        node.visit(calls)
        for call in calls.found:
            event = _classify(call, arms)
            if event is not None:
                self.events.append(event)


class _Calls(cst.CSTVisitor):
    """Calls in one statement, innermost first (argument calls run before the call)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[cst.Call] = []

    def leave_Call(self, original_node: cst.Call) -> None:
        self.found.append(original_node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _may_write(call: cst.Call) -> bool:
    func = call.func
    return isinstance(func, cst.Attribute) and (
        func.attr.value in _QS_WRITES
        or func.attr.value in _SA_WRITES
        or func.attr.value in ("save", "commit", "execute")
    )


def _classify(call: cst.Call, arms: tuple[Arm, ...]) -> _Event | None:
    func = call.func
    if not isinstance(func, cst.Attribute):
        return None
    method, receiver = func.attr.value, func.value
    if method in _QS_WRITES:
        model = _manager_model(receiver)
        if model is not None:
            return _Event("write", model, call, arms, mentions=frozenset(_names(receiver) | _arg_names(call)))
    if method in ("save", "delete") and _instance_write(call):
        key = "self" if _is_super(receiver) else _dotted(receiver)
        if key and not key.endswith("session"):
            return _Event("write", key, call, arms, row=key, mentions=frozenset(_arg_names(call)))
    session = _dotted(receiver)
    if session and _is_session(session):
        if method == "commit" and not call.args:
            return _Event("commit", session, call, arms)
        if method in _SA_WRITES or (method == "execute" and call.args and _writes_sql(call.args[0].value)):
            return _Event("sa_write", session, call, arms)
    return None


def _annotated_models(params: cst.Parameters) -> dict[str, str]:
    """`{"delivery": "CheckoutDelivery"}` for `delivery: CheckoutDelivery` (or `"CheckoutDelivery"`,
    `CheckoutDelivery | None`), so a row passed in is known to be of that model."""
    models = {}
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is not None:
            model = _class_name(param.annotation.annotation)
            if model:
                models[param.name.value] = model
    return models


def _class_name(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        left, right = _class_name(node.left), _class_name(node.right)
        return left if right == "None" else right if left == "None" else None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) and value.isidentifier() else None
    name = _dotted(node).split(".")[-1]
    return name or None


def _row_model(value: cst.BaseExpression) -> str | None:
    """`Order` for `Order(...)`, `Order.objects.get(...)`, `Order.objects.get_or_create(...)`."""
    if isinstance(value, cst.Call):
        model = _manager_model(value)
        if model:
            return model
        last = _dotted(value.func).split(".")[-1]
        if last[:1].isupper() and not last.isupper():
            return last
    return None


class _NameCollector(cst.CSTVisitor):
    """Names and whole attribute chains an expression uses: `user.id` gives "user.id"."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        dotted = _dotted(node)
        if dotted:
            self.names.add(dotted)
            return False
        return True

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)  # not the keyword's own name
        return False


def _names(node: cst.CSTNode) -> set[str]:
    collector = _NameCollector()
    node.visit(collector)
    return collector.names


def _arg_names(call: cst.Call) -> set[str]:
    return set().union(*(_names(arg.value) for arg in call.args)) if call.args else set()


def _manager_model(receiver: cst.BaseExpression) -> str | None:
    """`Order` for `Order.objects.filter(...)`; None when the chain does not start at a manager."""
    node = receiver
    while True:
        if isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Attribute):
            if node.attr.value in _MANAGERS:
                return _dotted(node.value).split(".")[-1] or None  # `models.Order` is `Order`
            node = node.value
        else:
            return None


def _instance_write(call: cst.Call) -> bool:
    """`obj.save()` / `obj.delete()` the Django way: no positional argument (PIL's `img.save(fp)`,
    `storage.delete(name)` have one), and not `form.save(commit=False)` / `file.delete(save=False)`."""
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            return False
        if arg.keyword is not None and arg.keyword.value in ("commit", "save"):
            if isinstance(arg.value, cst.Name) and arg.value.value == "False":
                return False
    return True


def _writes_sql(arg: cst.BaseExpression) -> bool:
    """`insert(T)...`, `update(T)...`, `delete(T)...` or SQL text starting with INSERT/UPDATE/DELETE."""
    node = arg
    while True:
        if isinstance(node, cst.Call):
            if isinstance(node.func, cst.Name):
                if node.func.value in _SQL_WRITE_WORDS:
                    return True
                if node.func.value == "text" and node.args:
                    node = node.args[0].value
                    continue
                return False
            node = node.func
        elif isinstance(node, cst.Attribute):
            if node.attr.value in _SQL_WRITE_WORDS and isinstance(node.value, (cst.Name, cst.Attribute)):
                return _dotted(node.value).split(".")[-1] in ("sa", "sqlalchemy", "expression")
            node = node.value
        elif isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            value = node.evaluated_value
            return isinstance(value, str) and value.lstrip().lower().startswith(_SQL_WRITE_WORDS)
        else:
            return False


def _opens_transaction(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Call):
        expr = expr.func
    last = _dotted(expr).split(".")[-1].lower()
    if last.startswith("non_"):  # Django's `non_atomic_requests` turns a transaction off
        return False
    return last in _TX_NAMES or any(word in last for word in _TX_WORDS)


def _has_tx_decorator(decorators: Sequence[cst.Decorator]) -> bool:
    """`@transaction.atomic`, `@atomic(...)`, and `@method_decorator(transaction.atomic, ...)`."""
    for dec in decorators:
        expr = dec.decorator
        if _opens_transaction(expr):
            return True
        if isinstance(expr, cst.Call) and any(_opens_transaction(a.value) for a in expr.args):
            return True
    return False


def _exits(suite: cst.BaseSuite) -> bool:
    if isinstance(suite, cst.SimpleStatementSuite):
        return isinstance(suite.body[-1], _EXITS)
    last = suite.body[-1] if suite.body else None
    return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], _EXITS)


def _is_super(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "super"


def _is_session(name: str) -> bool:
    return name.split(".")[-1].lstrip("_").lower().endswith(_SESSION_SUFFIXES)


def _dotted(node: cst.BaseExpression) -> str:
    """`self.order` for a plain name or attribute chain; "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


TRANSACTION_CHECKS: tuple[type[Check], ...] = (WritesWithoutTransaction,)
