"""The LibCST engine with real LibCST: one parse per file, prefilter, skips, crashes, cache, pool."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst
import pytest
from helpers import write
from libcst.metadata import QualifiedNameProvider

from prodaudit.checks import CHECKS, Check
from prodaudit.engines.cst import CstEngine, validate_check_names
from prodaudit.errors import UsageError
from prodaudit.model import Confidence, Phase, Rule, Severity, Target

MIGRATION = textwrap.dedent(
    """\
    from django.db import migrations


    def forwards(apps, schema_editor):
        pass


    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [
            migrations.RemoveField(model_name="order", name="legacy"),
            migrations.RenameField("order", "total", "amount"),
            migrations.RunPython(forwards),
        ]
    """
)


def make_rule(rule_id: str, check: str, prefilter: tuple[str, ...] = (), include: tuple[str, ...] = ()) -> Rule:
    return Rule(
        id=rule_id,
        name=rule_id.lower(),
        phase=Phase.DATA_SAFETY,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="a test rule",
        why="why it matters in production",
        fix="what to do",
        engine="cst",
        languages=("python",),
        check=check,
        prefilter=prefilter,
        include=include,
        source="rules/data-safety/test.yml",
    )


MIGRATION_RULES = [
    make_rule("DATA901", "migrations.drop_data", ("RemoveField",), ("migrations/*.py",)),
    make_rule("DATA902", "migrations.rename", ("RenameField",), ("migrations/*.py",)),
    make_rule("DATA903", "migrations.run_python_without_reverse", ("RunPython",), ("migrations/*.py",)),
]


def write_targets(root: Path, files: dict[str, str | bytes]) -> list[Target]:
    write(root, files)
    return [Target(rel, str(root / rel), "python") for rel in files]


@pytest.fixture
def parse_count(monkeypatch):
    """Counts real LibCST parses (the real parser still runs)."""
    calls = []
    real = libcst.parse_module

    def counting(source, *args, **kwargs):
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(libcst, "parse_module", counting)
    return calls


def test_several_checks_on_one_file_parse_it_once(tmp_path, parse_count):
    targets = write_targets(tmp_path, {"shop/migrations/0002_x.py": MIGRATION})
    engine = CstEngine()
    result = engine.run(MIGRATION_RULES, targets, tmp_path, jobs=1)

    assert len(parse_count) == 1
    assert [(f.rule_id, f.line) for f in result.findings] == [("DATA901", 11), ("DATA902", 12), ("DATA903", 13)]
    assert result.errors == () and result.skipped == ()
    assert engine.stats.parsed == 1


def test_report_position_is_one_based_with_exclusive_end(tmp_path):
    targets = write_targets(tmp_path, {"shop/migrations/0002_x.py": MIGRATION})
    result = CstEngine().run(MIGRATION_RULES[:1], targets, tmp_path, jobs=1)
    (finding,) = result.findings
    # `        migrations.RemoveField(model_name="order", name="legacy"),` starts at column 9.
    assert (finding.line, finding.column, finding.end_line) == (11, 9, 11)
    assert finding.end_column == 9 + len('migrations.RemoveField(model_name="order", name="legacy")')
    assert finding.engine == "cst" and "order.legacy" in finding.message


def test_prefilter_and_paths_keep_files_from_being_parsed(tmp_path, parse_count):
    targets = write_targets(
        tmp_path,
        {
            "shop/migrations/0003_y.py": "from django.db import migrations\n",  # no prefilter string
            "shop/models.py": MIGRATION,  # outside migrations/
        },
    )
    engine = CstEngine()
    result = engine.run(MIGRATION_RULES, targets, tmp_path, jobs=1)
    assert result.findings == ()
    assert parse_count == []
    assert engine.stats.python_files == 2 and engine.stats.candidates == 0


def test_unparseable_file_is_skipped_with_a_one_line_reason(tmp_path):
    targets = write_targets(tmp_path, {"shop/migrations/0004_broken.py": "RemoveField = 1\ndef broken(:\n    pass\n"})
    result = CstEngine().run(MIGRATION_RULES, targets, tmp_path, jobs=1)
    (skip,) = result.skipped
    assert skip.path == "shop/migrations/0004_broken.py"
    assert skip.reason == "unparseable" and skip.engine is None
    assert skip.detail.startswith("near line ") and "expected" in skip.detail and "\n" not in skip.detail
    assert result.findings == () and result.errors == ()


def test_file_that_is_not_utf8_is_skipped(tmp_path):
    targets = write_targets(tmp_path, {"shop/migrations/0005_latin.py": "# RemoveField caf\xe9\n".encode("latin-1")})
    result = CstEngine().run(MIGRATION_RULES, targets, tmp_path, jobs=1)
    assert [(s.path, s.reason) for s in result.skipped] == [("shop/migrations/0005_latin.py", "not-utf8")]


class CrashingCheck(Check):
    name = "test.crash"

    def visit_Call(self, node: libcst.Call) -> None:
        raise ValueError("boom")


def test_a_crashing_check_is_an_engine_error_not_a_silent_pass(tmp_path):
    targets = write_targets(
        tmp_path,
        {"shop/migrations/0002_x.py": MIGRATION, "shop/migrations/0006_z.py": "x = 1\n"},
    )
    rules = [*MIGRATION_RULES, make_rule("DATA909", "test.crash", ("RemoveField",))]
    engine = CstEngine(checks={**CHECKS, "test.crash": CrashingCheck})
    result = engine.run(rules, targets, tmp_path, jobs=1)
    (error,) = result.errors
    assert error.engine == "cst" and error.path == "shop/migrations/0002_x.py"
    assert "test.crash" in error.message and "ValueError: boom" in error.message and "line" in error.message


def test_cache_hit_returns_same_findings_without_parsing(tmp_path, parse_count):
    root = tmp_path / "repo"
    targets = write_targets(root, {"shop/migrations/0002_x.py": MIGRATION})
    cache = tmp_path / "cache"

    first = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    assert len(parse_count) == 1
    again = CstEngine(cache_dir=cache)
    second = again.run(MIGRATION_RULES, targets, root, jobs=1)
    assert len(parse_count) == 1
    assert again.stats.cache_hits == 1
    assert second == first and len(first.findings) == 3

    # Another set of checks is another key; so is changed content.
    CstEngine(cache_dir=cache).run(MIGRATION_RULES[:1], targets, root, jobs=1)
    assert len(parse_count) == 2
    write_targets(root, {"shop/migrations/0002_x.py": MIGRATION.replace("legacy", "old")})
    changed = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    assert len(parse_count) == 3
    assert "order.old" in changed.findings[0].message
    assert not list(cache.rglob(".tmp-*"))  # temp files were renamed into place


def test_damaged_cache_entry_is_scanned_again(tmp_path, parse_count):
    root = tmp_path / "repo"
    targets = write_targets(root, {"shop/migrations/0002_x.py": MIGRATION})
    cache = tmp_path / "cache"
    first = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    for entry in cache.rglob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    second = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    assert len(parse_count) == 2 and second == first


def test_unparseable_result_is_cached_too(tmp_path, parse_count):
    root = tmp_path / "repo"
    targets = write_targets(root, {"shop/migrations/0004_broken.py": "RemoveField = (\n"})
    cache = tmp_path / "cache"
    first = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    second = CstEngine(cache_dir=cache).run(MIGRATION_RULES, targets, root, jobs=1)
    assert len(parse_count) == 1
    assert first.skipped == second.skipped and first.skipped[0].reason == "unparseable"


def test_process_pool_gives_the_same_result_as_serial(tmp_path):
    files = {f"app{i}/migrations/0002_x.py": MIGRATION for i in range(6)}
    files["app9/migrations/0003_broken.py"] = "RemoveField = (\n"
    targets = write_targets(tmp_path, files)
    serial = CstEngine().run(MIGRATION_RULES, targets, tmp_path, jobs=1)
    pooled_engine = CstEngine(parallel_min_bytes=0)
    pooled = pooled_engine.run(MIGRATION_RULES, targets, tmp_path, jobs=2)
    assert pooled_engine.stats.workers == 2
    assert pooled == serial
    assert len(serial.findings) == 18 and len(serial.skipped) == 1


def test_only_cst_rules_with_known_checks_run(tmp_path, parse_count):
    targets = write_targets(tmp_path, {"shop/migrations/0002_x.py": MIGRATION})
    semgrep_rule = Rule(**{**make_rule("DATA908", "migrations.drop_data").__dict__, "engine": "semgrep", "check": None})
    result = CstEngine().run([semgrep_rule], targets, tmp_path, jobs=1)
    assert result == type(result)() and parse_count == []


def test_django_names_are_resolved_through_imports(tmp_path):
    source = textwrap.dedent(
        """\
        from django.db import migrations
        from django.db.migrations.operations import RemoveField as Drop
        from myproject.ops import RemoveField


        class Migration(migrations.Migration):
            operations = [
                Drop("order", "a"),
                RemoveField("order", "b"),
            ]


        class NotAMigration:
            operations = [Drop("order", "c")]
        """
    )
    targets = write_targets(tmp_path, {"shop/migrations/0007_alias.py": source})
    result = CstEngine().run(MIGRATION_RULES[:1], targets, tmp_path, jobs=1)
    assert [f.line for f in result.findings] == [8]


def test_unknown_check_name_is_a_rule_file_error():
    with pytest.raises(UsageError) as err:
        validate_check_names([make_rule("DATA907", "migrations.no_such_check")])
    message = str(err.value)
    assert message.startswith("invalid rule file rules/data-safety/test.yml")
    assert "key 'check': unknown check 'migrations.no_such_check'" in message
    assert "migrations.drop_data" in message  # the known ones are listed
    validate_check_names(MIGRATION_RULES)  # known names pass


class OsSystemCheck(Check):
    """A check that needs LibCST's own metadata (qualified names) next to the lazy positions."""

    name = "test.os_system"
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)

    def visit_Call(self, node: libcst.Call) -> None:
        names = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set())}
        if "os.system" in names:
            self.report(node)


def test_checks_can_declare_libcst_metadata_providers(tmp_path):
    source = "from os import system as run\nimport os\n\nrun('a')\nos.system('b')\nsystem('c')\n"
    targets = write_targets(tmp_path, {"app/tasks.py": source})
    engine = CstEngine(checks={"test.os_system": OsSystemCheck})
    result = engine.run([make_rule("DATA906", "test.os_system")], targets, tmp_path, jobs=1)
    assert [(f.line, f.column, f.message) for f in result.findings] == [(4, 1, ""), (5, 1, "")]
