"""`prodaudit init`: ask the launch questions, then write a commented `.prodaudit.yml`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from prodaudit.config import DEFAULT_TEST_PATHS, YAML_NAMES, Config, load_config_text
from prodaudit.errors import UsageError
from prodaudit.model import DEFAULT_STRICTNESS, Launch, Strictness

CONFIG_NAME = YAML_NAMES[0]

LAUNCH_HELP = {
    Launch.INTERNAL: "internal tool, used by your own team",
    Launch.BETA: "beta, real users who know it may break",
    Launch.PUBLIC: "public launch, anyone can use it",
    Launch.PAID: "paid product, customers' money and data are on the line",
}
# What a production failure would cost -> the lowest strictness that cost deserves.
COSTS = {
    "annoyance": Strictness.LOW,
    "lost revenue": Strictness.MEDIUM,
    "lost or leaked customer data": Strictness.HIGH,
}
TOLERANCES = ("low", "medium", "high")
_LEVELS = (Strictness.LOW, Strictness.MEDIUM, Strictness.HIGH)


def choose_strictness(launch: Launch, cost: str | None, tolerance: str | None) -> Strictness:
    """Start from the launch default; low risk tolerance tightens, high loosens; cost sets a floor."""
    level = _LEVELS.index(DEFAULT_STRICTNESS[launch])
    if tolerance == "low":
        level = min(level + 1, 2)
    elif tolerance == "high":
        level = max(level - 1, 0)
    if cost is not None:
        level = max(level, _LEVELS.index(COSTS[cost]))
    return _LEVELS[level]


def run_init(
    root: Path,
    answers: dict[str, Any] | None = None,
    force: bool = False,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Write `root/.prodaudit.yml`. `answers` may hold launch, strictness, cost, tolerance and yes (bool)."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    answers = dict(answers or {})
    if not root.is_dir():
        raise UsageError(f"path not found: {root}")
    existing = [root / n for n in YAML_NAMES if (root / n).exists()]
    if existing and not force:
        raise UsageError(f"{existing[0].name} already exists in {root}; use --force to overwrite it")
    path = existing[0] if existing else root / CONFIG_NAME  # --force rewrites the file in place

    launch = _parse(answers.get("launch"), Launch, "--launch")
    strictness = _parse(answers.get("strictness"), Strictness, "--strictness")
    cost, tolerance = answers.get("cost"), answers.get("tolerance")
    if cost is not None and cost not in COSTS:
        raise UsageError(f"unknown cost {cost!r}; one of: {', '.join(COSTS)}")
    if tolerance is not None and tolerance not in TOLERANCES:
        raise UsageError(f"unknown risk tolerance {tolerance!r}; one of: {', '.join(TOLERANCES)}")

    interactive = _is_tty(stdin) and not answers.get("yes")
    if interactive:
        ask = _Asker(stdin, stdout)
        if launch is None:
            launch = ask.choose(
                "What kind of launch is this?",
                [(lc.value, LAUNCH_HELP[lc]) for lc in Launch],
                default=Launch.PUBLIC.value,
                convert=Launch,
            )
        if strictness is None:
            if cost is None:
                cost = ask.choose(
                    "If this code fails in production, what would it cost?",
                    [(c, "") for c in COSTS],
                    default="lost revenue",
                )
            if tolerance is None:
                tolerance = ask.choose(
                    "How much risk are you willing to ship with?",
                    [(t, "") for t in TOLERANCES],
                    default="medium",
                )
    elif launch is None and strictness is None and cost is None and tolerance is None:
        reason = "--yes given" if answers.get("yes") else "no terminal to ask on"
        print(
            f"{reason} and no --launch/--strictness: using the defaults "
            f"(launch {Launch.PUBLIC.value}, strictness {DEFAULT_STRICTNESS[Launch.PUBLIC].value})",
            file=stdout,
        )

    launch = launch or Launch.PUBLIC
    if strictness is None:
        strictness = choose_strictness(launch, cost, tolerance)
    text = render_config(launch, strictness, cost=cost, tolerance=tolerance)
    load_config_text(text, path.name)  # never write a file the scan would then reject
    _write_atomically(path, text, overwrite=force)

    print(f"wrote {path} (launch {launch.value}, strictness {strictness.value})", file=stdout)
    if (root / "pyproject.toml").is_file() and "[tool.prodaudit]" in (root / "pyproject.toml").read_text(
        encoding="utf-8", errors="replace"
    ):
        print(f"note: {CONFIG_NAME} takes precedence over [tool.prodaudit] in pyproject.toml", file=stdout)
    print("next: prodaudit scan", file=stdout)
    return 0


def _parse(value: Any, enum: type, flag: str) -> Any:
    if value is None or isinstance(value, enum):
        return value
    try:
        return enum(str(value).lower())
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise UsageError(f"{flag}: must be one of {choices} (got {value!r})") from None


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Asker:
    def __init__(self, stdin: IO[str], stdout: IO[str]):
        self.stdin, self.stdout = stdin, stdout

    def choose(self, question: str, options: list[tuple[str, str]], default: str, convert: Any = str) -> Any:
        names = [name for name, _ in options]
        print(question, file=self.stdout)
        for i, (name, help_text) in enumerate(options, 1):
            marker = " (default)" if name == default else ""
            print(f"  {i}. {name}{' - ' + help_text if help_text else ''}{marker}", file=self.stdout)
        for _ in range(5):
            self.stdout.write(f"choice [{default}]: ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                raise UsageError("init cancelled: no answer given")
            picked = _pick(line.strip().lower(), names, default)
            if picked is not None:
                return convert(picked)
            print(f"  please answer 1-{len(names)} or one of: {', '.join(names)}", file=self.stdout)
        raise UsageError("init cancelled: no valid answer after 5 tries")


def _pick(answer: str, names: list[str], default: str) -> str | None:
    if not answer:
        return default
    if answer.isdigit() and 1 <= int(answer) <= len(names):
        return names[int(answer) - 1]
    starts = [n for n in names if n.startswith(answer)]
    return starts[0] if len(starts) == 1 else None


def _write_atomically(path: Path, text: str, overwrite: bool) -> None:
    """Temp file in the same folder, then a rename: a reader never sees half a config."""
    fd, tmp = tempfile.mkstemp(prefix=".prodaudit-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if the file appeared meanwhile: never clobber without --force
            except FileExistsError:
                raise UsageError(f"{path.name} already exists; use --force to overwrite it") from None
            except OSError:  # file systems without hard links
                if path.exists():
                    raise UsageError(f"{path.name} already exists; use --force to overwrite it") from None
                os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def render_config(launch: Launch, strictness: Strictness, cost: str | None = None, tolerance: str | None = None) -> str:
    defaults = Config()
    why = []
    if cost:
        why.append(f"failure would cost: {cost}")
    if tolerance:
        why.append(f"risk tolerance: {tolerance}")
    chosen = f"  # chosen from {', '.join(why)}" if why else ""
    test_paths = "\n".join(f"#   - {p!r}" for p in DEFAULT_TEST_PATHS)
    return f"""\
# prodaudit configuration. Every key is optional; unknown keys are errors.
# Docs: `prodaudit rules list` shows every rule id and name used below.

# What kind of launch this gate protects: internal | beta | public | paid.
# It picks the default strictness (internal: low, beta: medium, public and paid: high);
# paid also escalates high-severity security and data-safety findings at medium confidence.
launch: {launch.value}

# How hard the gate is: low | medium | high (delete the line to use the launch default,
# which is {DEFAULT_STRICTNESS[launch].value} for {launch.value}). What becomes Stop-Ship:
#   high: critical findings (confidence medium or high) and high-severity, high-confidence ones;
#   medium: critical findings (confidence medium or high); low: critical, high-confidence findings.
# A low-confidence rule never stops a ship on its own.
strictness: {strictness.value}{chosen}

# Globs of files to scan; empty means the whole repository (git-tracked and untracked, not ignored).
include: []

# Globs to leave out, on top of the defaults (node_modules/, vendor/, build/, dist/, virtualenvs, ...).
# Excluded files are listed as skipped in every report.
exclude: []

# Files bigger than this many bytes are skipped (reason too-large).
max_file_size: {defaults.max_file_size}

# Globs that mark test code; rules declared `tests: false` do not report there.
# Setting this replaces the defaults, which are:
# test_paths:
{test_paths}

# Per-rule overrides, keyed by rule id or name:
#   enabled: false turns a rule off; category: stop-ship | fix-soon | acceptable-risk
#   pins the category; severity: critical | high | medium | low changes the rule's severity.
# For example (replace the line `rules: {{}}` with):
#   rules:
#     SEC001:                          # or by name: jwt-signature-not-verified
#       category: stop-ship
#     OPS901:
#       enabled: false
rules: {{}}

# Per-phase overrides (security, data-safety, reliability, observability, performance,
# operations): enabled, category.
# For example:
#   phases:
#     observability:
#       category: acceptable-risk
phases: {{}}

# Rule ids or names whose findings are always Stop-Ship, whatever the policy says,
# e.g. stop_ship: [SEC001]
stop_ship: []

# Accepted existing findings (written by `prodaudit baseline`); null: .prodaudit-baseline.json if present.
baseline: null

# Parallel workers for the engines; null: one per CPU.
jobs: null

# Seconds semgrep may spend on one file before it is skipped as too slow.
semgrep_timeout: {defaults.semgrep_timeout}

# Seconds one engine run may take; past it the scan is incomplete (exit 3), never a silent pass.
scan_timeout: {defaults.scan_timeout}

# Optional LLM explanations of findings. Advisory only: never changes a category or the verdict.
# provider: openai (any OpenAI-compatible endpoint, set base_url) | anthropic.
explain:
  enabled: false
  provider: null
  model: null
  base_url: null
  max_findings: {defaults.explain.max_findings}
"""
