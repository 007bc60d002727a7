"""Run prodaudit's SQL migration checks on squawk's own labelled test cases.

    python benchmarks/squawk_cases.py PATH_TO_SQUAWK [--cases]

PATH_TO_SQUAWK is a checkout of github.com/sbdchd/squawk, or a bare git directory of it (read at
HEAD with `git show`). Each squawk rule keeps its test cases in its Rust source
(`crates/squawk_linter/src/rules/<rule>.rs`): a SQL string and a call that labels it, `lint_ok`
(squawk reports nothing) or `lint_errors` / `fix` (squawk reports something; the snapshot,
inline or in `snapshots/`, says on which lines). The cases are read as data at run time and never
stored here. Each case is given to the prodaudit check(s) that cover the same problem, and the
script prints, per squawk rule, the share of "bad" cases we flag and of "ok" cases we leave alone,
then every disagreement with the reason we disagree (or "UNEXPLAINED", which is a bug to look at).
`--cases` prints every case with both verdicts."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prodaudit.checks import sql, sql_pg
from prodaudit.checks.configbase import ConfigUnparseable

RULES_DIR = "crates/squawk_linter/src/rules"
CASE_PATH = "db/migrations/0001_squawk_case.sql"  # under DATA012's paths.include, not a down file

Check = Callable[[str, str], list]
# squawk rule module -> (squawk's rule name, our rule ids, the checks that cover it)
MAPPING: dict[str, tuple[str, str, tuple[Check, ...]]] = {
    "adding_required_field": ("adding-required-field", "DATA027", (sql_pg.add_not_null_column,)),
    "adding_not_null_field": ("adding-not-nullable-field", "DATA030", (sql_pg.constraint_validation_scan,)),
    "adding_field_with_default": ("adding-field-with-default", "DATA033", (sql_pg.add_column_rewrites_table,)),
    "require_concurrent_index_creation": (
        "require-concurrent-index-creation", "DATA028", (sql_pg.index_without_concurrently,)
    ),
    "ban_concurrent_index_creation_in_transaction": (
        "ban-concurrent-index-creation-in-transaction", "DATA028", (sql_pg.index_without_concurrently,)
    ),
    "disallow_unique_constraint": ("disallowed-unique-constraint", "DATA028", (sql_pg.index_without_concurrently,)),
    "changing_column_type": ("changing-column-type", "DATA029", (sql_pg.column_type_change,)),
    "constraint_missing_not_valid": (
        "constraint-missing-not-valid", "DATA030, DATA028",  # squawk's rule also covers UNIQUE / PRIMARY KEY
        (sql_pg.constraint_validation_scan, sql_pg.index_without_concurrently),
    ),
    "adding_foreign_key_constraint": ("adding-foreign-key-constraint", "DATA030", (sql_pg.constraint_validation_scan,)),
    "require_timeout_settings": ("require-lock-timeout", "DATA031", (sql_pg.missing_lock_timeout,)),
    "ban_drop_column": ("ban-drop-column", "DATA012", (sql.drops_data,)),
    "ban_drop_table": ("ban-drop-table", "DATA012", (sql.drops_data,)),
    "ban_drop_database": ("ban-drop-database", "DATA012", (sql.drops_data,)),
    "ban_truncate_cascade": ("ban-truncate-cascade", "DATA012", (sql.drops_data,)),
}  # fmt: skip

# Why we disagree with a label, per (rule module, test name). Anything missing prints UNEXPLAINED.
REASONS: dict[tuple[str, str], str] = {
    ("adding_not_null_field", "regression_gh_issue_628_pg11_with_validated_check_err"):
        "PostgreSQL 11 setting: on 11 SET NOT NULL ignores the validated CHECK; we assume 12+ (11 is end-of-life "
        "since 2023).",
    ("adding_not_null_field", "pg11_cross_migration_validate_then_set_not_null_err"):
        "PostgreSQL 11 setting, as above: we assume 12+.",
    ("adding_field_with_default", "docs_example_error_on_pg_11"):
        "PostgreSQL 11 setting: before 11 every DEFAULT rewrote the table; we assume 11+.",
    ("adding_field_with_default", "default_random_with_args_err"):
        "`now(123)` is not a real call (now() takes no argument); we judge by name and call now() STABLE.",
    ("constraint_missing_not_valid", "adding_fk_not_valid_ok"):
        "NOT VALID then VALIDATE in one file with no COMMIT between: squawk only objects inside BEGIN or with "
        "assume_in_transaction; we assume the file is one transaction (Flyway, golang-migrate, sqlx, diesel, goose "
        "and dbmate run it so by default), where the VALIDATE scans under the ADD's lock.",
    ("constraint_missing_not_valid", "adding_check_constraint_ok"):
        "Same as adding_fk_not_valid_ok: NOT VALID and VALIDATE in the same file.",
    ("ban_concurrent_index_creation_in_transaction", "assuming_in_transaction_err"):
        "squawk's assume_in_transaction setting says the tool wraps every file in a transaction; we know that only "
        "from BEGIN or a goose/dbmate/sql-migrate marker (the same SQL under `-- +goose Up` is flagged).",
    ("changing_column_type", "another_err:lines"):
        "Line 7 changes the column from varchar(255), set on line 6, to text: a catalog-only change we can prove "
        "from the file, so we do not report it.",
    ("adding_foreign_key_constraint", "add_foreign_key_constraint_not_valid_validate"):
        "NOT VALID then VALIDATE inside the same BEGIN ... COMMIT: squawk's constraint-missing-not-valid reports this "
        "very case (not_valid_validate_transaction_err); our one check covers both squawk rules.",
    ("require_timeout_settings", "err_other_ddl_operations"):
        "CREATE TYPE takes no lock on an existing table; we only ask for lock_timeout before statements that block "
        "reads or writes of one (squawk asks before any DDL).",
    ("require_timeout_settings", "err_comment_on_explains_lock_impact"):
        "COMMENT ON takes SHARE UPDATE EXCLUSIVE, which blocks neither reads nor writes: no queue forms behind it.",
    ("require_timeout_settings", "err_vacuum_full_false_uses_non_full_lock"):
        "VACUUM (FULL false) is a plain VACUUM (SHARE UPDATE EXCLUSIVE): blocks neither reads nor writes.",
    ("require_timeout_settings", "err_lock_access_share_uses_correct_article"):
        "LOCK ... IN ACCESS SHARE MODE blocks neither reads nor writes; we count modes from SHARE up.",
    ("require_timeout_settings", "fix_multiple_ddl_statements"):
        "CREATE TABLE users then ALTER TABLE users: both touch a table this file creates, which nobody else can hold.",
    ("ban_truncate_cascade", "ok"):
        "DATA012 reports every TRUNCATE in an up migration, with or without CASCADE: it deletes every row either way.",
}


@dataclass(frozen=True)
class Case:
    rule: str
    test: str
    sql: str
    bad: bool
    squawk_lines: tuple[int, ...]  # lines squawk reports (from the snapshot), when known
    settings: str  # non-default squawk settings, e.g. "pg_version=11"


def read_rule(root: Path, module: str) -> tuple[str, dict[str, str]]:
    """The rule's Rust source and its snapshot files (name -> text)."""
    rel = f"{RULES_DIR}/{module}.rs"
    if (root / rel).is_file():
        source = (root / rel).read_text(encoding="utf-8")
        snaps = {p.name: p.read_text(encoding="utf-8") for p in (root / RULES_DIR / "snapshots").glob("*.snap")}
        return source, snaps
    git = ["git", f"--git-dir={root}"]
    source = subprocess.run([*git, "show", f"HEAD:{rel}"], capture_output=True, text=True, check=True).stdout
    names = subprocess.run(
        [*git, "ls-tree", "--name-only", "HEAD", f"{RULES_DIR}/snapshots/"], capture_output=True, text=True, check=True
    ).stdout.split()
    prefix = f"squawk_linter__rules__{module}__"
    snaps = {
        Path(n).name: subprocess.run([*git, "show", f"HEAD:{n}"], capture_output=True, text=True, check=True).stdout
        for n in names
        if Path(n).name.startswith(prefix)
    }
    return source, snaps


_TEST = re.compile(r"#\[test\]\s*fn\s+(\w+)\s*\(\)\s*\{")
_RAW = re.compile(r'r(#*)"(.*?)"\1', re.S)
_PLAIN = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1), m.group(1)), s)


def _sql_of(body: str) -> str | None:
    m = re.search(r"let\s+sql\s*=\s*", body)
    if m:
        rest = body[m.end() :]
        raw = _RAW.match(rest)
        if raw:
            return raw.group(2)
        plain = _PLAIN.match(rest)
        return _unescape(plain.group(1)) if plain else None
    call = re.search(r"\bfix\(\s*", body)  # fix("...") with the SQL inline
    if call:
        rest = body[call.end() :]
        raw = _RAW.match(rest)
        if raw:
            return raw.group(2)
        plain = _PLAIN.match(rest)
        return _unescape(plain.group(1)) if plain else None
    return None


def _snapshot_lines(text: str) -> tuple[int, ...]:
    return tuple(sorted({int(m.group(1)) for m in re.finditer(r"╭▸\s*\n\s*(\d+)\s*│", text)}))


def extract(root: Path, module: str) -> list[Case]:
    source, snaps = read_rule(root, module)
    tests_at = source.find("#[cfg(test)]")
    source = source[tests_at:] if tests_at >= 0 else source
    starts = list(_TEST.finditer(source))
    cases = []
    for i, m in enumerate(starts):
        name = m.group(1)
        body = source[m.end() : starts[i + 1].start() if i + 1 < len(starts) else len(source)]
        text = _sql_of(body)
        if text is None:
            continue  # lock_kind_* tables and other tests that lint nothing
        snapshot = body + snaps.get(f"squawk_linter__rules__{module}__test__{name}.snap", "")
        if module == "require_timeout_settings":
            # One squawk test covers two rules; we only implement the lock_timeout half.
            if "Rule::RequireStatementTimeout" in body:
                continue
            if re.search(r"\bfix\(", body):
                bad = "set lock_timeout = '1s'" in snapshot.split("@", 1)[-1] and "set lock_timeout = '1s'" not in text
            else:
                bad = "require-lock-timeout" in snapshot or (
                    "lint_errors(sql, Rule::RequireLockTimeout)" in body and "lint_ok" not in body
                )
        elif re.search(r"\blint_ok(_with)?\(", body):
            bad = False
        elif re.search(r"\b(lint_errors(_with)?|fix)\(", body):
            bad = True
        else:
            continue
        settings = []
        if v := re.search(r'pg_version:\s*"(\d+)"', body):
            settings.append(f"pg_version={v.group(1)}")
        if re.search(r"assume_in_transaction:\s*true", body):
            settings.append("assume_in_transaction")
        lines = _snapshot_lines(snapshot) if bad else ()
        cases.append(Case(module, name, text, bad, lines, ",".join(settings)))
    return cases


def ours(case: Case) -> tuple[bool, tuple[int, ...], str]:
    """(flagged, lines, note) from the prodaudit checks mapped to the case's squawk rule."""
    lines: set[int] = set()
    for check in MAPPING[case.rule][2]:
        try:
            lines |= {hit[0] for hit in check(case.sql, CASE_PATH)}
        except ConfigUnparseable as exc:
            return False, (), f"unparseable: {exc}"
    return bool(lines), tuple(sorted(lines)), ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("squawk", type=Path, help="squawk checkout or bare git directory")
    parser.add_argument("--cases", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    rows, disagreements, total = [], [], [0, 0, 0, 0, 0, 0]
    for module, (name, ids, _) in MAPPING.items():
        cases = extract(args.squawk, module)
        bad = [c for c in cases if c.bad]
        ok = [c for c in cases if not c.bad]
        flagged = line_hits = line_total = left_alone = 0
        for case in cases:
            got, lines, note = ours(case)
            agree = got == case.bad
            if case.bad and got:
                flagged += 1
                if case.squawk_lines:
                    line_total += len(case.squawk_lines)
                    line_hits += len(set(case.squawk_lines) & set(lines))
                    if set(case.squawk_lines) - set(lines):
                        reason = REASONS.get((module, f"{case.test}:lines"), "UNEXPLAINED")
                        missed = sorted(set(case.squawk_lines) - set(lines))
                        disagreements.append(f"- `{module}::{case.test}` (line(s) {missed} not reported): {reason}")
            if not case.bad and not got:
                left_alone += 1
            if args.cases:
                label = "bad" if case.bad else "ok"
                print(f"{module}::{case.test} squawk={label} ours={lines or '-'} {case.settings} {note}")
            if not agree:
                reason = REASONS.get((module, case.test)) or note or "UNEXPLAINED"
                label = "bad, not flagged" if case.bad else "ok, flagged"
                extra = f" [{case.settings}]" if case.settings else ""
                disagreements.append(f"- `{module}::{case.test}` ({label}{extra}): {reason}")
        rows.append((name, ids, len(bad), flagged, len(ok), left_alone, line_hits, line_total))
        for i, n in enumerate((len(bad), flagged, len(ok), left_alone, line_hits, line_total)):
            total[i] += n
    print("| squawk rule | prodaudit | bad cases we flag | ok cases we leave alone | squawk's lines we also report |")
    print("|---|---|---|---|---|")
    for name, ids, nb, fl, no, la, lh, lt in rows:
        print(f"| {name} | {ids} | {_ratio(fl, nb)} | {_ratio(la, no)} | {_ratio(lh, lt)} |")
    nb, fl, no, la, lh, lt = total
    print(f"| **all** | | {_ratio(fl, nb)} | {_ratio(la, no)} | {_ratio(lh, lt)} |")
    print("\nDisagreements:\n")
    print("\n".join(disagreements) if disagreements else "none")
    return 1 if any("UNEXPLAINED" in d for d in disagreements) else 0


def _ratio(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else "-"


if __name__ == "__main__":
    sys.exit(main())
