"""The parsed "up" direction of a PostgreSQL migration file, for the checks in `sql_pg.py`.

pglast (libpg_query) parses the file once; each statement comes with its character offsets and
what the file did before it: tables it created, whether a transaction is open (BEGIN, or the one
goose, dbmate and sql-migrate open around a migration unless told not to) and how many COMMITs
came first. Down migrations and files whose path names another database are not read."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from pglast import ast, parse_sql
from pglast.enums import ObjectType, TransactionStmtKind
from pglast.parser import ParseError

from prodaudit.checks.configbase import ConfigUnparseable, Hit
from prodaudit.checks.sql import _DOWN_FILE, _DOWN_MARKER  # one definition of "down migration"

_OTHER_DATABASE = re.compile(
    r"(?:^|[/._-])(?:mysql|mariadb|sqlite3?|mssql|sqlserver|tsql|oracle|clickhouse|cockroach(?:db)?|"
    r"snowflake|bigquery|duckdb)(?:[/._-]|$)",
    re.IGNORECASE,
)
# Tools that wrap each migration in a transaction unless told otherwise (goose, sql-migrate, dbmate).
_TOOL_TX = re.compile(r"^\s*--\s*(?:\+goose\s+up|\+migrate\s+up|migrate:up)\b", re.I | re.M)
_TOOL_NO_TX = re.compile(r"^\s*--\s*\+goose\s+no\s+transaction\b|notransaction|transaction:false", re.I | re.M)


@dataclass(frozen=True)
class Statement:
    node: ast.Node
    start: int  # character offsets in the file
    end: int
    in_transaction: bool  # inside BEGIN ... COMMIT, or a transaction the migration tool opens
    created: frozenset[str]  # tables, views and indexes created earlier in this file
    committed: int  # how many COMMITs came before (statements with equal counts share a transaction)


@dataclass(frozen=True)
class Migration:
    statements: tuple[Statement, ...]
    line_starts: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int, int, int]:
        def pos(offset: int) -> tuple[int, int]:
            i = bisect.bisect_right(self.line_starts, offset) - 1
            return i + 1, offset - self.line_starts[i] + 1

        return (*pos(start), *pos(end))

    def hit(self, stmt: Statement, message: str, at: int | None = None) -> Hit:
        start = at if at is not None and at >= stmt.start else stmt.start
        return (*self.span(start, stmt.end), message)


def migration(text: str, path: str) -> Migration | None:
    """The parsed up direction of a PostgreSQL migration; None when these checks do not apply."""
    if _DOWN_FILE.search(path) or _OTHER_DATABASE.search(path):
        return None
    parsed = parse(text)
    if isinstance(parsed, str):
        raise ConfigUnparseable(f"PostgreSQL checks not run: {parsed}")
    return parsed


@lru_cache(maxsize=16)
def parse(text: str) -> Migration | str:
    """Parsed once per file for all checks (a failure is cached too, as its message)."""
    marker = _DOWN_MARKER.search(text)
    up = text[: marker.start()] if marker else text
    try:
        raw = parse_sql(up)
    except ParseError as exc:
        offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
        where = f"line {up.count(chr(10), 0, offset) + 1}: " if offset is not None else ""
        return f"{where}{exc.args[0]} (not PostgreSQL, or templated SQL)"
    in_tx = bool(_TOOL_TX.search(up)) and not _TOOL_NO_TX.search(up)
    commits, created = 0, set()
    statements = []
    for item in raw:
        node = item.stmt
        end = item.stmt_location + item.stmt_len if item.stmt_len else len(up.rstrip().rstrip(";"))
        start = _skip_blank(up, item.stmt_location, end)
        if isinstance(node, ast.TransactionStmt):
            if node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
                in_tx = True
            elif node.kind in (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK):
                in_tx, commits = False, commits + 1
        statements.append(Statement(node, start, end, in_tx, frozenset(created), commits))
        created |= _creates(node, created)
    starts = (0, *(m.end() for m in re.finditer("\n", text)))
    return Migration(tuple(statements), starts)


def _skip_blank(text: str, pos: int, end: int) -> int:
    """The first offset of real SQL at or after `pos`: older pglast (7.x) starts a statement right
    after the previous `;`, before the whitespace and comments that lead to it."""
    while pos < end:
        if text[pos].isspace():
            pos += 1
        elif text.startswith("--", pos):
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline + 1
        elif text.startswith("/*", pos):
            close = text.find("*/", pos + 2)
            pos = end if close < 0 else close + 2
        else:
            break
    return pos


def _creates(node: ast.Node, created: set[str]) -> set[str]:
    if isinstance(node, ast.CreateStmt):
        return {node.relation.relname}
    if isinstance(node, ast.CreateTableAsStmt):
        return {node.into.rel.relname}
    if isinstance(node, ast.SelectStmt) and node.intoClause is not None:
        return {node.intoClause.rel.relname}
    if isinstance(node, ast.ViewStmt):
        return {node.view.relname}
    if isinstance(node, ast.IndexStmt) and node.idxname:
        return {node.idxname}
    if isinstance(node, ast.RenameStmt) and node.relation is not None and node.relation.relname in created:
        return {node.newname}
    return set()


# --- small AST helpers ---------------------------------------------------------------------------


def walk(node: object) -> Iterator[ast.Node]:
    """Every node under `node` (iterative: a long `a || b || ...` chain is a very deep tree)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            yield item
            stack.extend(getattr(item, name) for name in item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)


def constraints(col: ast.ColumnDef) -> tuple[ast.Constraint, ...]:
    return tuple(c for c in col.constraints or () if isinstance(c, ast.Constraint))


def type_of(tn: ast.TypeName | None) -> tuple[str, tuple[int, ...]]:
    """('varchar', (20,)) for varchar(20); the schema (pg_catalog) is dropped."""
    if tn is None:
        return "", ()
    name = tn.names[-1].sval
    mods = tuple(m.val.ival for m in tn.typmods or () if isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer))
    return name, mods


_SQL_NAMES = {"int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
              "float8": "double precision", "bool": "boolean", "bpchar": "char"}  # fmt: skip


def type_text(tn: ast.TypeName | None) -> str:
    name, mods = type_of(tn)
    name = _SQL_NAMES.get(name, name)
    return f"{name}({', '.join(map(str, mods))})" if mods else name


def widens(old: tuple[str, tuple[int, ...]], new: tuple[str, tuple[int, ...]]) -> bool:
    """A type change PostgreSQL (9.2+) does without rewriting the table."""
    (o, om), (n, nm) = old, new
    if o == "varchar" and (n == "text" or (n == "varchar" and (not nm or (om and nm[0] >= om[0])))):
        return True
    if o == "text" and n == "varchar" and not nm:
        return True
    if o == n == "numeric" and om and (not nm or (len(nm) == len(om) and nm[0] >= om[0] and nm[1:] == om[1:])):
        return True
    return o == n == "varbit" and bool(om) and (not nm or nm[0] >= om[0])


def calls(expr: object) -> list[str]:
    return [c.funcname[-1].sval for c in walk(expr) if isinstance(c, ast.FuncCall)]


def table_of(node: ast.Node) -> str:
    rel = getattr(node, "relation", None)
    return rel.relname if rel is not None else ""


def alter_tables(mig: Migration) -> Iterator[tuple[Statement, str, ast.AlterTableCmd]]:
    """(statement, table, subcommand) of every ALTER TABLE on a table not created in this file."""
    for stmt in mig.statements:
        node = stmt.node
        if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            if node.relation.relname not in stmt.created:
                for cmd in node.cmds or ():
                    yield stmt, node.relation.relname, cmd


def concurrent(node: ast.Node) -> bool:
    if isinstance(node, ast.DropStmt):
        return bool(node.concurrent)
    return option_on(getattr(node, "params", None), "concurrently")


def option_on(options: tuple | None, name: str) -> bool:
    """`(NAME)` or `(NAME true)` in a parenthesised option list such as REINDEX's or VACUUM's."""
    for opt in options or ():
        if isinstance(opt, ast.DefElem) and opt.defname == name:
            value = getattr(opt.arg, "sval", getattr(opt.arg, "ival", None))
            return str(value).lower() not in ("false", "off", "0", "no")
    return False


def emptied_before(mig: Migration, stmt: Statement) -> set[str]:
    """Tables this file empties (TRUNCATE, DELETE without WHERE) before `stmt`: no row to fail on."""
    out: set[str] = set()
    for earlier in mig.statements:
        if earlier.start >= stmt.start:
            break
        if isinstance(earlier.node, ast.TruncateStmt):
            out |= {r.relname for r in earlier.node.relations}
        elif isinstance(earlier.node, ast.DeleteStmt) and earlier.node.whereClause is None:
            out.add(earlier.node.relation.relname)
    return out


def declared_not_volatile(mig: Migration) -> set[str]:
    """Functions this file creates as STABLE or IMMUTABLE (a function is VOLATILE unless declared)."""
    out = set()
    for stmt in mig.statements:
        if isinstance(stmt.node, ast.CreateFunctionStmt):
            for opt in stmt.node.options or ():
                if opt.defname == "volatility" and getattr(opt.arg, "sval", "") in ("stable", "immutable"):
                    out.add(stmt.node.funcname[-1].sval)
    return out
