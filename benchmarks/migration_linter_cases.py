"""prodaudit on django-migration-linter's labelled test apps: how many of the apps its test suite
expects errors for does prodaudit flag, and how many of the "valid" ones does it leave alone.

    python benchmarks/migration_linter_cases.py LINTER_CHECKOUT [--launch public] [--out FILE.json]

LINTER_CHECKOUT is a checkout of github.com/3YOURMIND/django-migration-linter (its test apps are
read as data from tests/test_project/app_*; nothing of it is imported or run). The labels are those
of its functional test suite for PostgreSQL (tests/functional/test_migration_linter.py,
PostgresqlBackwardCompatibilityDetectionTestCase and the base class it inherits): an app is an
"error" case when the test asserts `linter.has_errors`, a "valid" case when it asserts the
opposite. Each app is copied into a scratch tree as a project of its own (so one app's models do
not count as code using another app's tables), the tree is scanned once with `prodaudit scan
--no-cache`, and only open data-safety (DATA) findings are counted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# app folder -> what the linter's PostgreSQL test expects ("error" | "valid"), and a note.
LABELS: dict[str, tuple[str, str]] = {
    "app_add_not_null_column": ("error", "AddField NOT NULL, Python default dropped (preserve_default=False)"),
    "app_add_not_null_column_with_null_db_default": ("error", "AddField NOT NULL with db_default=None"),
    "app_make_not_null_with_django_default": ("error", "AlterField null=True -> NOT NULL with a Python default"),
    "app_drop_column": ("error", "RemoveField"),
    "app_drop_table": ("error", "DeleteModel"),
    "app_rename_column": ("error", "RenameField"),
    "app_rename_table": ("error", "RenameModel"),
    "app_unique_together": ("error", "AlterUniqueTogether adds a tuple, then removes it"),
    "app_alter_column": ("error", "AlterField IntegerField -> CharField (ALTER COLUMN TYPE)"),
    "app_create_table_with_not_null_column": ("valid", "CreateModel with a NOT NULL column"),
    "app_make_not_null_with_lib_default": ("valid", "AlterField -> NOT NULL plus django-add-default-value"),
    "app_ignore_migration": ("valid", "AddField with Python default, marked IgnoreMigration()"),
    "app_add_not_null_column_followed_by_default": ("valid", "AddField default=1 plus django-add-default-value"),
    "app_add_not_null_column_followed_by_db_default": ("valid", "AddField NOT NULL with db_default"),
    "app_alter_column_drop_not_null": ("valid", "AlterField NOT NULL -> null=True"),
    "app_add_manytomany_field": ("valid", "AddField ManyToManyField"),
    "app_with_custom_name": ("valid", "CreateModel only (custom app label)"),
    "app_create_index_exclusive": ("valid", "AddField db_index=True (the linter warns, no error)"),
}


def scan(project: Path, apps: list[str], launch: str) -> dict[str, list[dict]]:
    """One scan of all apps, each laid out as a project of its own (`<app>/<app>/migrations/`), so
    the cross-file rules see only the app's own models as code that uses its tables."""
    root = Path(tempfile.mkdtemp(prefix="prodaudit-dml-"))
    try:
        for app in apps:
            shutil.copytree(project / app, root / app / app, ignore=shutil.ignore_patterns("__pycache__"))
        proc = subprocess.run(
            [sys.executable, "-m", "prodaudit", "scan", str(root), "--format", "json", "--no-cache",
             "--exit-zero", "--launch", launch],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            raise SystemExit(f"prodaudit failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        report = json.loads(proc.stdout)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    found: dict[str, list[dict]] = {app: [] for app in apps}
    for f in report["findings"]:
        if f["rule_id"].startswith("DATA") and f["status"] == "open":
            found[f["path"].split("/", 1)[0]].append(f)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", type=Path, help="django-migration-linter checkout (or its tests/test_project)")
    parser.add_argument("--launch", default="public")
    parser.add_argument("--out", type=Path, help="also write the per-app results as JSON")
    args = parser.parse_args()
    project = args.checkout / "tests" / "test_project"
    if not project.is_dir():
        project = args.checkout
    missing = [app for app in LABELS if not (project / app / "migrations").is_dir()]
    if missing:
        raise SystemExit(f"not a django-migration-linter test project: {project} lacks {', '.join(missing)}")

    found = scan(project, list(LABELS), args.launch)
    rows = []
    for app, (label, note) in LABELS.items():
        findings = found[app]
        rows.append({
            "app": app, "label": label, "note": note,
            "flagged": bool(findings),
            "stop_ship": any(f["category"] == "stop-ship" for f in findings),
            "findings": sorted(f"{f['rule_id']}:{f['category']}" for f in findings),
        })

    print(f"{'app':48} {'label':6} {'prodaudit DATA findings (rule:category)'}")
    for r in rows:
        print(f"{r['app']:48} {r['label']:6} {', '.join(r['findings']) or '-'}")
    errors = [r for r in rows if r["label"] == "error"]
    valid = [r for r in rows if r["label"] == "valid"]
    print()
    print(f"error cases flagged (any DATA finding): {sum(r['flagged'] for r in errors)}/{len(errors)}")
    print(f"error cases flagged at Stop-Ship (--launch {args.launch}): {sum(r['stop_ship'] for r in errors)}/{len(errors)}")
    print(f"valid cases left alone (no DATA finding): {sum(not r['flagged'] for r in valid)}/{len(valid)}")
    print(f"valid cases without a Stop-Ship: {sum(not r['stop_ship'] for r in valid)}/{len(valid)}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
