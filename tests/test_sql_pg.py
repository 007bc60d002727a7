"""PostgreSQL migration checks (checks/sql_pg.py, DATA027-DATA033) on the real parser (pglast),
the config engine's handling of files the parser rejects, and the squawk case extractor."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from prodaudit.catalog import load_catalog
from prodaudit.checks import _pg, sql_pg
from prodaudit.checks.config import CONFIG_CHECKS
from prodaudit.checks.configbase import ConfigUnparseable
from prodaudit.engines.config_files import ConfigEngine
from prodaudit.model import Target

PATH = "db/migrations/0007_change.sql"


def lines(check, sql: str, path: str = PATH) -> list[int]:
    return [hit[0] for hit in check(textwrap.dedent(sql), path)]


def messages(check, sql: str, path: str = PATH) -> list[str]:
    return [hit[4] for hit in check(textwrap.dedent(sql), path)]


def test_every_pg_check_is_registered_and_used_by_a_rule():
    names = {n for n in CONFIG_CHECKS if n.startswith("sql_pg.")}
    used = {r.check for r in load_catalog() if r.engine == "config"}
    assert len(names) == 7 and names <= used


# --- DATA027 -------------------------------------------------------------------------------


def test_not_null_column_without_default_is_reported_on_its_own_line():
    sql = """\
        ALTER TABLE invoices
            ADD COLUMN issued_on date,
            ADD COLUMN number bigint NOT NULL DEFAULT NULL,
            ADD COLUMN ref text PRIMARY KEY;
        ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL;
        """
    assert lines(sql_pg.add_not_null_column, sql) == [3, 4, 5]
    assert "PRIMARY KEY (so NOT NULL)" in messages(sql_pg.add_not_null_column, sql)[1]


def test_not_null_column_that_fills_itself_or_lands_in_an_empty_table_is_fine():
    sql = """\
        ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR';
        ALTER TABLE orders ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY, ADD COLUMN s bigserial NOT NULL;
        ALTER TABLE orders ADD COLUMN total numeric NOT NULL GENERATED ALWAYS AS (price * qty) STORED;
        CREATE TABLE refunds (id bigint);
        ALTER TABLE refunds ADD COLUMN amount bigint NOT NULL;
        DELETE FROM password_resets;
        ALTER TABLE password_resets ADD COLUMN user_id bigint NOT NULL;
        TRUNCATE sessions;
        ALTER TABLE sessions ADD COLUMN expires_at timestamptz NOT NULL;
        """
    assert lines(sql_pg.add_not_null_column, sql) == []


# --- DATA028 -------------------------------------------------------------------------------


def test_index_builds_that_block_writes_are_reported():
    sql = """\
        CREATE TABLE coupons (id bigint, code text);
        CREATE INDEX coupons_code ON coupons (code);
        CREATE INDEX orders_created ON orders (created_at);
        CREATE INDEX CONCURRENTLY orders_status ON orders (status);
        CREATE INDEX measurements_idx ON ONLY measurements (taken_at);
        ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
        ALTER TABLE users ADD CONSTRAINT users_email_key2 UNIQUE USING INDEX users_email_idx;
        ALTER TABLE users ADD COLUMN handle text UNIQUE;
        """
    assert lines(sql_pg.index_without_concurrently, sql) == [3, 6, 8]


@pytest.mark.parametrize(
    ("header", "fails"),
    [
        ("BEGIN;\n", True),
        ("-- +goose Up\n", True),
        ("-- migrate:up\n", True),
        ("-- +migrate Up\n", True),
        ("-- +goose NO TRANSACTION\n-- +goose Up\n", False),
        ("-- migrate:up transaction:false\n", False),
        ("-- +migrate Up notransaction\n", False),
        ("", False),
        ("BEGIN;\nCOMMIT;\n", False),
    ],
)
def test_concurrent_index_inside_a_transaction_fails(header, fails):
    sql = header + "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);\n"
    found = messages(sql_pg.index_without_concurrently, sql)
    assert bool(found) is fails
    assert all("cannot run inside a transaction block" in m for m in found)


# --- DATA029 -------------------------------------------------------------------------------


def test_type_change_is_reported_unless_the_file_proves_it_catalog_only():
    sql = """\
        ALTER TABLE events ALTER COLUMN id TYPE bigint;
        ALTER TABLE users ADD COLUMN nick varchar(30);
        ALTER TABLE users ALTER COLUMN nick TYPE varchar(60);
        ALTER TABLE users ALTER COLUMN nick TYPE text;
        ALTER TABLE users ALTER COLUMN nick TYPE varchar(20);
        ALTER TABLE users ALTER COLUMN settings TYPE jsonb USING settings::jsonb;
        ALTER TABLE orders ALTER COLUMN note TYPE text;
        CREATE TABLE drafts (body varchar(10));
        ALTER TABLE drafts ALTER COLUMN body TYPE jsonb USING to_jsonb(body);
        """
    got = sql_pg.column_type_change(textwrap.dedent(sql), PATH)
    assert [h[0] for h in got] == [1, 5, 6, 7]
    assert got[0][4].startswith("ALTER COLUMN id TYPE bigint rewrites all of events")
    assert "widens" not in got[2][4] and "widens" in got[3][4]  # a cast to jsonb is no widening


def test_timestamp_to_timestamptz_under_utc_is_not_a_rewrite():
    sql = "ALTER TABLE t ALTER COLUMN at TYPE timestamptz USING at;\n"
    assert "SET timezone = 'UTC'" in messages(sql_pg.column_type_change, sql)[0]
    assert lines(sql_pg.column_type_change, "SET timezone = 'UTC';\n" + sql) == []
    assert lines(sql_pg.column_type_change, "SET TIME ZONE 'Europe/Paris';\n" + sql) == [2]


# --- DATA030 -------------------------------------------------------------------------------


def test_constraints_that_scan_under_a_lock_are_reported():
    sql = """\
        ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
            FOREIGN KEY (customer_id) REFERENCES customers (id);
        ALTER TABLE orders ADD CONSTRAINT orders_total CHECK (total >= 0);
        ALTER TABLE orders ADD COLUMN coupon_id bigint REFERENCES coupons (id);
        ALTER TABLE orders ADD CONSTRAINT orders_ok CHECK (total >= 0) NOT VALID;
        ALTER TABLE users ALTER COLUMN email SET NOT NULL;
        CREATE TABLE refunds (order_id bigint);
        ALTER TABLE refunds ADD CONSTRAINT refunds_fk FOREIGN KEY (order_id) REFERENCES orders (id);
        """
    got = sql_pg.constraint_validation_scan(textwrap.dedent(sql), PATH)
    assert [h[0] for h in got] == [1, 3, 4, 6]
    assert "SHARE ROW EXCLUSIVE locks on orders and customers" in got[0][4]


def test_validate_in_the_same_transaction_is_reported_and_after_commit_is_not():
    add = "ALTER TABLE users ADD CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\n"
    validate = "ALTER TABLE users VALIDATE CONSTRAINT users_org_fk;\n"
    assert lines(sql_pg.constraint_validation_scan, add + validate) == [2]
    assert lines(sql_pg.constraint_validation_scan, "BEGIN;\n" + add + "COMMIT;\n" + validate) == []


def test_set_not_null_after_a_validated_not_null_check_needs_no_scan():
    check = "ALTER TABLE users ADD CONSTRAINT users_email_nn CHECK (email IS NOT NULL) NOT VALID;\nCOMMIT;\n"
    validate = "ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
    assert lines(sql_pg.constraint_validation_scan, check + validate + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n") == []
    # Validated in an earlier migration: the check's column is unknown here, so trusted (as squawk does).
    assert lines(sql_pg.constraint_validation_scan, validate + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n") == []
    # A check on another column does not help.
    other = check.replace("(email IS", "(phone IS").replace("email_nn", "phone_nn")
    assert lines(
        sql_pg.constraint_validation_scan,
        other + validate.replace("email_nn", "phone_nn") + "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n",
    ) == [4]


# --- DATA031 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "line"),
    [
        ("CREATE TABLE n (id int);\nALTER TABLE orders ADD COLUMN note text;\nDROP TABLE old;\n", 2),
        ("SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n", None),
        ("SET lock_timeout TO 0;\nALTER TABLE orders ADD COLUMN note text;\n", 2),
        ("SELECT set_config('lock_timeout', '2s', false);\nDROP INDEX orders_idx;\n", None),
        ("BEGIN;\nSET LOCAL lock_timeout = '2s';\nCOMMIT;\nCREATE INDEX i ON orders (a);\n", 4),
        ("ALTER TABLE orders VALIDATE CONSTRAINT fk;\nCREATE INDEX CONCURRENTLY i ON orders (a);\n", None),
        ("COMMENT ON TABLE orders IS 'x';\nVACUUM (FULL false) orders;\nLOCK orders IN ACCESS SHARE MODE;\n", None),
        ("CREATE TABLE items (order_id bigint REFERENCES orders (id));\n", 1),
        ("REINDEX (CONCURRENTLY false) INDEX orders_idx;\n", 1),
    ],
)
def test_lock_timeout_is_asked_for_once_before_the_first_blocking_lock(sql, line):
    assert lines(sql_pg.missing_lock_timeout, sql) == ([line] if line else [])


# --- DATA032 -------------------------------------------------------------------------------


def test_update_without_where_and_backfills_in_the_altering_transaction():
    sql = """\
        UPDATE users SET plan = 'free';
        UPDATE users SET plan = 'free' WHERE plan IS NULL;
        UPDATE orders o SET total = l.sum FROM line_sums l;
        ALTER TABLE users ADD COLUMN email_lower text;
        UPDATE users SET email_lower = lower(email);
        CREATE TABLE plans (seats int);
        UPDATE plans SET seats = 5;
        """
    got = sql_pg.update_without_where(textwrap.dedent(sql), PATH)
    assert [h[0] for h in got] == [1, 3, 5]
    assert "stays ACCESS EXCLUSIVE-locked" in got[2][4]
    after_commit = "BEGIN;\nALTER TABLE users ADD COLUMN email_lower text;\nCOMMIT;\nUPDATE users SET email_lower = lower(email);\n"
    assert lines(sql_pg.update_without_where, after_commit) == []


# --- DATA033 -------------------------------------------------------------------------------


def test_add_column_with_a_per_row_value_rewrites_the_table():
    sql = """\
        ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
        ALTER TABLE orders ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
        ALTER TABLE orders ADD COLUMN at2 timestamptz DEFAULT current_timestamp - interval '1 day';
        ALTER TABLE orders ADD COLUMN slug text DEFAULT make_slug();
        ALTER TABLE orders ADD COLUMN n bigserial;
        ALTER TABLE orders ADD COLUMN flags jsonb NOT NULL DEFAULT '{}'::jsonb;
        CREATE FUNCTION stable_code() RETURNS text LANGUAGE sql IMMUTABLE AS 'select ''x''';
        ALTER TABLE orders ADD COLUMN code text DEFAULT stable_code();
        """
    got = sql_pg.add_column_rewrites_table(textwrap.dedent(sql), PATH)
    assert [h[0] for h in got] == [1, 4, 5]
    assert "gen_random_uuid() is VOLATILE" in got[0][4]
    assert "make_slug() is not a known non-volatile built-in" in got[1][4]


# --- which files, and files the parser rejects ----------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["db/migrations/0002_x.down.sql", "migrations/2024-01-01_x/down.sql", "db/migrations/mysql/0002_x.sql",
     "migrations/0005.sqlite3.up.sql", "persistence/migrations/20210101_x.cockroach.up.sql"],
)  # fmt: skip
def test_down_migrations_and_other_databases_are_not_judged(path):
    assert sql_pg.add_not_null_column("ALTER TABLE t ADD COLUMN c int NOT NULL;\n", path) == []


def test_down_section_is_not_parsed():
    sql = "-- migrate:up\nCREATE INDEX i ON t (a);\n-- migrate:down\nthis is not SQL at all;\n"
    assert lines(sql_pg.index_without_concurrently, sql) == [2]


def test_lines_and_columns_count_characters_not_bytes():
    sql = "-- Überarbeitung der Bestellungen, naïve café\nALTER TABLE orders ADD COLUMN währung char(3) NOT NULL;\n"
    ((line, column, end_line, end_column, _),) = sql_pg.add_not_null_column(sql, PATH)
    assert (line, column, end_line, end_column) == (2, 31, 2, 55)


def test_a_file_is_parsed_once_for_all_checks():
    sql = "ALTER TABLE orders ADD COLUMN unique_marker_4711 int;\n"
    before = _pg.parse.cache_info()
    for name, check in CONFIG_CHECKS.items():
        if name.startswith("sql_pg."):
            check(sql, PATH)
    after = _pg.parse.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 6)


def test_mysql_file_is_skipped_visibly_by_the_pg_checks_and_still_checked_by_data012(tmp_path):
    mysql = "CREATE TABLE `t` (id INT) ENGINE=InnoDB;\nDROP TABLE legacy_orders;\nCREATE INDEX i ON t (id);\n"
    with pytest.raises(ConfigUnparseable, match=r"line 1: syntax error at or near \"`\""):
        sql_pg.index_without_concurrently(mysql, PATH)
    target_path = tmp_path / PATH
    target_path.parent.mkdir(parents=True)
    target_path.write_text(mysql, encoding="utf-8")
    rules = [r for r in load_catalog() if r.id in ("DATA012", "DATA028", "DATA031")]
    result = ConfigEngine().run(rules, [Target(PATH, str(target_path), "sql")], tmp_path, jobs=1)
    assert [(f.rule_id, f.line) for f in result.findings] == [("DATA012", 2)]
    (skip,) = result.skipped
    assert (skip.path, skip.reason, skip.engine) == (PATH, "unparseable", "config")
    assert skip.detail.startswith("PostgreSQL checks not run: line 1:")
    assert result.errors == ()


# --- benchmarks/squawk_cases.py reads squawk's labels right ---------------------------------

RUST = '''
pub(crate) fn rule() {}

#[cfg(test)]
mod test {
    #[test]
    fn bad_one() {
        let sql = r#"
CREATE INDEX i ON t (c);
        "#;
        assert_snapshot!(lint_errors(sql, Rule::RequireConcurrentIndexCreation));
    }

    #[test]
    fn good_one() {
        let sql = r#"
CREATE INDEX CONCURRENTLY i ON t (c);
        "#;
        lint_ok(sql, Rule::RequireConcurrentIndexCreation);
    }

    #[test]
    fn fix_inline() {
        assert_snapshot!(fix("CREATE INDEX i ON t (c);"), @"CREATE INDEX concurrently i ON t (c);");
    }
}
'''
SNAPSHOT = "---\nsource: x\n---\nwarning[require-concurrent-index-creation]: m\n  ╭▸ \n2 │ CREATE INDEX i ON t (c);\n"


def test_squawk_case_extractor_reads_labels_sql_and_snapshot_lines(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("squawk_cases", Path(__file__).parents[1] / "benchmarks/squawk_cases.py")
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "squawk_cases", bench)  # dataclasses look their module up
    spec.loader.exec_module(bench)
    rules = tmp_path / bench.RULES_DIR
    (rules / "snapshots").mkdir(parents=True)
    (rules / "require_concurrent_index_creation.rs").write_text(RUST, encoding="utf-8")
    snap = "squawk_linter__rules__require_concurrent_index_creation__test__bad_one.snap"
    (rules / "snapshots" / snap).write_text(SNAPSHOT, encoding="utf-8")
    cases = bench.extract(tmp_path, "require_concurrent_index_creation")
    assert [(c.test, c.bad, c.squawk_lines) for c in cases] == [
        ("bad_one", True, (2,)),
        ("good_one", False, ()),
        ("fix_inline", True, ()),
    ]
    assert cases[2].sql == "CREATE INDEX i ON t (c);"
    assert [bench.ours(c)[0] for c in cases] == [True, False, True]
