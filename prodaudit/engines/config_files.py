"""The "config" engine: structure checks on Dockerfiles, Kubernetes manifests, workflow YAML and SQL,
for rules that must notice something missing, which patterns cannot express.

Config files are few and small, so they are read in this process. A file a check cannot read as
its format (a Helm template, broken YAML) is skipped as `unparseable` and stays visible; a check
that raises anything else is a bug and makes the scan incomplete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from prodaudit.checks.config import CONFIG_CHECKS, ConfigCheck, ConfigUnparseable
from prodaudit.model import EngineError, EngineResult, RawFinding, Rule, Skipped, Target
from prodaudit.pathmatch import rule_applies

ENGINE = "config"


class ConfigEngine:
    name = ENGINE

    def __init__(self, checks: Mapping[str, ConfigCheck] | None = None) -> None:
        self.checks = dict(CONFIG_CHECKS if checks is None else checks)

    def run(self, rules: Sequence[Rule], targets: Sequence[Target], root: Path, jobs: int) -> EngineResult:
        mine = [r for r in rules if r.engine == ENGINE and r.check in self.checks]
        findings: list[RawFinding] = []
        errors: list[EngineError] = []
        skipped: list[Skipped] = []
        for target in targets if mine else ():
            applicable = [r for r in mine if rule_applies(r, target)]
            if not applicable:
                continue
            try:
                text = Path(target.abspath).read_bytes().decode("utf-8")
            except OSError as exc:
                skipped.append(Skipped(target.path, "unreadable", engine=ENGINE, detail=str(exc)[:200]))
                continue
            except UnicodeDecodeError:
                skipped.append(Skipped(target.path, "not-utf8", engine=ENGINE))
                continue
            applicable = [r for r in applicable if not r.prefilter or any(s in text for s in r.prefilter)]
            file_findings, error, skip = _scan_file(target.path, text, applicable, self.checks)
            findings.extend(file_findings)
            if error is not None:
                errors.append(error)
            if skip is not None:
                skipped.append(skip)
        findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
        return EngineResult(findings=tuple(findings), errors=tuple(errors), skipped=tuple(skipped))


def _scan_file(
    path: str, text: str, rules: Sequence[Rule], checks: Mapping[str, ConfigCheck]
) -> tuple[list[RawFinding], EngineError | None, Skipped | None]:
    findings: list[RawFinding] = []
    hits_by_check: dict[str, list] = {}
    skip: Skipped | None = None
    for rule in rules:
        name = rule.check or ""
        if name not in hits_by_check:
            try:
                hits_by_check[name] = checks[name](text, path)
            except ConfigUnparseable as exc:
                # Only this check is blind here: other checks of the file (e.g. a dialect-agnostic
                # SQL reader next to the PostgreSQL parser) still report, and the skip stays visible.
                hits_by_check[name] = []
                skip = skip or Skipped(path, "unparseable", engine=ENGINE, detail=str(exc)[:200])
            except Exception as exc:  # a bug in the check: fail closed, name it
                return [], EngineError(ENGINE, f"check {name} crashed: {type(exc).__name__}: {exc}", path=path), None
        for line, column, end_line, end_column, message in hits_by_check[name]:
            findings.append(RawFinding(rule.id, path, line, column, end_line, end_column, message, ENGINE))
    return findings, None, skip
