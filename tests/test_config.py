from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from prodaudit.config import Config, check_rule_refs, load_config, load_config_text
from prodaudit.errors import UsageError
from prodaudit.model import Category, Confidence, Launch, Phase, Rule, Severity, Strictness


def _error(root: Path, explicit: Path | None = None) -> str:
    with pytest.raises(UsageError) as info:
        load_config(root, explicit)
    message = str(info.value)
    assert "\n" not in message
    return message


def _rule(rule_id: str, name: str) -> Rule:
    return Rule(
        id=rule_id,
        name=name,
        phase=Phase.SECURITY,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="t",
        why="w",
        fix="f",
        engine="semgrep",
        languages=("python",),
    )


def test_no_config_gives_defaults(tmp_path):
    config, source = load_config(tmp_path, None)
    assert source is None
    assert config == Config()
    assert config.launch is Launch.PUBLIC
    assert config.effective_strictness() is Strictness.HIGH
    assert config.max_file_size == 1_000_000
    assert "tests/" in config.test_paths


def test_yaml_config_loads(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text(
        "launch: beta\n"
        "exclude: [docs/]\n"
        "rules:\n  SEC001: {category: fix-soon}\n  jwt-x: {enabled: false}\n"
        "phases:\n  observability: {enabled: false}\n"
        "stop_ship: [SEC002]\n"
        "explain: {enabled: true, provider: anthropic, model: m}\n"
    )
    config, source = load_config(tmp_path, None)
    assert source == ".prodaudit.yml"
    assert config.launch is Launch.BETA
    assert config.effective_strictness() is Strictness.MEDIUM
    assert config.exclude == ("docs/",)
    assert "node_modules/" in config.excludes and "docs/" in config.excludes
    assert config.rules["SEC001"].category is Category.FIX_SOON
    assert config.rules["jwt-x"].enabled is False
    assert config.phases[Phase.OBSERVABILITY].enabled is False
    assert config.stop_ship == ("SEC002",)
    assert config.explain.provider == "anthropic"


def test_unknown_nested_key_names_file_line_path_and_suggestion(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("launch: beta\nrules:\n  SEC001:\n    categroy: stop-ship\n")
    assert _error(tmp_path) == (
        "invalid config .prodaudit.yml:4: unknown key 'rules.SEC001.categroy' (did you mean 'category'?)"
    )


def test_unknown_top_level_key_without_close_match_lists_valid_keys(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("launch: beta\nwhatever: 1\n")
    message = _error(tmp_path)
    assert message.startswith("invalid config .prodaudit.yml:2: unknown key 'whatever' (valid keys: ")
    assert "strictness" in message


def test_bad_value_in_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.prodaudit]\nlaunch = "publc"\n')
    assert _error(tmp_path) == (
        "invalid config pyproject.toml [tool.prodaudit]: key 'launch': "
        "must be one of internal, beta, public, paid (got 'publc')"
    )


def test_bad_phase_key_suggests(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("phases:\n  securty:\n    enabled: false\n")
    message = _error(tmp_path)
    assert message.startswith("invalid config .prodaudit.yml:2: key 'phases.securty': must be one of security,")
    assert message.endswith("(did you mean 'security'?)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("include: src\n", "key 'include': must be a list of strings (got 'src')"),
        ("jobs: 0\n", "key 'jobs': must be greater than or equal to 1 (got 0)"),
        ("max_file_size: big\n", "key 'max_file_size': must be a whole number (got 'big')"),
        ("explain:\n  provider: openia\n", "key 'explain.provider': must be one of openai, anthropic (got 'openia')"),
        ("rules:\n  SEC001:\n    severity: huge\n", "key 'rules.SEC001.severity': must be one of low, medium, high, critical"),
    ],
)
def test_bad_values(tmp_path, text, expected):
    (tmp_path / ".prodaudit.yml").write_text(text)
    assert expected in _error(tmp_path)


def test_pyproject_section_loads(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.prodaudit]\nlaunch = "internal"\nstrictness = "high"\n\n[tool.prodaudit.rules.SEC001]\nenabled = false\n'
    )
    config, source = load_config(tmp_path, None)
    assert source == "pyproject.toml"
    assert config.launch is Launch.INTERNAL
    assert config.effective_strictness() is Strictness.HIGH
    assert config.rules["SEC001"].enabled is False


def test_pyproject_without_section_gives_defaults(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path, None) == (Config(), None)


def test_yaml_file_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.prodaudit]\nlaunch = "internal"\n')
    (tmp_path / ".prodaudit.yaml").write_text("launch: paid\n")
    config, source = load_config(tmp_path, None)
    assert (config.launch, source) == (Launch.PAID, ".prodaudit.yaml")


def test_both_yaml_spellings_is_an_error(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("launch: paid\n")
    (tmp_path / ".prodaudit.yaml").write_text("launch: beta\n")
    assert "keep one" in _error(tmp_path)


def test_explicit_missing_file(tmp_path):
    missing = tmp_path / "nope.yml"
    assert _error(tmp_path, missing) == f"config file not found: {missing}"


def test_explicit_file_outside_root(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / ".prodaudit.yml").write_text("launch: paid\n")
    other = tmp_path / "ci.yml"
    other.write_text("launch: internal\n")
    config, source = load_config(root, other)
    assert (config.launch, source) == (Launch.INTERNAL, str(other))


def test_explicit_toml_without_section(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert _error(tmp_path, tmp_path / "pyproject.toml") == "invalid config pyproject.toml: no [tool.prodaudit] section"


def test_empty_and_comment_only_yaml_give_defaults(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("")
    assert load_config(tmp_path, None) == (Config(), ".prodaudit.yml")
    (tmp_path / ".prodaudit.yml").write_text("# nothing yet\n")
    assert load_config(tmp_path, None)[0] == Config()


def test_yaml_syntax_error_is_one_line_with_line_number(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("launch: beta\nexclude: [a, b\nmax_file_size: 3\n")
    message = _error(tmp_path)
    assert message.startswith("invalid config .prodaudit.yml:3: not valid YAML")


def test_yaml_top_level_must_be_a_mapping(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("- launch\n")
    assert "expected a mapping" in _error(tmp_path)


def test_duplicate_key_is_an_error(tmp_path):
    (tmp_path / ".prodaudit.yml").write_text("launch: paid\nexclude: []\nlaunch: internal\n")
    assert _error(tmp_path) == "invalid config .prodaudit.yml:3: duplicate key 'launch'"


def test_toml_syntax_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.prodaudit\n")
    assert _error(tmp_path).startswith("invalid config pyproject.toml: not valid TOML")


def test_effective_strictness_follows_launch_unless_set():
    assert Config(launch=Launch.INTERNAL).effective_strictness() is Strictness.LOW
    assert Config(launch=Launch.BETA).effective_strictness() is Strictness.MEDIUM
    assert Config(launch=Launch.PAID).effective_strictness() is Strictness.HIGH
    assert Config(launch=Launch.INTERNAL, strictness=Strictness.HIGH).effective_strictness() is Strictness.HIGH


def test_config_is_frozen():
    config = Config()
    with pytest.raises(pydantic.ValidationError):
        config.launch = Launch.BETA  # type: ignore[misc]
    assert isinstance(config.exclude, tuple)


def test_with_overrides_validates_and_keeps_the_rest():
    config = load_config_text("exclude: [docs/]\n", ".prodaudit.yml")
    changed = config.with_overrides(launch="internal", strictness=None)
    assert changed.launch is Launch.INTERNAL and changed.exclude == ("docs/",)
    assert changed.effective_strictness() is Strictness.LOW
    with pytest.raises(pydantic.ValidationError):
        config.with_overrides(launch="publc")


def test_load_config_text_from_toml():
    config = load_config_text('[tool.prodaudit]\nlaunch = "beta"\n', "pyproject.toml")
    assert config.launch is Launch.BETA


def test_check_rule_refs_accepts_ids_and_names():
    rules = [_rule("SEC001", "jwt-signature-not-verified"), _rule("SEC002", "sql-injection")]
    config = Config.model_validate({"rules": {"SEC001": {"enabled": False}, "sql-injection": {}}, "stop_ship": ["SEC002"]})
    check_rule_refs(config, rules)
    assert config.override_for(rules[1]) == config.rules["sql-injection"]
    assert config.is_stop_ship(rules[1]) and not config.is_stop_ship(rules[0])


def test_check_rule_refs_unknown_rule_suggests():
    rules = [_rule("SEC001", "jwt-signature-not-verified")]
    config = Config.model_validate({"rules": {"SEC01": {"enabled": False}}})
    with pytest.raises(UsageError) as info:
        check_rule_refs(config, rules, source=".prodaudit.yml")
    assert str(info.value) == "invalid config .prodaudit.yml: unknown rule 'SEC01' in rules (did you mean 'SEC001'?)"
    config = Config.model_validate({"stop_ship": ["jwt-signature-not-verifed"]})
    with pytest.raises(UsageError, match="in stop_ship \\(did you mean 'jwt-signature-not-verified'\\?\\)"):
        check_rule_refs(config, rules)


def test_check_rule_refs_rejects_id_and_name_of_the_same_rule():
    rules = [_rule("SEC001", "jwt-signature-not-verified")]
    config = Config.model_validate({"rules": {"SEC001": {}, "jwt-signature-not-verified": {"enabled": False}}})
    with pytest.raises(UsageError, match="name the same rule SEC001"):
        check_rule_refs(config, rules)
