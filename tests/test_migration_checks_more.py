"""Django migration checks DATA021-DATA025 (and the history they read), through the real LibCST
engine on real files: earlier migrations are sibling files on disk, never imported."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import write

from prodaudit.catalog import load_catalog
from prodaudit.checks._field_def import column_change, field_def_from_source
from prodaudit.engines.cst import CstEngine
from prodaudit.model import Target

RULES = {r.id: r for r in load_catalog() if r.engine == "cst"}

HEAD = "from django.db import migrations, models\n\n\n"


def migration(operations: str, dependencies: str = "[]", head: str = HEAD, extra: str = "") -> str:
    body = textwrap.indent(textwrap.dedent(operations).strip(), " " * 8)
    return f"{head}{textwrap.dedent(extra)}\nclass Migration(migrations.Migration):\n    dependencies = {dependencies}\n    operations = [\n{body}\n    ]\n"


INITIAL = migration(
    """
    migrations.CreateModel(
        name="Order",
        fields=[
            ("id", models.AutoField(primary_key=True)),
            ("reference", models.CharField(max_length=20)),
            ("email", models.EmailField(null=True)),
            ("paid", models.NullBooleanField()),
            ("shop_id", models.IntegerField()),
            ("number", models.IntegerField()),
        ],
    ),
    """
)


def scan(root: Path, files: dict[str, str], *rule_ids: str, cache: Path | None = None) -> list[tuple[str, str, int]]:
    """(rule id, file, line) of every finding of `rule_ids` in `files`, written under `root`."""
    write(root, files)
    targets = [Target(rel, str(root / rel), "python") for rel in files]
    result = CstEngine(cache_dir=cache).run([RULES[i] for i in rule_ids], targets, root, jobs=1)
    assert result.errors == ()
    return sorted((f.rule_id, f.path.rsplit("/", 1)[-1], f.line) for f in result.findings)


def at(text: str, needle: str) -> int:
    """The line of `text` that contains `needle` (exactly one must)."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def shop(**files: str) -> dict[str, str]:
    return {f"shop/migrations/{name}.py": text for name, text in files.items()}


# --- column types ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("models.IntegerField()", "models.CharField(max_length=10)", "type"),
        ("models.IntegerField()", "models.BigIntegerField()", "type"),
        ("models.AutoField(primary_key=True)", "models.BigAutoField(primary_key=True)", "type"),
        ("models.TextField()", "models.JSONField()", "type"),
        ("models.CharField(max_length=20)", "models.CharField(max_length=10)", "narrow"),
        ("models.CharField()", "models.CharField(max_length=10)", "narrow"),
        ("models.TextField()", "models.CharField(max_length=200)", "narrow"),
        ("models.SlugField()", "models.SlugField(max_length=40)", "narrow"),
        ("models.DecimalField(max_digits=12, decimal_places=2)", "models.DecimalField(max_digits=10, decimal_places=2)", "narrow"),
        ("models.DecimalField(max_digits=12, decimal_places=4)", "models.DecimalField(max_digits=12, decimal_places=2)", "narrow"),
        ("models.DecimalField(max_digits=10, decimal_places=2)", "models.DecimalField(max_digits=12, decimal_places=4)", "type"),
        # Changes PostgreSQL makes without touching the rows, or that cannot be told:
        ("models.CharField(max_length=20)", "models.CharField(max_length=40)", None),
        ("models.CharField(max_length=20)", "models.TextField()", None),
        ("models.EmailField()", "models.CharField(max_length=254)", None),
        ("models.DecimalField(max_digits=10, decimal_places=2)", "models.DecimalField(max_digits=14, decimal_places=2)", None),
        ("models.IntegerField()", "models.PositiveIntegerField()", None),
        ("models.AutoField(primary_key=True)", "models.IntegerField(primary_key=True)", None),
        ("models.NullBooleanField()", "models.BooleanField(null=True)", None),
        ("models.ForeignKey(to='shop.a', on_delete=models.CASCADE)", "models.ForeignKey(to='shop.b', on_delete=models.CASCADE)", None),
        ("models.IntegerField()", "models.ForeignKey(to='shop.a', on_delete=models.CASCADE)", None),
        ("models.CharField(max_length=20)", "RichTextField()", None),
        ("models.CharField(max_length=LONG)", "models.CharField(max_length=10)", None),
    ],
)
def test_column_change(old, new, kind):
    change = column_change(field_def_from_source(old), field_def_from_source(new))
    assert (change.kind if change else None) == kind


# --- DATA021 / DATA022: the previous definition comes from the sibling files -------------------------------------


def test_type_change_found_through_the_dependency_chain(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0002_email_longer": migration(
                'migrations.AlterField("order", "email", models.EmailField(max_length=320, null=True)),',
                '[("shop", "0001_initial")]',
            ),
            "0003_reference_int": migration(
                """
                migrations.AlterField("order", "reference", models.IntegerField()),
                migrations.AlterField("order", "email", models.EmailField(max_length=300, null=True)),
                """,
                '[("shop", "0002_email_longer")]',
            ),
        }
    )
    text = files["shop/migrations/0003_reference_int.py"]
    assert scan(tmp_path, files, "DATA021") == [
        ("DATA021", "0003_reference_int.py", at(text, "IntegerField")),
        ("DATA021", "0003_reference_int.py", at(text, "max_length=300")),
    ]


def test_only_ancestors_count_not_every_file_that_sorts_before(tmp_path):
    # 0002_b is a sibling branch that 0003 does not depend on: its AlterField is not history of 0003.
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0002_a": migration('migrations.AddField("order", "note", models.TextField(null=True)),', '[("shop", "0001_initial")]'),
            "0002_b": migration(
                'migrations.AlterField("order", "reference", models.IntegerField()),', '[("shop", "0001_initial")]'
            ),
            "0003_reference": migration(
                'migrations.AlterField("order", "reference", models.CharField(max_length=20, null=True)),',
                '[("shop", "0002_a")]',
            ),
        }
    )
    assert scan(tmp_path, files, "DATA021") == [("DATA021", "0002_b.py", at(files["shop/migrations/0002_b.py"], "AlterField"))]


def test_squashed_migration_stands_for_the_ones_it_replaces(tmp_path):
    squashed = migration(
        """
        migrations.CreateModel(
            name="Order",
            fields=[("id", models.AutoField(primary_key=True)), ("total", models.DecimalField(max_digits=12, decimal_places=2))],
        ),
        """
    ).replace("    dependencies = []", '    replaces = [("shop", "0001_initial"), ("shop", "0002_total")]\n    dependencies = []')
    files = shop(
        **{
            "0001_squashed_0002_total": squashed,
            "0003_total": migration(
                'migrations.AlterField("order", "total", models.DecimalField(max_digits=8, decimal_places=2)),',
                '[("shop", "0002_total")]',
            ),
        }
    )
    assert scan(tmp_path, files, "DATA021") == [("DATA021", "0003_total.py", at(files["shop/migrations/0003_total.py"], "AlterField"))]


def test_missing_earlier_migration_means_unknown_not_a_guess(tmp_path):
    # The --diff-base base tree holds only changed files: 0001 is not there.
    files = shop(
        **{
            "0002_reference_int": migration(
                'migrations.AlterField("order", "reference", models.IntegerField()),', '[("shop", "0001_initial")]'
            )
        }
    )
    assert scan(tmp_path, files, "DATA021", "DATA022", "DATA024") == []


def test_a_dependency_on_a_missing_file_of_the_app_makes_the_history_unknown(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0003_reference_int": migration(
                'migrations.AlterField("order", "reference", models.IntegerField()),', '[("shop", "0002_gone")]'
            ),
            "0004_x": migration("", '[("shop", "0003_reference_int")]'),
        }
    )
    assert scan(tmp_path, files, "DATA021") == []


def test_unreadable_dependencies_fall_back_to_file_name_order(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0002_reference_int": migration(
                'migrations.AlterField("order", "reference", models.IntegerField()),', "DEPENDENCIES"
            ).replace("    dependencies = DEPENDENCIES", "    dependencies = [(APP, '0001_initial')]"),
        }
    )
    text = files["shop/migrations/0002_reference_int.py"]
    assert scan(tmp_path, files, "DATA021") == [("DATA021", "0002_reference_int.py", at(text, "AlterField"))]


def test_state_operations_count_as_history(tmp_path):
    # The database change was done by hand; Django's state says the column is an IntegerField now.
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0002_by_hand": migration(
                """
                migrations.SeparateDatabaseAndState(
                    database_operations=[migrations.RunSQL("ALTER TABLE shop_order ALTER reference TYPE integer USING reference::integer", migrations.RunSQL.noop)],
                    state_operations=[migrations.AlterField("order", "reference", models.IntegerField())],
                ),
                """,
                '[("shop", "0001_initial")]',
            ),
            "0003_reference_big": migration(
                'migrations.AlterField("order", "reference", models.IntegerField(db_index=True)),',
                '[("shop", "0002_by_hand")]',
            ),
        }
    )
    assert scan(tmp_path, files, "DATA021") == []


def test_not_null_needs_a_proven_nullable_past(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL,
            "0002_required": migration(
                """
                migrations.AlterField("order", "email", models.EmailField()),
                migrations.AlterField("order", "paid", models.BooleanField(default=False)),
                migrations.AlterField("order", "reference", models.CharField(max_length=20, blank=False)),
                migrations.AlterField("order", "unknown_field", models.CharField(max_length=20)),
                """,
                '[("shop", "0001_initial")]',
            ),
        }
    )
    text = files["shop/migrations/0002_required.py"]
    assert scan(tmp_path, files, "DATA022") == [
        ("DATA022", "0002_required.py", at(text, '"email"')),
        ("DATA022", "0002_required.py", at(text, '"paid"')),
    ]


def test_a_new_table_is_exempt(tmp_path):
    files = shop(
        **{
            "0001_initial": migration(
                """
                migrations.CreateModel(name="Order", fields=[("id", models.AutoField(primary_key=True)), ("email", models.EmailField(null=True))]),
                migrations.AlterField("order", "email", models.IntegerField(unique=True)),
                migrations.AddConstraint("order", models.UniqueConstraint(fields=["email"], name="u")),
                """
            )
        }
    )
    assert scan(tmp_path, files, "DATA021", "DATA022", "DATA024") == []


def test_editing_an_earlier_migration_invalidates_the_cached_result(tmp_path):
    cache = tmp_path / "cache"
    later = migration('migrations.AlterField("order", "reference", models.IntegerField()),', '[("shop", "0001_initial")]')
    files = shop(**{"0001_initial": INITIAL, "0002_reference_int": later})
    assert scan(tmp_path / "repo", files, "DATA021", cache=cache) == [("DATA021", "0002_reference_int.py", at(later, "AlterField"))]
    files["shop/migrations/0001_initial.py"] = INITIAL.replace('models.CharField(max_length=20)', "models.IntegerField()")
    assert scan(tmp_path / "repo", files, "DATA021", cache=cache) == []


# --- DATA024 ----------------------------------------------------------------------------------------------


def test_unique_together_history_and_implied_uniqueness(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL.replace(
                "        ),\n    ]", '        options={"unique_together": {("shop_id", "number")}},\n        ),\n    ]'
            ),
            "0002_unique": migration(
                """
                migrations.AlterUniqueTogether("order", {("shop_id", "number"), ("reference", "email")}),
                migrations.AlterUniqueTogether("order", {("shop_id", "number", "reference")}),
                migrations.AddConstraint("order", models.UniqueConstraint(fields=["number", "shop_id"], name="a")),
                migrations.AddConstraint("order", models.UniqueConstraint(fields=["email"], name="b")),
                migrations.RunSQL("CREATE UNIQUE INDEX CONCURRENTLY x ON shop_order (email)", migrations.RunSQL.noop),
                migrations.RunSQL("ALTER TABLE shop_order ADD CONSTRAINT y UNIQUE USING INDEX x", migrations.RunSQL.noop),
                migrations.RunSQL("ALTER TABLE shop_order ADD CONSTRAINT z UNIQUE (email)", migrations.RunSQL.noop),
                """,
                '[("shop", "0001_initial")]',
            ),
        }
    )
    # Not reported: a tuple that contains the old unique pair, the old unique_together as a
    # constraint, a concurrent index and a constraint made from it.
    text = files["shop/migrations/0002_unique.py"]
    assert scan(tmp_path, files, "DATA024") == [
        ("DATA024", "0002_unique.py", at(text, '("reference", "email")')),
        ("DATA024", "0002_unique.py", at(text, 'fields=["email"]')),
        ("DATA024", "0002_unique.py", at(text, "CONSTRAINT z UNIQUE")),
    ]


def test_unique_together_without_history_is_not_reported(tmp_path):
    files = shop(**{"0005_unique": migration('migrations.AlterUniqueTogether("order", {("a", "b")}),', '[("shop", "0004_x")]')})
    assert scan(tmp_path, files, "DATA024") == []


def test_alter_field_index_is_quiet_when_history_shows_the_index_existed(tmp_path):
    files = shop(
        **{
            "0001_initial": INITIAL.replace('models.CharField(max_length=20)', "models.CharField(max_length=20, unique=True)"),
            "0002_more": migration(
                """
                migrations.AlterField("order", "reference", models.CharField(max_length=40, unique=True)),
                migrations.AlterField("order", "email", models.EmailField(null=True, unique=True)),
                migrations.AlterField("order", "number", models.IntegerField(db_index=True)),
                """,
                '[("shop", "0001_initial")]',
            ),
        }
    )
    text = files["shop/migrations/0002_more.py"]
    assert scan(tmp_path, files, "DATA008", "DATA024") == [
        ("DATA008", "0002_more.py", at(text, "db_index=True")),
        ("DATA024", "0002_more.py", at(text, '"email"')),
    ]


# --- DATA023 ----------------------------------------------------------------------------------------------


def test_live_model_uses(tmp_path):
    head = (
        "import functools\n\nimport shop.models\nfrom django.apps import apps as global_apps\n"
        "from django.db import migrations, models\n\nfrom shop import constants\nfrom shop.models import Order, Status\n\n\n"
    )
    extra = """
    def helper(apps):
        return Order.objects.count()


    def forwards(prefix, apps, schema_editor):
        helper(apps)
        shop.models.Coupon.objects.all().delete()
        global_apps.get_model("shop", "Customer")
        print(constants.LIMIT, models.Q(a=1))


    def backwards(apps, schema_editor):
        Status = apps.get_model("shop", "Status")
        Status.objects.all().delete()
        apps.get_model("shop", "Order")
    """
    files = shop(
        **{
            "0009_data": migration(
                "migrations.RunPython(functools.partial(forwards, 'x'), backwards),",
                '[("shop", "0008_x")]',
                head=head,
                extra=extra,
            )
        }
    )
    text = files["shop/migrations/0009_data.py"]
    assert scan(tmp_path, files, "DATA023") == [
        ("DATA023", "0009_data.py", at(text, "return Order.objects")),  # in a function forwards calls
        ("DATA023", "0009_data.py", at(text, "shop.models.Coupon")),
        ("DATA023", "0009_data.py", at(text, "global_apps.get_model")),  # the global registry
    ]


def test_model_import_outside_run_python_code_is_not_reported(tmp_path):
    head = "from django.db import migrations, models\n\nfrom shop.models import default_code\n\n\n"
    extra = """
    def unrelated():
        return default_code()
    """
    files = shop(
        **{
            "0002_x": migration(
                'migrations.AddField("order", "code", models.CharField(max_length=5, default=default_code)),\n'
                "migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop),",
                '[("shop", "0001_initial")]',
                head=head,
                extra=extra,
            )
        }
    )
    assert scan(tmp_path, files, "DATA023") == []


# --- DATA025 ----------------------------------------------------------------------------------------------


def test_backfill_detection(tmp_path):
    head = "from django.db import migrations, models\n\nfrom shop.data import fill_all\n\n\n"
    files = shop(
        **{
            "0003_mixed": migration(
                """
                migrations.AddField("order", "note", models.TextField(null=True)),
                migrations.RunSQL("CREATE TABLE t (id int REFERENCES shop_order ON DELETE CASCADE)", "DROP TABLE t"),
                migrations.RunSQL(["-- UPDATE nothing", ("INSERT INTO t VALUES (%s)", [1])], migrations.RunSQL.noop),
                migrations.RunPython(fill_all, migrations.RunPython.noop),
                """,
                '[("shop", "0002_x")]',
                head=head,
            ),
            "0004_non_atomic": migration(
                """
                migrations.AddField("order", "flag", models.BooleanField(null=True)),
                migrations.RunSQL("UPDATE shop_order SET flag = true", migrations.RunSQL.noop),
                """,
                '[("shop", "0003_mixed")]',
            ).replace("    dependencies", "    atomic = False\n    dependencies"),
        }
    )
    # The DDL with "ON DELETE" is no backfill; the INSERT is; fill_all lives in another module, so it may write.
    text = files["shop/migrations/0003_mixed.py"]
    assert scan(tmp_path, files, "DATA025") == [
        ("DATA025", "0003_mixed.py", at(text, "INSERT INTO")),
        ("DATA025", "0003_mixed.py", at(text, "fill_all, ")),
    ]


# --- DATA005 / DATA006 precision -------------------------------------------------------------------------------


def test_none_defaults_and_kept_database_defaults(tmp_path):
    head = "from django.db import migrations, models\nfrom django_add_default_value import AddDefaultValue\n\n\n"
    files = shop(
        **{
            "0002_x": migration(
                """
                migrations.AddField("order", "a", models.IntegerField(default=None, db_default=None)),
                migrations.AddField("order", "b", models.IntegerField(default=1)),
                AddDefaultValue(model_name="order", name="b", value=1),
                migrations.AddField("order", "c", models.IntegerField(default=1)),
                """,
                '[("shop", "0001_initial")]',
                head=head,
            )
        }
    )
    text = files["shop/migrations/0002_x.py"]
    assert scan(tmp_path, files, "DATA005", "DATA006") == [
        ("DATA005", "0002_x.py", at(text, '"a"')),
        ("DATA006", "0002_x.py", at(text, '"c"')),
    ]


def test_third_party_field_with_a_django_name_is_not_compared():
    # jsonfield.JSONField stores text: TextField -> jsonfield.fields.JSONField rewrites nothing.
    old, new = field_def_from_source("models.TextField()"), field_def_from_source("jsonfield.fields.JSONField()")
    assert column_change(old, new) is None
    assert column_change(old, field_def_from_source("JSONField()")).kind == "type"
