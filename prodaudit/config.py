"""The project's settings: `.prodaudit.yml` or `[tool.prodaudit]` in pyproject.toml.

Strict on purpose: a misspelt key in a CI gate's config would otherwise silently do nothing, so
unknown keys and bad values are one-line usage errors that name the file, the key path and a fix.
"""

from __future__ import annotations

import difflib
import sys
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from prodaudit import yamlutil
from prodaudit.errors import UsageError
from prodaudit.model import DEFAULT_STRICTNESS, Category, Launch, Phase, Rule, Severity, Strictness

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

YAML_NAMES = (".prodaudit.yml", ".prodaudit.yaml")

# Folders and files nobody wants gated: dependencies, build output, caches. Config `exclude` adds to these.
DEFAULT_EXCLUDES = (
    ".git/",
    "node_modules/",
    "vendor/",
    "third_party/",
    ".venv/",
    "venv/",
    "site-packages/",
    "__pycache__/",
    "build/",
    "dist/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".next/",
    "coverage/",
    "*.egg-info/",
    "*.min.js",
)

DEFAULT_TEST_PATHS = (
    "tests/",
    "test/",
    "__tests__/",
    "**/test_*.py",
    "**/*_test.py",
    "**/tests.py",
    "**/conftest.py",
    "**/*.test.js",
    "**/*.test.jsx",
    "**/*.test.mjs",
    "**/*.test.ts",
    "**/*.test.tsx",
    "**/*.spec.js",
    "**/*.spec.jsx",
    "**/*.spec.mjs",
    "**/*.spec.ts",
    "**/*.spec.tsx",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleOverride(_Strict):
    enabled: bool = True
    category: Category | None = None
    severity: Severity | None = None


class PhaseOverride(_Strict):
    enabled: bool = True
    category: Category | None = None


class ExplainConfig(_Strict):
    """The optional LLM pass. Stored only; the explain package reads it."""

    enabled: bool = False
    provider: Literal["openai", "anthropic"] | None = None
    model: str | None = None
    base_url: str | None = None
    max_findings: StrictInt = Field(default=20, ge=0)


class Config(_Strict):
    launch: Launch = Launch.PUBLIC
    strictness: Strictness | None = None  # None: the default for the launch type
    include: tuple[str, ...] = ()  # empty: everything
    exclude: tuple[str, ...] = ()  # added to DEFAULT_EXCLUDES
    max_file_size: StrictInt = Field(default=1_000_000, gt=0)
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS  # replaces the defaults when set
    rules: dict[str, RuleOverride] = Field(default_factory=dict)  # keyed by rule id or name
    phases: dict[Phase, PhaseOverride] = Field(default_factory=dict)
    stop_ship: tuple[str, ...] = ()  # rule ids/names that are always Stop-Ship
    baseline: str | None = None
    jobs: StrictInt | None = Field(default=None, ge=1)
    semgrep_timeout: StrictInt = Field(default=30, ge=1)  # seconds per file
    scan_timeout: StrictInt = Field(default=1800, ge=1)  # seconds for one engine run
    explain: ExplainConfig = Field(default_factory=ExplainConfig)

    def effective_strictness(self) -> Strictness:
        return self.strictness or DEFAULT_STRICTNESS[self.launch]

    @property
    def excludes(self) -> tuple[str, ...]:
        return DEFAULT_EXCLUDES + self.exclude

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with command-line values applied (validated, unlike model_copy)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return Config.model_validate(data)

    def override_for(self, rule: Rule) -> RuleOverride | None:
        return self.rules.get(rule.id) or self.rules.get(rule.name)

    def is_stop_ship(self, rule: Rule) -> bool:
        return rule.id in self.stop_ship or rule.name in self.stop_ship


# ---------------------------------------------------------------------------------------------
# Loading


def load_config(root: Path, explicit: Path | None = None) -> tuple[Config, str | None]:
    """The config and the file it came from (POSIX relative to root when inside it), or defaults."""
    if explicit is not None:
        path = Path(explicit)
        if not path.exists():
            raise UsageError(f"config file not found: {explicit}")
        if not path.is_file():
            raise UsageError(f"config file is not a file: {explicit}")
        name = _display(root, path)
        if path.suffix == ".toml":
            table = _pyproject_table(path, name)
            if table is None:
                raise UsageError(f"invalid config {name}: no [tool.prodaudit] section")
            return _validate(table, f"{name} [tool.prodaudit]", None), name
        return _load_yaml(path, name), name

    found = [root / n for n in YAML_NAMES if (root / n).is_file()]
    if len(found) > 1:
        raise UsageError(f"both {YAML_NAMES[0]} and {YAML_NAMES[1]} exist in {root}; keep one")
    if found:
        name = _display(root, found[0])
        return _load_yaml(found[0], name), name
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        name = _display(root, pyproject)
        table = _pyproject_table(pyproject, name)
        if table is not None:
            return _validate(table, f"{name} [tool.prodaudit]", None), name
    return Config(), None


def load_config_text(text: str, name: str) -> Config:
    """Parse config text read from elsewhere (e.g. `git show BASE:.prodaudit.yml`)."""
    if name.endswith(".toml"):
        table = _toml_table(text, name)
        return _validate(table or {}, f"{name} [tool.prodaudit]", None)
    return _parse_yaml(text, name)


def _display(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"invalid config {name}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read config {name}: {exc.strerror or exc}") from None


def _load_yaml(path: Path, name: str) -> Config:
    return _parse_yaml(_read(path, name), name)


def _parse_yaml(text: str, name: str) -> Config:
    try:
        data = yamlutil.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"invalid config {where}: not valid YAML ({problem})") from None
    if data is None:  # an empty file (or only comments) means defaults
        return Config()
    if not isinstance(data, dict):
        raise UsageError(f"invalid config {name}: expected a mapping of settings, got {type(data).__name__}")
    _reject_duplicate_keys(text, name)
    return _validate(data, name, text)


def _reject_duplicate_keys(text: str, name: str) -> None:
    """PyYAML keeps the last of two equal keys; in a gate's config the first one silently vanishing is a bug."""
    try:
        node = yaml.compose(text, Loader=yamlutil._Loader)
    except yaml.YAMLError:
        return
    stack = [(node, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in node.value:
                key = str(k.value)
                path = f"{where}.{key}" if where else key
                if key in seen:
                    raise UsageError(f"invalid config {name}:{k.start_mark.line + 1}: duplicate key '{path}'")
                seen.add(key)
                stack.append((v, path))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node.value))


def _pyproject_table(path: Path, name: str) -> dict | None:
    return _toml_table(_read(path, name), name)


def _toml_table(text: str, name: str) -> dict | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"invalid config {name}: not valid TOML ({exc})") from None
    tool = data.get("tool")
    if not isinstance(tool, dict) or "prodaudit" not in tool:
        return None
    table = tool["prodaudit"]
    if not isinstance(table, dict):
        raise UsageError(f"invalid config {name}: [tool.prodaudit] must be a table")
    return table


def _validate(data: dict, name: str, yaml_text: str | None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if p not in ("[key]", "[keys]"))
        where = name
        if yaml_text is not None:
            line = yamlutil.line_of(yaml_text, loc)
            if line:
                where = f"{name}:{line}"
        raise UsageError(f"invalid config {where}: {_describe(err, loc)}") from None


def _describe(err: dict, loc: tuple) -> str:
    path = yamlutil.format_loc(loc)
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        allowed = _keys_at(loc[:-1])
        return f"unknown key '{path}'{_suggest(str(loc[-1]), allowed, list_all=True)}"
    if kind in ("enum", "literal_error"):
        choices = _choices(err["ctx"]["expected"])
        hint = _suggest(str(got), choices) if err["loc"][-1] in ("[key]", "[keys]") else ""
        return f"key '{path}': must be one of {', '.join(choices)} (got {got!r}){hint}"
    friendly = {
        "tuple_type": "must be a list of strings",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "model_attributes_type": "must be a mapping",
        "string_type": "must be a string",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
    }
    if kind in friendly:
        return f"key '{path}': {friendly[kind]} (got {got!r})"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:] if msg else msg
    return f"key '{path}': {msg.replace('input should be', 'must be')} (got {got!r})"


def _choices(expected: str) -> list[str]:
    # pydantic's "'a', 'b' or 'c'" -> [a, b, c]
    return [c.strip().strip("'\"") for c in expected.replace(" or ", ", ").split(",") if c.strip()]


def _suggest(word: str, options: Iterable[str], list_all: bool = False) -> str:
    options = sorted(options)
    close = difflib.get_close_matches(word.lower(), [o.lower() for o in options], n=1, cutoff=0.6)
    if close:
        original = next(o for o in options if o.lower() == close[0])
        return f" (did you mean '{original}'?)"
    if list_all and options:
        return f" (valid keys: {', '.join(options)})"
    return ""


def _keys_at(loc: tuple) -> list[str]:
    """The field names allowed at a key path, walking the models' annotations."""
    model: Any = Config
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            model = _unwrap(field.annotation)
        elif typing.get_origin(model) is dict:
            model = _unwrap(typing.get_args(model)[1])
        else:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


# ---------------------------------------------------------------------------------------------
# Cross-checks against the catalog


def check_rule_refs(config: Config, rules: Iterable[Rule], source: str | None = None) -> None:
    """Every rule named in `rules:` or `stop_ship:` must exist (by id or name), and once."""
    rules = tuple(rules)
    by_key = {r.id: r for r in rules} | {r.name: r for r in rules}
    where = f"invalid config {source}" if source else "invalid config"
    for section, keys in (("rules", tuple(config.rules)), ("stop_ship", config.stop_ship)):
        seen: dict[str, str] = {}
        for key in keys:
            rule = by_key.get(key)
            if rule is None:
                raise UsageError(f"{where}: unknown rule '{key}' in {section}{_suggest(key, by_key)}")
            if rule.id in seen and section == "rules":
                raise UsageError(
                    f"{where}: '{seen[rule.id]}' and '{key}' in {section} name the same rule {rule.id}; keep one"
                )
            seen[rule.id] = key
