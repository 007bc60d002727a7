import shutil
from pathlib import Path

import pytest

from prodaudit.catalog import builtin_rules_dir, load_catalog
from prodaudit.errors import UsageError
from prodaudit.model import Phase

SAMPLE = builtin_rules_dir() / "security" / "SEC001-jwt-signature-not-verified.yml"


def _catalog_with(tmp_path: Path, text: str, folder: str = "security", name: str = "SEC999-x.yml") -> Path:
    (tmp_path / folder).mkdir(parents=True)
    (tmp_path / folder / name).write_text(text)
    return tmp_path


def test_builtin_catalog_loads_every_phase():
    rules = load_catalog()
    assert {r.phase for r in rules} == set(Phase)
    assert len({r.id for r in rules}) == len(rules)


def test_rule_files_are_named_after_id_and_name():
    for rule in load_catalog():
        assert Path(rule.source).name == f"{rule.id}-{rule.name}.yml"


def test_bad_field_points_into_the_file(tmp_path):
    text = SAMPLE.read_text().replace("severity: critical", "severity: severe")
    root = _catalog_with(tmp_path, text)
    with pytest.raises(UsageError) as err:
        load_catalog(root)
    message = str(err.value)
    assert "SEC999-x.yml:4" in message and "key 'severity'" in message and "\n" not in message


def test_unknown_key_is_rejected(tmp_path):
    root = _catalog_with(tmp_path, SAMPLE.read_text() + "colour: red\n")
    with pytest.raises(UsageError, match="key 'colour'"):
        load_catalog(root)


def test_id_must_match_phase_and_folder(tmp_path):
    root = _catalog_with(tmp_path, SAMPLE.read_text(), folder="reliability")
    with pytest.raises(UsageError, match="phase 'security' but folder 'reliability'"):
        load_catalog(root)


def test_examples_need_bad_and_good(tmp_path):
    text = SAMPLE.read_text()
    text = text[: text.index("  - good:")]
    root = _catalog_with(tmp_path, text)
    with pytest.raises(UsageError, match="at least one 'bad' and one 'good'"):
        load_catalog(root)


def test_duplicate_ids_rejected(tmp_path):
    (tmp_path / "security").mkdir()
    shutil.copy(SAMPLE, tmp_path / "security" / "a.yml")
    shutil.copy(SAMPLE, tmp_path / "security" / "b.yml")
    with pytest.raises(UsageError, match="already used"):
        load_catalog(tmp_path)


def test_invalid_yaml_gives_line(tmp_path):
    root = _catalog_with(tmp_path, "id: SEC999\nname: [unclosed\n")
    with pytest.raises(UsageError, match=r"SEC999-x.yml:\d+: not valid YAML"):
        load_catalog(root)
