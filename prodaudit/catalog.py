"""Load and validate the rule catalog: `rules/<phase>/*.yml`, one rule per file (DESIGN §2.1)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from prodaudit import yamlutil
from prodaudit.errors import UsageError
from prodaudit.model import Confidence, Example, Phase, Rule, Severity

LANGUAGES = ("python", "javascript", "typescript", "dockerfile", "yaml", "sql", "generic", "json")
# The file an example is written to when it names none; the language decides the engine's parser.
DEFAULT_EXAMPLE_PATH = {
    "python": "example.py",
    "javascript": "example.js",
    "typescript": "example.ts",
    "dockerfile": "Dockerfile",
    "yaml": "example.yml",
    "sql": "example.sql",
    "generic": "example.txt",
    "json": "example.json",
}
# Keys prodaudit writes into the generated semgrep rule itself.
_SEMGREP_RESERVED = {"id", "languages", "severity", "metadata"}


class _ExampleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bad: str | None = None
    good: str | None = None
    path: str | None = None
    # Other files of the example's project (path -> text), for rules that read more than one file.
    files: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> _ExampleSpec:
        if (self.bad is None) == (self.good is None):
            raise ValueError("an example has exactly one of 'bad' or 'good'")
        return self


class _Paths(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class RuleSpec(BaseModel):
    """The schema of one rule file. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    phase: Phase
    severity: Severity
    confidence: Confidence
    title: str = Field(min_length=5)
    why: str = Field(min_length=20)
    fix: str = Field(min_length=10)
    cwe: list[str] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    languages: list[Literal[LANGUAGES]]  # type: ignore[valid-type]
    engine: Literal["semgrep", "cst", "bandit", "config", "project", "builtin"]
    semgrep: dict | None = None
    check: str | None = None
    bandit: str | None = None
    prefilter: list[str] = Field(default_factory=list)
    paths: _Paths = Field(default_factory=_Paths)
    tests: bool = True  # False: the rule does not report in test code
    examples: list[_ExampleSpec]

    @field_validator("name")
    @classmethod
    def _kebab(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v):
            raise ValueError("name must be kebab-case, e.g. unverified-webhook")
        return v

    @field_validator("cwe")
    @classmethod
    def _cwe(cls, v: list[str]) -> list[str]:
        for item in v:
            if not re.fullmatch(r"CWE-\d+", item):
                raise ValueError(f"'{item}' is not a CWE id like CWE-89")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> RuleSpec:
        prefix = self.phase.prefix
        if not re.fullmatch(rf"{prefix}\d{{3}}", self.id):
            raise ValueError(f"id '{self.id}' must be {prefix} and three digits for phase {self.phase.value}")
        body = {"semgrep": self.semgrep, "cst": self.check, "config": self.check, "project": self.check, "bandit": self.bandit}
        if self.engine in body and not body[self.engine]:
            key = "check" if self.engine in ("cst", "config", "project") else self.engine
            raise ValueError(f"engine '{self.engine}' needs a '{key}' entry")
        if self.semgrep:
            reserved = _SEMGREP_RESERVED & set(self.semgrep)
            if reserved:
                raise ValueError(f"semgrep body must not set {sorted(reserved)}; prodaudit sets them")
        if self.bandit and not re.fullmatch(r"B\d{3}", self.bandit):
            raise ValueError("bandit must be a Bandit test id like B602")
        if self.engine != "builtin":
            kinds = {"bad" if e.bad is not None else "good" for e in self.examples}
            if kinds != {"bad", "good"}:
                raise ValueError("examples need at least one 'bad' and one 'good' entry")
        return self

    def to_rule(self, source: str) -> Rule:
        default_path = DEFAULT_EXAMPLE_PATH[self.languages[0]]
        examples = tuple(
            Example(
                kind="bad" if e.bad is not None else "good",
                code=e.bad if e.bad is not None else e.good or "",
                path=e.path or default_path,
                files=tuple(sorted(e.files.items())),
            )
            for e in self.examples
        )
        return Rule(
            id=self.id,
            name=self.name,
            phase=self.phase,
            severity=self.severity,
            confidence=self.confidence,
            title=self.title.strip(),
            why=self.why.strip(),
            fix=self.fix.strip(),
            engine=self.engine,
            languages=tuple(self.languages),
            cwe=tuple(self.cwe),
            references=tuple(self.references),
            examples=examples,
            include=tuple(self.paths.include),
            exclude=tuple(self.paths.exclude),
            applies_to_tests=self.tests,
            semgrep=self.semgrep,
            check=self.check,
            bandit=self.bandit,
            prefilter=tuple(self.prefilter),
            source=source,
        )


def builtin_rules_dir() -> Path:
    """The shipped rule packs: inside the wheel (`prodaudit/_rules`) or the source checkout (`rules/`).

    `PRODAUDIT_RULES_DIR` points at another catalog instead (for rule authors and tests)."""
    override = os.environ.get("PRODAUDIT_RULES_DIR")
    if override:
        return Path(override)
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def load_rule_file(path: Path) -> Rule:
    text = path.read_text(encoding="utf-8")
    try:
        data = yamlutil.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UsageError(f"invalid rule file {where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise UsageError(f"invalid rule file {path}: expected a mapping of rule keys")
    try:
        spec = RuleSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = yamlutil.line_of(text, loc)
        where = f"{path}:{line}" if line else str(path)
        raise UsageError(
            f"invalid rule file {where}: key '{yamlutil.format_loc(loc)}': {err['msg']}"
        ) from None
    if path.parent.name != spec.phase.value:
        raise UsageError(f"invalid rule file {path}: phase '{spec.phase.value}' but folder '{path.parent.name}'")
    return spec.to_rule(source=str(path))


def load_catalog(rules_dir: Path | None = None) -> tuple[Rule, ...]:
    """Every rule under `rules_dir`, sorted by id. Any invalid file stops the load (exit 2)."""
    root = rules_dir or builtin_rules_dir()
    if not root.is_dir():
        raise UsageError(f"rule directory not found: {root}")
    rules: dict[str, Rule] = {}
    names: dict[str, str] = {}
    for path in sorted(root.glob("*/*.yml")):
        rule = load_rule_file(path)
        if rule.id in rules:
            raise UsageError(f"invalid rule file {path}: id {rule.id} is already used by {rules[rule.id].source}")
        if rule.name in names:
            raise UsageError(f"invalid rule file {path}: name {rule.name} is already used by {names[rule.name]}")
        rules[rule.id] = rule
        names[rule.name] = rule.id
    return tuple(sorted(rules.values(), key=lambda r: r.id))
