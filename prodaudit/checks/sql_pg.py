"""PostgreSQL migration checks (DATA027-DATA033), on the real PostgreSQL grammar.

A `.sql` migration is parsed once by pglast, the Python binding of libpg_query (PostgreSQL's own
parser, extracted from the server source). Why pglast rather than squawk or sqlglot:
- It is the real grammar: what it parses, PostgreSQL parses, and every statement and clause comes
  with its location, so a finding points at the line of the `ADD COLUMN`, not at the file.
- It runs in-process as a plain function `(text, path) -> [Hit]` of the existing config engine: no
  fourth subprocess engine (squawk is a Rust binary) and no new engine kind in the rule contract.
- The rule text, severities and exemptions stay ours (a table created earlier in the same file, a
  column this file added, a migration tool's own transaction markers), where squawk's are fixed.
- sqlglot reads many dialects leniently, which is why it is wrong for this job: a lenient parse of
  a MySQL file would be judged by PostgreSQL locking rules. pglast rejects what PostgreSQL rejects.
A file pglast cannot parse (another dialect, templating) raises `ConfigUnparseable`: the engine
lists it as skipped for these checks, while dialect-agnostic DATA012 (`checks/sql.py`) still runs.

The parsed file model is in `_pg.py`. The down direction is skipped the way DATA012 skips it (same
file-name and marker patterns), and a path that names another database (`migrations/mysql/...`,
`x.sqlite3.up.sql`) is not PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, NullTestType, ObjectType, VariableSetKind

from prodaudit.checks._pg import (
    Statement,
    alter_tables,
    calls,
    concurrent,
    constraints,
    declared_not_volatile,
    emptied_before,
    migration,
    option_on,
    table_of,
    type_of,
    type_text,
    walk,
    widens,
)
from prodaudit.checks.configbase import Hit

_SERIAL = {"smallserial", "serial", "bigserial", "serial2", "serial4", "serial8"}
_VOLATILE = {"random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
             "uuid_generate_v4", "uuidv4", "uuidv7", "gen_random_bytes", "clock_timestamp", "timeofday",
             "nextval", "setval"}  # fmt: skip
# Built-ins that are STABLE or IMMUTABLE: evaluated once by ADD COLUMN, no rewrite (PostgreSQL 11+).
_NOT_VOLATILE = {"now", "statement_timestamp", "transaction_timestamp", "timezone", "date_trunc",
                 "to_timestamp", "to_date", "to_char", "to_number", "make_date", "make_time", "make_timestamp",
                 "make_timestamptz", "make_interval", "date_part", "current_setting", "current_schema",
                 "lower", "upper", "concat", "concat_ws", "format", "replace", "substr", "substring", "trim",
                 "btrim", "length", "md5", "encode", "decode", "abs", "round", "floor", "ceil", "power",
                 "to_json", "to_jsonb", "json_build_object", "jsonb_build_object", "json_build_array",
                 "jsonb_build_array", "array_fill", "int4range", "int8range", "tstzrange", "daterange",
                 "numrange"}  # fmt: skip
# ALTER TABLE subcommands that take only a SHARE UPDATE EXCLUSIVE lock (reads and writes go on).
_WEAK_ALTER = {AT.AT_ValidateConstraint, AT.AT_SetStatistics, AT.AT_SetOptions, AT.AT_ResetOptions,
               AT.AT_ClusterOn, AT.AT_DropCluster, AT.AT_SetRelOptions, AT.AT_ResetRelOptions,
               AT.AT_AttachPartition, AT.AT_DetachPartitionFinalize}  # fmt: skip
_SCANNED = (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK)
_UTC = {"utc", "etc/utc", "gmt", "etc/gmt", "zulu", "0", "+00", "+00:00"}
_TIMESTAMPS = {"timestamp", "timestamptz"}
_LOCK_MODES = {5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}


def add_not_null_column(text: str, path: str) -> list[Hit]:
    """DATA027: ADD COLUMN ... NOT NULL (or PRIMARY KEY) without a DEFAULT on an existing table."""
    mig = migration(text, path)
    hits: list[Hit] = []
    for stmt, table, cmd in alter_tables(mig) if mig else ():
        if cmd.subtype != AT.AT_AddColumn or table in emptied_before(mig, stmt):
            continue
        col = cmd.def_
        kinds = {c.contype for c in constraints(col)}
        has_default = any(
            c.contype == ConstrType.CONSTR_DEFAULT and not (isinstance(c.raw_expr, ast.A_Const) and c.raw_expr.isnull)
            for c in constraints(col)
        )
        fills_itself = kinds & {ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED} or (
            type_of(col.typeName)[0] in _SERIAL
        )
        if (col.is_not_null or kinds & {ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY}) and not (
            has_default or fills_itself
        ):
            what = "PRIMARY KEY (so NOT NULL)" if ConstrType.CONSTR_PRIMARY in kinds else "NOT NULL"
            hits.append(mig.hit(stmt, (
                f"ADD COLUMN {col.colname} is {what} without a DEFAULT: if {table} has any row, the "
                f"migration fails (column contains null values)."
            ), col.location))  # fmt: skip
    return hits


def add_column_rewrites_table(text: str, path: str) -> list[Hit]:
    """DATA033: ADD COLUMN whose value is computed per row (volatile DEFAULT, serial, identity,
    stored generated column): PostgreSQL rewrites the whole table under an ACCESS EXCLUSIVE lock."""
    mig = migration(text, path)
    hits: list[Hit] = []
    declared = declared_not_volatile(mig) if mig else set()
    for stmt, table, cmd in alter_tables(mig) if mig else ():
        if cmd.subtype != AT.AT_AddColumn:
            continue
        col, why = cmd.def_, None
        for c in constraints(col):
            if c.contype == ConstrType.CONSTR_DEFAULT:
                safe = _NOT_VOLATILE | declared
                volatile = sorted((f for f in calls(c.raw_expr) if f not in safe), key=lambda f: f not in _VOLATILE)
                if volatile:
                    known = volatile[0] in _VOLATILE
                    why = f"DEFAULT {volatile[0]}() is {'VOLATILE' if known else 'not a known non-volatile built-in'}"
            elif c.contype == ConstrType.CONSTR_IDENTITY:
                why = "an identity column is numbered row by row"
            elif c.contype == ConstrType.CONSTR_GENERATED and getattr(c, "generated_kind", "s") == "s":
                # (pglast 7 / PostgreSQL 17 has no VIRTUAL generated columns, so no generated_kind)
                why = "a STORED generated column is computed row by row"
        if why is None and type_of(col.typeName)[0] in _SERIAL:
            why = f"{type_of(col.typeName)[0]} fills every row from a sequence (nextval() is VOLATILE)"
        if why:
            hits.append(mig.hit(stmt, (
                f"ADD COLUMN {col.colname}: {why}, so PostgreSQL rewrites all of {table} under an "
                f"ACCESS EXCLUSIVE lock; reads and writes wait until it finishes."
            ), col.location))  # fmt: skip
    return hits


def index_without_concurrently(text: str, path: str) -> list[Hit]:
    """DATA028: an index built on an existing table while writes are blocked (CREATE INDEX without
    CONCURRENTLY, ADD UNIQUE/PRIMARY KEY/EXCLUDE constraints), and CONCURRENTLY inside a transaction."""
    mig = migration(text, path)
    if mig is None:
        return []
    hits: list[Hit] = []
    for stmt in mig.statements:
        node = stmt.node
        if isinstance(node, ast.IndexStmt) and node.concurrent and stmt.in_transaction:
            hits.append(mig.hit(stmt, (
                "CREATE INDEX CONCURRENTLY cannot run inside a transaction block (BEGIN, or the transaction "
                "the migration tool opens): this migration fails."
            )))  # fmt: skip
        elif isinstance(node, ast.IndexStmt) and not node.concurrent and node.relation.inh:
            if node.relation.relname not in stmt.created:
                kind = "UNIQUE INDEX" if node.unique else "INDEX"
                hits.append(mig.hit(stmt, (
                    f"CREATE {kind} without CONCURRENTLY blocks every INSERT, UPDATE and DELETE on "
                    f"{node.relation.relname} for the whole index build."
                )))  # fmt: skip
        elif isinstance(node, (ast.DropStmt, ast.ReindexStmt)) and stmt.in_transaction and concurrent(node):
            hits.append(mig.hit(stmt, "CONCURRENTLY cannot run inside a transaction block: this migration fails."))
    for stmt, table, cmd in alter_tables(mig):
        for con, at in _index_constraints(cmd):
            kind = {ConstrType.CONSTR_PRIMARY: "PRIMARY KEY", ConstrType.CONSTR_UNIQUE: "UNIQUE"}.get(
                con.contype, "EXCLUDE"
            )
            hits.append(mig.hit(stmt, (
                f"Adding a {kind} constraint builds its index while holding an ACCESS EXCLUSIVE lock on "
                f"{table}: reads and writes wait for the whole build."
            ), at))  # fmt: skip
    return hits


def _index_constraints(cmd: ast.AlterTableCmd) -> Iterator[tuple[ast.Constraint, int | None]]:
    index_kinds = {ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION}
    contype = getattr(cmd.def_, "contype", None)
    if cmd.subtype == AT.AT_AddConstraint and contype in index_kinds and not cmd.def_.indexname:
        yield cmd.def_, cmd.def_.location
    elif cmd.subtype == AT.AT_AddColumn:
        for con in constraints(cmd.def_):
            if con.contype in index_kinds:
                yield con, cmd.def_.location


def column_type_change(text: str, path: str) -> list[Hit]:
    """DATA029: ALTER COLUMN ... TYPE on an existing table, unless provably a catalog-only change."""
    mig = migration(text, path)
    hits: list[Hit] = []
    known: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {}  # column types this file set
    utc = False  # SET timezone = 'UTC' seen: timestamp <-> timestamptz needs no rewrite (PG 12+)
    for stmt in mig.statements if mig else ():
        node = stmt.node
        if isinstance(node, ast.VariableSetStmt) and node.name == "timezone":
            value = node.args[0].val if node.args and isinstance(node.args[0], ast.A_Const) else None
            utc = str(getattr(value, "sval", getattr(value, "ival", ""))).lower() in _UTC
            continue
        if not isinstance(node, ast.AlterTableStmt) or node.relation.relname in stmt.created:
            continue
        table = node.relation.relname
        for cmd in node.cmds or ():
            if cmd.subtype == AT.AT_AddColumn:
                known[(table, cmd.def_.colname)] = type_of(cmd.def_.typeName)
            if cmd.subtype != AT.AT_AlterColumnType:
                continue
            new, old = type_of(cmd.def_.typeName), known.get((table, cmd.name))
            known[(table, cmd.name)] = new
            trivial = not _rewrites_using(cmd.def_.raw_default, cmd.name)
            if trivial and ((old is not None and widens(old, new)) or (utc and new[0] in _TIMESTAMPS)):
                continue
            message = (
                f"ALTER COLUMN {cmd.name} TYPE {type_text(cmd.def_.typeName)} rewrites all of {table} and rebuilds "
                f"its indexes under an ACCESS EXCLUSIVE lock: reads and writes wait until it finishes."
            )
            if trivial and new[0] in ("varchar", "text"):
                message += (
                    " (No rewrite if the column already is varchar/text and this only widens it; then suppress"
                    " this finding with that reason.)"
                )
            elif trivial and new[0] in _TIMESTAMPS:
                message += " (Between timestamp and timestamptz there is no rewrite after SET timezone = 'UTC'.)"
            hits.append(mig.hit(stmt, message, cmd.def_.location))
    return hits


def _rewrites_using(expr: ast.Node | None, column: str) -> bool:
    """A USING expression that does more than cast the column itself."""
    while isinstance(expr, ast.TypeCast):
        expr = expr.arg
    if expr is None:
        return False
    return not (isinstance(expr, ast.ColumnRef) and expr.fields[-1].sval == column)


def constraint_validation_scan(text: str, path: str) -> list[Hit]:
    """DATA030: FOREIGN KEY / CHECK added to an existing table without NOT VALID, SET NOT NULL
    without a validated CHECK, and VALIDATE in the same transaction that added NOT VALID."""
    mig = migration(text, path)
    hits: list[Hit] = []
    not_valid: dict[str, tuple[str, int, str | None]] = {}  # constraint -> (table, commits, NOT NULL column)
    validated: set[tuple[str, str | None]] = set()  # (table, column) with a validated IS NOT NULL check
    for stmt, table, cmd in alter_tables(mig) if mig else ():
        con = cmd.def_ if isinstance(cmd.def_, ast.Constraint) else None
        if con is not None and cmd.subtype == AT.AT_AddConstraint and con.contype in _SCANNED:
            if con.skip_validation:
                not_valid[con.conname or ""] = (table, stmt.committed, _not_null_column(con))
            else:
                hits.append(mig.hit(stmt, _scan_message(con, table), con.location))
        elif cmd.subtype == AT.AT_AddColumn:
            for c in constraints(cmd.def_):
                if c.contype == ConstrType.CONSTR_FOREIGN and not c.skip_validation:
                    hits.append(mig.hit(stmt, _scan_message(c, table), c.location))
        elif cmd.subtype == AT.AT_ValidateConstraint:
            added = not_valid.get(cmd.name)
            if added is None:
                validated.add((table, "*"))  # added NOT VALID by an earlier migration: column unknown
            elif added[0] == table:
                validated.add((table, added[2]))
                if added[1] == stmt.committed:
                    hits.append(mig.hit(stmt, (
                        f"VALIDATE CONSTRAINT {cmd.name} runs in the same transaction that added it NOT VALID: "
                        f"that lock on {table} is still held, so the full scan blocks just as without NOT VALID."
                    )))  # fmt: skip
        elif cmd.subtype == AT.AT_SetNotNull and not validated & {(table, "*"), (table, cmd.name)}:
            hits.append(mig.hit(stmt, (
                f"SET NOT NULL on {table}.{cmd.name} scans every row under an ACCESS EXCLUSIVE lock: "
                f"reads and writes wait for the scan."
            )))  # fmt: skip
    return hits


def _not_null_column(con: ast.Constraint) -> str | None:
    """The column of `CHECK (col IS NOT NULL)`, which lets SET NOT NULL skip its scan (PG 12+)."""
    expr = con.raw_expr
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL:
        if isinstance(expr.arg, ast.ColumnRef):
            return expr.arg.fields[-1].sval
    return None


def _scan_message(con: ast.Constraint, table: str) -> str:
    name = f" {con.conname}" if con.conname else ""
    if con.contype == ConstrType.CONSTR_FOREIGN:
        return (
            f"FOREIGN KEY{name} without NOT VALID checks every row of {table} while holding SHARE ROW EXCLUSIVE "
            f"locks on {table} and {con.pktable.relname}: writes to both wait for the scan."
        )
    return (
        f"CHECK{name} without NOT VALID checks every row of {table} under an ACCESS EXCLUSIVE lock: reads and "
        f"writes wait for the scan."
    )


def missing_lock_timeout(text: str, path: str) -> list[Hit]:
    """DATA031: the first statement that must queue for a write-blocking lock on an existing table,
    with no `SET [LOCAL] lock_timeout` before it."""
    mig = migration(text, path)
    session, local_tx = False, -1  # SET lock_timeout seen; SET LOCAL seen in transaction number n
    for stmt in mig.statements if mig else ():
        timeout = _sets_lock_timeout(stmt.node)
        if timeout is not None:
            is_local = isinstance(stmt.node, ast.VariableSetStmt) and stmt.node.is_local
            if is_local:
                local_tx = stmt.committed if timeout else -1
            else:
                session = timeout
            continue
        lock = _blocking_lock(stmt)
        if lock and not (session or local_tx == stmt.committed):
            mode, table = lock
            return [mig.hit(stmt, (
                f"No lock_timeout is set before this statement takes {'an' if mode[0] in 'AE' else 'a'} {mode} lock "
                f"on {table}: while a long transaction holds {table}, it waits, and every later query on {table} "
                f"queues behind it."
            ))]  # fmt: skip
    return []


def _sets_lock_timeout(node: ast.Node) -> bool | None:
    """True/False when the statement sets lock_timeout to a limit / to none; None if it does not touch it."""
    if isinstance(node, ast.VariableSetStmt) and node.name == "lock_timeout":
        if node.kind != VariableSetKind.VAR_SET_VALUE:
            return False
        value = node.args[0].val if node.args and isinstance(node.args[0], ast.A_Const) else None
        raw = getattr(value, "sval", None) or getattr(value, "ival", None)
        return str(raw).strip().rstrip("ms").strip() not in ("0", "None", "")
    for call in walk(node) if isinstance(node, ast.SelectStmt) else ():
        if isinstance(call, ast.FuncCall) and call.funcname[-1].sval == "set_config" and call.args:
            first = call.args[0]
            if isinstance(first, ast.A_Const) and getattr(first.val, "sval", "") == "lock_timeout":
                return True
    return None


def _blocking_lock(stmt: Statement) -> tuple[str, str] | None:
    """(lock mode, relation) for statements that take a lock blocking writes on an existing relation."""
    node, created = stmt.node, stmt.created
    if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
        table = node.relation.relname
        if table in created:
            return None
        subtypes = {cmd.subtype for cmd in node.cmds or ()}
        if subtypes <= _WEAK_ALTER:
            return None
        fk_only = all(
            c.subtype == AT.AT_AddConstraint and getattr(c.def_, "contype", None) == ConstrType.CONSTR_FOREIGN
            for c in node.cmds
        )
        return ("SHARE ROW EXCLUSIVE" if fk_only else "ACCESS EXCLUSIVE"), table
    if isinstance(node, ast.RenameStmt) and node.relation is not None and node.relation.relname not in created:
        if node.renameType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT):
            return "ACCESS EXCLUSIVE", node.relation.relname
    if isinstance(node, ast.IndexStmt) and not node.concurrent and node.relation.relname not in created:
        return "SHARE", node.relation.relname
    kinds = (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_INDEX, ObjectType.OBJECT_MATVIEW, ObjectType.OBJECT_VIEW)
    if isinstance(node, ast.DropStmt) and not node.concurrent and node.removeType in kinds:
        names = [getattr(obj[-1], "sval", "") for obj in node.objects or () if isinstance(obj, tuple) and obj]
        existing = [n for n in names if n and n not in created]
        if existing:
            return "ACCESS EXCLUSIVE", existing[0]
    if isinstance(node, ast.TruncateStmt):
        existing = [r.relname for r in node.relations if r.relname not in created]
        return ("ACCESS EXCLUSIVE", existing[0]) if existing else None
    if isinstance(node, ast.LockStmt) and node.mode in _LOCK_MODES and node.relations[0].relname not in created:
        return _LOCK_MODES[node.mode], node.relations[0].relname
    if isinstance(node, (ast.ClusterStmt, ast.RefreshMatViewStmt)) and table_of(node) not in created:
        if not getattr(node, "concurrent", False) and table_of(node):
            return "ACCESS EXCLUSIVE", table_of(node)
    if isinstance(node, ast.VacuumStmt) and option_on(node.options, "full"):
        rels = [r.relation.relname for r in node.rels or () if r.relation is not None]
        return "ACCESS EXCLUSIVE", rels[0] if rels else "every table"
    if isinstance(node, ast.ReindexStmt) and not concurrent(node) and table_of(node):
        return "ACCESS EXCLUSIVE", table_of(node)
    if isinstance(node, ast.CreateTrigStmt) and node.relation.relname not in created:
        return "SHARE ROW EXCLUSIVE", node.relation.relname
    if isinstance(node, ast.CreateStmt):  # a new table's FOREIGN KEY locks the referenced table
        for con in walk(node.tableElts):
            if isinstance(con, ast.Constraint) and con.contype == ConstrType.CONSTR_FOREIGN:
                if con.pktable.relname not in created:
                    return "SHARE ROW EXCLUSIVE", con.pktable.relname
    return None


def update_without_where(text: str, path: str) -> list[Hit]:
    """DATA032: UPDATE without WHERE on an existing table (a backfill of a column this file added is
    reported only while it shares the transaction of that ALTER TABLE, which keeps the table locked)."""
    mig = migration(text, path)
    added: dict[tuple[str, str], int] = {}  # (table, column) -> transaction number of its ADD COLUMN
    hits: list[Hit] = []
    for stmt in mig.statements if mig else ():
        node = stmt.node
        if isinstance(node, ast.AlterTableStmt) and node.relation.relname not in stmt.created:
            for cmd in node.cmds or ():
                if cmd.subtype == AT.AT_AddColumn:
                    added[(node.relation.relname, cmd.def_.colname)] = stmt.committed
        if not isinstance(node, ast.UpdateStmt) or node.whereClause is not None:
            continue
        table = node.relation.relname
        if table in stmt.created:
            continue
        columns = [t.name for t in node.targetList or () if isinstance(t, ast.ResTarget)]
        backfill = [added.get((table, c)) for c in columns]
        if columns and None not in backfill:
            if all(tx == stmt.committed for tx in backfill):
                hits.append(mig.hit(stmt, (
                    f"This UPDATE backfills {', '.join(columns)} of every row in the same transaction as the "
                    f"ALTER TABLE that added it: {table} stays ACCESS EXCLUSIVE-locked until every row is written."
                )))  # fmt: skip
            continue
        hits.append(mig.hit(stmt, (
            f"UPDATE without WHERE writes every row of {table} in one transaction: each row stays locked until "
            f"commit, and a rollback of the release cannot bring back the values it replaces."
        )))  # fmt: skip
    return hits
