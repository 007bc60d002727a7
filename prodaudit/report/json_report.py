"""The JSON report, schema version 1 (DESIGN §1.2). A contract: change its shape, bump the version."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from prodaudit.model import EngineError, Finding, Skipped
from prodaudit.report import SCHEMA_VERSION, ScanReport

SCHEMA_RESOURCE = "report.schema.json"


def finding_dict(finding: Finding) -> dict[str, Any]:
    suppression = None
    if finding.suppression is not None:
        suppression = {"reason": finding.suppression.reason, "expires": finding.suppression.expires}
    return {
        "rule_id": finding.rule_id,
        "rule_name": finding.rule_name,
        "phase": finding.phase.value,
        "category": finding.category.value,
        "severity": finding.severity.value,
        "confidence": finding.confidence.value,
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "column": finding.column,
        "message": finding.message,
        "fix": finding.fix,
        "cwe": list(finding.cwe),
        "engine": finding.engine,
        "fingerprint": finding.fingerprint,
        "status": finding.status.value,
        "suppression": suppression,
        "new": finding.new,
        "explanation": finding.explanation,
    }


def error_dict(error: EngineError) -> dict[str, Any]:
    return {"engine": error.engine, "path": error.path, "message": error.message}


def skipped_dict(skipped: Skipped) -> dict[str, Any]:
    # `engine` and `detail` are additive to §1.2: engine is null when no engine read the file.
    return {"path": skipped.path, "reason": skipped.reason, "engine": skipped.engine, "detail": skipped.detail}


def to_dict(report: ScanReport) -> dict[str, Any]:
    """The report as plain JSON data. Lists are put in a fixed order so output is reproducible."""
    findings = sorted(report.findings, key=lambda f: f.sort_key)
    errors = sorted(report.errors, key=lambda e: (e.engine, e.path or "", e.message))
    skipped = sorted(report.skipped, key=lambda s: (s.path, s.engine or "", s.reason))
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "prodaudit", "version": report.tool_version, "engines": dict(report.engine_versions)},
        "verdict": report.verdict.value,
        "exit_code": report.exit_code,
        "launch": {"type": report.launch.value, "strictness": report.strictness.value},
        "summary": report.summary,
        "phases": report.phases,
        "findings": [finding_dict(f) for f in findings],
        "errors": [error_dict(e) for e in errors],
        "skipped": [skipped_dict(s) for s in skipped],
    }


def render(report: ScanReport, *, indent: int | None = 2, **_options: object) -> str:
    return json.dumps(to_dict(report), indent=indent, sort_keys=True, ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("prodaudit.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the report; read from the package so it works from a wheel."""
    return json.loads(_schema_text())
