"""A JSON report (schema version 1, DESIGN §1.2) read back into a ScanReport, for `prodaudit merge`.

Rule metadata is not in the JSON, so it comes from the catalog by rule id. Every mistake in the
file is a UsageError naming the file and the key, so a broken shard artifact is exit 2, one line.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from prodaudit.errors import UsageError
from prodaudit.model import (
    Category,
    Confidence,
    EngineError,
    Finding,
    Launch,
    Phase,
    Rule,
    Severity,
    Skipped,
    Status,
    Strictness,
    Suppression,
)
from prodaudit.report import SCHEMA_VERSION, ScanReport

_MISSING = object()


class _Reader:
    """Typed access to one report's JSON with errors that say where: `FILE: key 'findings[2].line': ...`."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> UsageError:
        return UsageError(f"invalid report {self.source}: key '{where}': {problem}")

    def get(self, obj: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], where: str) -> Any:
        path = f"{where}.{key}" if where else key
        value = obj.get(key, _MISSING)
        if value is _MISSING:
            raise self.fail(path, "missing")
        accepted = kinds if isinstance(kinds, tuple) else (kinds,)
        # bool is an int in Python; a JSON `true` is never a count or a line.
        if isinstance(value, bool) and bool not in accepted or not isinstance(value, accepted):
            names = " or ".join("null" if k is type(None) else _JSON_NAMES.get(k, k.__name__) for k in accepted)
            raise self.fail(path, f"expected {names}, got {json.dumps(value)[:40]}")
        return value

    def enum(self, obj: Mapping[str, Any], key: str, kind: type[enum.Enum], where: str) -> Any:
        value = self.get(obj, key, str, where)
        try:
            return kind(value)
        except ValueError:
            choices = ", ".join(m.value for m in kind)
            raise self.fail(f"{where}.{key}" if where else key, f"{value!r} is not one of {choices}") from None

    def items(self, obj: Mapping[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, item in enumerate(self.get(obj, key, list, "")):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", "expected an object")
            out.append((f"{key}[{i}]", item))
        return out


_JSON_NAMES = {str: "a string", int: "an integer", bool: "a boolean", list: "a list", dict: "an object"}


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"invalid report {path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"invalid report {path}: not JSON ({exc.msg} at line {exc.lineno})") from None


def load_report(path: Path, catalog: Mapping[str, Rule]) -> ScanReport:
    """The report in `path`; rule ids are looked up in `catalog` (unknown ids are an error)."""
    return report_from_dict(read_json(path), catalog, source=str(path))


def report_from_dict(data: Any, catalog: Mapping[str, Rule], source: str = "<report>") -> ScanReport:
    r = _Reader(source)
    if not isinstance(data, dict):
        raise UsageError(f"invalid report {source}: expected a JSON object (a `prodaudit scan --format json` report)")
    version = r.get(data, "schema_version", int, "")
    if version != SCHEMA_VERSION:
        raise r.fail("schema_version", f"{version} is not supported (this prodaudit reads version {SCHEMA_VERSION})")
    tool = r.get(data, "tool", dict, "")
    engines = r.get(tool, "engines", dict, "tool")
    launch = r.get(data, "launch", dict, "")
    summary = r.get(data, "summary", dict, "")
    files_scanned = r.get(summary, "files_scanned", int, "summary")
    if files_scanned < 0:
        raise r.fail("summary.files_scanned", "must not be negative")
    exit_code = r.get(data, "exit_code", int, "")
    if exit_code not in (0, 1, 3):
        raise r.fail("exit_code", f"{exit_code} is not one of 0, 1, 3")

    findings = [_finding(r, where, item, catalog) for where, item in r.items(data, "findings")]
    errors = [
        EngineError(
            engine=r.get(item, "engine", str, where),
            message=r.get(item, "message", str, where),
            path=r.get(item, "path", (str, type(None)), where),
        )
        for where, item in r.items(data, "errors")
    ]
    if exit_code == 3 and not errors:
        # Fail closed: a report that says its scan was incomplete stays incomplete.
        errors.append(EngineError(engine="prodaudit", message=f"{source} reports an incomplete scan (exit code 3)"))
    skipped = [
        Skipped(
            path=r.get(item, "path", str, where),
            reason=r.get(item, "reason", str, where),
            engine=r.get(item, "engine", (str, type(None)), where),
            detail=r.get(item, "detail", str, where),
        )
        for where, item in r.items(data, "skipped")
    ]
    used = {f.rule_id: catalog[f.rule_id] for f in findings}
    return ScanReport(
        tool_version=r.get(tool, "version", str, "tool"),
        engine_versions={str(k): str(v) for k, v in engines.items()},
        launch=r.enum(launch, "type", Launch, "launch"),
        strictness=r.enum(launch, "strictness", Strictness, "launch"),
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        errors=tuple(errors),
        skipped=tuple(skipped),
        rules=used,
        files_scanned=files_scanned,
        generated_at="",
    )


def _finding(r: _Reader, where: str, item: dict[str, Any], catalog: Mapping[str, Rule]) -> Finding:
    rule_id = r.get(item, "rule_id", str, where)
    if rule_id not in catalog:
        raise r.fail(f"{where}.rule_id", f"unknown rule {rule_id} (not in this prodaudit's catalog; merge with the version that scanned)")
    suppression = r.get(item, "suppression", (dict, type(None)), where)
    if suppression is not None:
        suppression = Suppression(
            reason=r.get(suppression, "reason", str, f"{where}.suppression"),
            expires=r.get(suppression, "expires", (str, type(None)), f"{where}.suppression"),
        )
    cwe = r.get(item, "cwe", list, where)
    if not all(isinstance(c, str) for c in cwe):
        raise r.fail(f"{where}.cwe", "expected a list of strings")
    return Finding(
        rule_id=rule_id,
        rule_name=r.get(item, "rule_name", str, where),
        phase=r.enum(item, "phase", Phase, where),
        category=r.enum(item, "category", Category, where),
        severity=r.enum(item, "severity", Severity, where),
        confidence=r.enum(item, "confidence", Confidence, where),
        path=r.get(item, "path", str, where),
        line=r.get(item, "line", int, where),
        end_line=r.get(item, "end_line", int, where),
        column=r.get(item, "column", int, where),
        message=r.get(item, "message", str, where),
        fix=r.get(item, "fix", str, where),
        cwe=tuple(cwe),
        engine=r.get(item, "engine", str, where),
        fingerprint=r.get(item, "fingerprint", str, where),
        status=r.enum(item, "status", Status, where),
        suppression=suppression,
        new=r.get(item, "new", (bool, type(None)), where),
        explanation=r.get(item, "explanation", (str, type(None)), where),
    )
