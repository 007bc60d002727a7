"""The project engine: migrations read against the application code that uses what they change."""

from __future__ import annotations

import textwrap
from pathlib import Path

from helpers import git, make_repo, prodaudit, write

from prodaudit.catalog import builtin_rules_dir, load_rule_file
from prodaudit.checks.schema_changes import ADD_NOT_NULL, DROP, RENAME, schema_changes
from prodaudit.checks.schema_usage import CodeFile, find_usages
from prodaudit.config import Config
from prodaudit.engines.project import ProjectEngine, project_scope
from prodaudit.model import Target


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


DJANGO_DROP = dedent(
    """
    from django.db import migrations, models

    class Migration(migrations.Migration):
        operations = [
            migrations.CreateModel(name="Draft", fields=[("id", models.AutoField(primary_key=True))]),
            migrations.RemoveField(model_name="draft", name="body"),
            migrations.RemoveField(model_name="order", name="note"),
            migrations.RenameField(model_name="order", old_name="total", new_name="total_cents"),
            migrations.AddField(model_name="order", name="region", field=models.CharField(max_length=2, default="eu")),
            migrations.AddField(model_name="order", name="tag", field=models.CharField(max_length=2, db_default="x")),
        ]
    """
)


def test_django_changes_skip_models_created_in_the_same_migration():
    changes = schema_changes("shop/migrations/0002_x.py", DJANGO_DROP)
    assert [(c.action, c.table, c.column, c.new_name, c.app) for c in changes] == [
        (DROP, "order", "note", None, "shop"),
        (RENAME, "order", "total", "total_cents", "shop"),
        (ADD_NOT_NULL, "order", "region", None, "shop"),
    ]
    assert changes[0].span[0] == 7


def test_alembic_changes_read_batch_blocks_and_only_upgrade():
    text = dedent(
        """
        from alembic import op
        import sqlalchemy as sa

        def upgrade():
            op.create_table("tmp_import", sa.Column("id", sa.Integer))
            op.drop_column("tmp_import", "id")
            with op.batch_alter_table("users") as batch_op:
                batch_op.drop_column("nickname")
                batch_op.alter_column("mail", new_column_name="email")
            op.add_column("users", sa.Column("plan", sa.Text(), nullable=False))
            op.add_column("users", sa.Column("tier", sa.Text(), nullable=False, server_default="free"))
            op.rename_table("acct", "accounts")

        def downgrade():
            op.drop_table("accounts")
        """
    )
    changes = schema_changes("alembic/versions/1a_x.py", text)
    assert sorted((c.action, c.table, c.column, c.new_name) for c in changes) == [
        (ADD_NOT_NULL, "users", "plan", None),
        (DROP, "users", "nickname", None),
        (RENAME, "acct", None, "accounts"),
        (RENAME, "users", "mail", "email"),
    ]


def test_sql_changes_ignore_down_sections_and_new_tables():
    text = dedent(
        """
        -- migrate:up
        CREATE TABLE staging (id int);
        ALTER TABLE staging DROP COLUMN id;
        ALTER TABLE "orders" DROP COLUMN legacy, ADD COLUMN region text NOT NULL, ADD COLUMN n int NOT NULL DEFAULT 0;
        ALTER TABLE users RENAME COLUMN mail TO email;
        -- migrate:down
        DROP TABLE orders;
        """
    )
    changes = schema_changes("db/migrations/1.sql", text)
    assert sorted((c.action, c.table, c.column) for c in changes) == [
        (ADD_NOT_NULL, "orders", "region"),
        (DROP, "orders", "legacy"),
        (RENAME, "users", "mail"),
    ]
    assert schema_changes("db/migrations/1.down.sql", "DROP TABLE orders;") == []


def usages(path: str, migration: str, files: dict[str, str]) -> list[str]:
    [change] = [c for c in schema_changes(path, migration) if c.action != ADD_NOT_NULL][:1]
    code = [CodeFile(p, dedent(t), "javascript" if p.endswith(".js") else "python") for p, t in files.items()]
    return [f"{u.path}:{u.line}" for u in find_usages(change, code)]


DROP_NOTE = dedent(
    """
    from django.db import migrations

    class Migration(migrations.Migration):
        operations = [migrations.RemoveField(model_name="order", name="note")]
    """
)


def test_django_usages_are_bound_to_the_model():
    files = {
        "shop/models.py": """
            from django.db import models

            class Order(models.Model):
                note = models.TextField()
            """,
        "shop/forms.py": """
            from django import forms
            from shop.models import Order

            class OrderForm(forms.ModelForm):
                class Meta:
                    model = Order
                    fields = ["note", "total"]
            """,
        "shop/views.py": """
            from .models import Order

            def show(order_id):
                order = Order.objects.only("note").get(pk=order_id)
                return order.note
            """,
        # Same field name, other model, no import of Order: not a use.
        "blog/views.py": """
            from blog.models import Post

            def show(post):
                return Post.objects.filter(note="x"), post.note, {"note": 1}
            """,
    }
    assert usages("shop/migrations/0002_x.py", DROP_NOTE, files) == [
        "shop/forms.py:7",
        "shop/models.py:4",
        "shop/views.py:4",
        "shop/views.py:5",
    ]


def test_table_usages_in_mapped_classes_and_sql_strings():
    migration = "ALTER TABLE users DROP COLUMN nickname;\n"
    files = {
        "app/models.py": """
            class User(Base):
                __tablename__ = "users"
                id = Column(Integer, primary_key=True)
                nickname = Column(String)
            """,
        "app/queries.py": """
            FIND = "SELECT id, nickname FROM users WHERE id = %s"
            TITLE = "users nickname"  # no SQL words: not a query
            OTHER = "SELECT nickname FROM members"
            """,
        "web/api.js": """
            const q = `UPDATE users SET nickname = $1 WHERE id = $2`;
            """,
    }
    assert usages("db/migrations/5.sql", migration, files) == ["app/models.py:4", "app/queries.py:1", "web/api.js:1"]


def test_project_scope_is_the_folder_above_the_app():
    assert project_scope("shop/migrations/0002_x.py") == ""
    assert project_scope("backend/shop/migrations/0002_x.py") == "backend/"
    assert project_scope("db/migrations/1.sql") == ""
    assert project_scope("svc/alembic/versions/1a.py") == "svc/"
    assert project_scope("scripts/tool.py") == ""


def test_code_is_not_listed_when_no_migration_changes_a_table(tmp_path):
    write(tmp_path, {"app/views.py": "x = 1\n", "shop/migrations/0001_initial.py": "from django.db import migrations\n"})

    def refuse():
        raise AssertionError("the code base was listed although no migration drops anything")

    rules = [load_rule_file(p) for p in builtin_rules_dir().glob("data-safety/DATA04[12]-*.yml")]
    assert {r.engine for r in rules} == {"project"} and len(rules) == 2
    targets = [
        Target(p, str(tmp_path / p), "python") for p in ("app/views.py", "shop/migrations/0001_initial.py")
    ]
    result = ProjectEngine(Config(), list_code=refuse).run(rules, targets, tmp_path, 1)
    assert result.findings == () and result.errors == ()


def test_cli_names_both_places_and_diff_mode_gates_the_new_drop(tmp_path):
    root = make_repo(
        tmp_path / "r",
        {
            "shop/__init__.py": "",
            "shop/models.py": "from django.db import models\n\nclass Order(models.Model):\n    note = models.TextField()\n",
            "shop/views.py": "from shop.models import Order\n\ndef notes():\n    return Order.objects.values_list('note')\n",
        },
    )
    git(root, "checkout", "-q", "-b", "feature")
    write(root, {"shop/migrations/0002_remove_order_note.py": DROP_NOTE})
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "drop note")
    run = prodaudit("scan", "--diff-base", "main", "--format", "json", cwd=root)
    assert run.code == 1, run.err
    [finding] = [f for f in run.json["findings"] if f["rule_id"] == "DATA041"]
    assert finding["category"] == "stop-ship" and finding["new"] is True
    assert finding["path"] == "shop/migrations/0002_remove_order_note.py"
    assert "shop/models.py:4" in finding["message"] and "shop/views.py:4" in finding["message"]


def test_suppression_naming_the_expand_step_is_honoured(tmp_path):
    migration = DROP_NOTE.replace(
        "operations = [",
        "operations = [\n        # prodaudit: ignore[DATA041,DATA001] -- contract step of 0001_add_note_v2; views read note_v2\n",
    )
    root = make_repo(
        tmp_path / "r",
        {
            "shop/models.py": "from django.db import models\n\nclass Order(models.Model):\n    note = models.TextField()\n",
            "shop/migrations/0002_remove_order_note.py": migration,
        },
    )
    run = prodaudit("scan", "--format", "json", cwd=root)
    found = {f["rule_id"]: f["status"] for f in run.json["findings"] if f["rule_id"].startswith("DATA")}
    assert found == {"DATA041": "suppressed", "DATA001": "suppressed"}, run.out
    assert run.code == 0


def test_a_model_of_the_same_name_in_another_app_is_another_table():
    # Wagtail moved Query from `search` to `search_promotions`: dropping search's table while
    # search_promotions keeps its own Query model is not a use of the dropped table.
    migration = dedent(
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.RemoveField(model_name="querydailyhits", name="query"),
                migrations.DeleteModel(name="Query"),
                migrations.DeleteModel(name="Filter"),
            ]
        """
    )
    files = {
        "search_promotions/models.py": """
            from django.db import models

            class Query(models.Model):
                query_string = models.CharField(max_length=255)

            class QueryDailyHits(models.Model):
                query = models.ForeignKey(Query, on_delete=models.CASCADE)
            """,
        "search_promotions/views.py": "from search_promotions.models import Query\n",
        # Filter stays as a plain class (no longer a model): its imports are not uses of a table.
        "search/models.py": "class Filter:\n    pass\n",
        "search/views.py": "from .models import Filter\n",
    }
    code = [CodeFile(p, dedent(t), "python") for p, t in files.items()]
    for change in schema_changes("search/migrations/0008_x.py", migration):
        assert find_usages(change, code) == [], change
    # The same drop in the app that owns the model is reported.
    for change in schema_changes("search_promotions/migrations/0003_x.py", migration)[:2]:
        assert find_usages(change, code), change
