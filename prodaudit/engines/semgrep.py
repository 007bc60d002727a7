"""Semgrep adapter: one subprocess per scan over a generated config, JSON in, RawFindings out.

Semgrep is run only through its command line and JSON output (never imported), with metrics and
the version check off, on explicit target files so the scan root's `.semgrepignore` cannot drop
files prodaudit chose."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path

from prodaudit.errors import ScanIncomplete, UsageError
from prodaudit.model import EngineError, EngineResult, RawFinding, Rule, Skipped, Target
from prodaudit.pathmatch import rule_applies

_PARSE_ERROR_TYPES = ("Syntax error", "Lexical error", "PartialParsing", "Other syntax error", "Parse error")
_SEVERITY = {"critical": "ERROR", "high": "ERROR", "medium": "WARNING", "low": "INFO"}
_LANG = {"python": "python", "javascript": "javascript", "typescript": "typescript", "dockerfile": "dockerfile",
         "yaml": "yaml", "generic": "generic", "json": "json", "sql": "generic"}


def find_semgrep() -> str:
    """`PRODAUDIT_SEMGREP` if set, else semgrep on PATH, else the one installed beside this Python."""
    explicit = os.environ.get("PRODAUDIT_SEMGREP")
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise UsageError(f"semgrep not found: PRODAUDIT_SEMGREP={explicit} is not an executable")
        return found
    found = shutil.which("semgrep") or shutil.which("semgrep", path=sysconfig.get_path("scripts"))
    if not found:
        raise UsageError("semgrep not found on PATH; install prodaudit with its dependencies (pip install prodaudit)")
    return found


def build_config(rules: Sequence[Rule]) -> dict:
    """One semgrep config holding every semgrep rule; the semgrep rule id is the prodaudit id."""
    out = []
    for rule in rules:
        body = dict(rule.semgrep or {})
        body.setdefault("message", rule.title)
        out.append(
            {
                "id": rule.id,
                "languages": sorted({_LANG[lang] for lang in rule.languages}),
                "severity": _SEVERITY[rule.severity.value],
                **body,
            }
        )
    return {"rules": out}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["SEMGREP_SEND_METRICS"] = "off"
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env.pop("SEMGREP_APP_TOKEN", None)
    return env


class SemgrepEngine:
    name = "semgrep"

    def __init__(self, per_file_timeout: int = 30, scan_timeout: int = 1800) -> None:
        self.per_file_timeout = per_file_timeout
        self.scan_timeout = scan_timeout

    def run(self, rules: Sequence[Rule], targets: Sequence[Target], root: Path, jobs: int) -> EngineResult:
        rules = [r for r in rules if r.engine == "semgrep"]
        wanted = [t for t in targets if any(rule_applies(r, t) for r in rules)]
        if not rules or not wanted:
            return EngineResult()
        executable = find_semgrep()
        with tempfile.TemporaryDirectory(prefix="prodaudit-semgrep-") as tmp:
            config = Path(tmp) / "rules.json"
            config.write_text(json.dumps(build_config(rules)), encoding="utf-8")
            aliases = _dockerfile_aliases(wanted, Path(tmp))
            cmd = [
                executable, "scan", "--metrics=off", "--disable-version-check", "--json", "--quiet",
                "--config", str(config), "--timeout", str(self.per_file_timeout), "--timeout-threshold", "3",
                "--jobs", str(max(jobs, 1)), "--max-target-bytes", "0", "--no-git-ignore",
            ]
            # Chunk long target lists to stay under the OS argument-length limit.
            results: list[dict] = []
            errors: list[dict] = []
            for chunk in _chunks([aliases.get(t.path, t.path) for t in wanted], 4000):
                data = self._invoke([*cmd, "--", *chunk], root)
                results.extend(data.get("results", []))
                errors.extend(data.get("errors", []))
        back = {alias: path for path, alias in aliases.items()}
        return _convert(results, errors, {r.id for r in rules}, back)

    def _invoke(self, cmd: list[str], root: Path) -> dict:
        try:
            proc = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, timeout=self.scan_timeout, env=_env(), stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired:
            raise ScanIncomplete(f"semgrep timed out after {self.scan_timeout}s") from None
        except OSError as exc:
            raise ScanIncomplete(f"semgrep could not start: {exc}") from None
        try:
            data = json.loads(proc.stdout)
        except json.JSONDecodeError:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ScanIncomplete(f"semgrep failed (exit {proc.returncode}): {tail[0][:300]}") from None
        if proc.returncode not in (0, 1) and not data.get("results") and data.get("errors"):
            first = data["errors"][0]
            raise ScanIncomplete(f"semgrep failed (exit {proc.returncode}): {_error_text(first)[:300]}")
        return data


def _dockerfile_aliases(targets: Sequence[Target], tmp: Path) -> dict[str, str]:
    """Semgrep recognises only `Dockerfile` and `*.dockerfile` names, even for explicit targets, so
    `Dockerfile.prod` or `Containerfile` are handed to it as copies under a `.dockerfile` name."""
    aliases = {}
    for i, t in enumerate(targets):
        name = Path(t.path).name
        if t.language == "dockerfile" and name != "Dockerfile" and not name.lower().endswith(".dockerfile"):
            alias = tmp / "dockerfiles" / f"{i}.dockerfile"
            alias.parent.mkdir(exist_ok=True)
            shutil.copyfile(t.abspath, alias)
            aliases[t.path] = str(alias)
    return aliases


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _error_text(error: dict) -> str:
    return str(error.get("message") or error.get("type") or error).strip().splitlines()[0] if error else "unknown error"


def _error_type(error: dict) -> str:
    kind = error.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else ""
    return str(kind or "")


def _convert(results: list[dict], errors: list[dict], rule_ids: set[str], back: dict[str, str]) -> EngineResult:
    def path_of(raw: str) -> str:
        return back.get(raw) or Path(raw).as_posix()

    findings = []
    for r in results:
        rule_id = r.get("check_id", "").rsplit(".", 1)[-1]
        if rule_id not in rule_ids:
            continue
        findings.append(
            RawFinding(
                rule_id=rule_id,
                path=path_of(r["path"]),
                line=r["start"]["line"],
                column=r["start"]["col"],
                end_line=r["end"]["line"],
                end_column=r["end"]["col"],
                message=(r.get("extra") or {}).get("message", "").strip(),
                engine="semgrep",
            )
        )
    skipped, engine_errors = [], []
    for e in errors:
        kind = _error_type(e)
        path = path_of(e["path"]) if e.get("path") else None
        if path and any(kind.startswith(t) for t in _PARSE_ERROR_TYPES):
            skipped.append(Skipped(path=path, reason="unparseable", engine="semgrep", detail=_error_text(e)[:200]))
        elif e.get("level") == "warn" and path and kind not in ("Timeout", "OutOfMemory"):
            # Warnings about a single target (e.g. too many matches) do not make the scan incomplete.
            skipped.append(Skipped(path=path, reason="engine-warning", engine="semgrep", detail=f"{kind}: {_error_text(e)[:200]}"))
        else:
            engine_errors.append(EngineError(engine="semgrep", path=path, message=f"{kind}: {_error_text(e)}"[:500]))
    return EngineResult(findings=tuple(findings), errors=tuple(engine_errors), skipped=tuple(skipped))
