"""The scan pipeline: config -> targets -> engines (in parallel) -> findings -> suppressions/baseline -> policy."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from prodaudit import __version__, catalog, suppress
from prodaudit.baseline import apply_baseline, load_baseline
from prodaudit.config import Config, check_rule_refs
from prodaudit.errors import ScanIncomplete, UsageError
from prodaudit.findings import build_findings
from prodaudit.model import (
    DEFAULT_STRICTNESS,
    EngineError,
    EngineResult,
    Launch,
    Rule,
    Strictness,
    Target,
)
from prodaudit.report import ScanReport
from prodaudit.syntax import classify_python
from prodaudit.targets import select_targets

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScanOptions:
    root: Path
    config: Config
    config_source: str | None = None  # the file the config came from, for error messages
    paths: tuple[Path, ...] = ()
    launch: Launch | None = None  # CLI override of the config
    strictness: Strictness | None = None
    jobs: int = 0  # 0: one per core
    cache_dir: Path | None = None
    baseline: Path | None = None
    rules_dir: Path | None = None  # tests point this at a scratch catalog
    only_rules: tuple[str, ...] = ()  # limit the run to these rule ids (the examples runner)
    shard: tuple[int, int] | None = None  # (K, N): scan only the K-th of N stable slices of the targets
    today: dt.date = field(default_factory=dt.date.today)


def make_engines(options: ScanOptions) -> list:
    from prodaudit.engines.bandit import BanditEngine
    from prodaudit.engines.config_files import ConfigEngine
    from prodaudit.engines.cst import CstEngine
    from prodaudit.engines.project import ProjectEngine
    from prodaudit.engines.semgrep import SemgrepEngine

    cfg = options.config
    return [
        SemgrepEngine(per_file_timeout=cfg.semgrep_timeout, scan_timeout=cfg.scan_timeout),
        CstEngine(cache_dir=options.cache_dir),
        BanditEngine(scan_timeout=cfg.scan_timeout),
        ConfigEngine(),
        ProjectEngine(cfg),
    ]


def engine_versions() -> dict[str, str]:
    """Installed engine versions, from package metadata (asking `semgrep --version` costs seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("semgrep", "bandit", "libcst"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def active_rules(rules: Sequence[Rule], config: Config, only: Sequence[str] = ()) -> list[Rule]:
    out = []
    for rule in rules:
        if only and rule.id not in only:
            continue
        override = config.rules.get(rule.id) or config.rules.get(rule.name)
        phase_override = config.phases.get(rule.phase)
        if override is not None and not override.enabled:
            continue
        if phase_override is not None and not phase_override.enabled and override is None:
            continue
        out.append(rule)
    return out


def run_scan(options: ScanOptions, progress: Progress | None = None) -> ScanReport:
    say = progress or (lambda _msg: None)
    config = options.config
    all_rules = catalog.load_catalog(options.rules_dir)
    _validate_engine_bodies(all_rules)
    check_rule_refs(config, all_rules, source=options.config_source)
    rules = active_rules(all_rules, config, options.only_rules)
    launch = options.launch or config.launch
    strictness = options.strictness or config.strictness or DEFAULT_STRICTNESS[launch]
    jobs = options.jobs or os.cpu_count() or 1

    say("selecting files")
    targets, skipped = select_targets(options.root, list(options.paths), config)
    if options.shard is not None:  # other shards' files are theirs to scan and to report as skipped
        targets = [t for t in targets if in_shard(t.path, options.shard)]
        skipped = [s for s in skipped if in_shard(s.path, options.shard)]
    unparseable, syntax_skips = classify_python(targets)
    skipped = [*skipped, *syntax_skips]
    readable = [t for t in targets if t.path not in unparseable]
    bandit_blind = {s.path for s in syntax_skips if s.engine == "bandit"}

    say(f"scanning {len(readable)} files with {len(rules)} rules")
    results = _run_engines(options, rules, readable, bandit_blind, jobs)

    errors = [e for r in results for e in r.errors]
    skipped.extend(s for r in results for s in r.skipped)
    by_path = {t.path: t for t in readable}
    rules_by_id = {r.id: r for r in rules}
    builtin = {r.id: r for r in all_rules if r.engine == "builtin"}
    raw = [f for r in results for f in r.findings]

    findings = build_findings(
        raw, by_path, rules_by_id, builtin, config, launch, strictness, options.root, options.today
    )
    notes: list[str] = []
    if options.baseline is not None:
        findings, stale = apply_baseline(findings, load_baseline(options.baseline))
        if stale and not options.paths:  # a partial scan cannot tell stale entries from unscanned ones
            notes.append(f"{stale} baseline entr{'y' if stale == 1 else 'ies'} matched no finding (fixed or changed); "
                         "refresh the file with `prodaudit baseline`")

    return ScanReport(
        tool_version=__version__,
        engine_versions=engine_versions(),
        launch=launch,
        strictness=strictness,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        errors=tuple(errors),
        skipped=tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason, s.engine or ""))),
        rules={**rules_by_id, **builtin},
        files_scanned=len(readable),
        generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        root=str(options.root),
        notes=tuple(notes),
    )


def _validate_engine_bodies(rules: Sequence[Rule]) -> None:
    from prodaudit.engines.cst import validate_check_names

    validate_check_names(rules)


def _run_engines(
    options: ScanOptions, rules: list[Rule], targets: list[Target], bandit_blind: set[str], jobs: int
) -> list[EngineResult]:
    engines = make_engines(options)

    def run_one(engine) -> EngineResult:
        engine_targets = [t for t in targets if t.path not in bandit_blind] if engine.name == "bandit" else targets
        try:
            return engine.run(rules, engine_targets, options.root, jobs)
        except (ScanIncomplete, UsageError):
            raise
        except Exception as exc:  # an adapter bug must not pass silently: the scan is incomplete
            return EngineResult(errors=(EngineError(engine=engine.name, message=f"{type(exc).__name__}: {exc}"),))

    with ThreadPoolExecutor(max_workers=len(engines)) as pool:
        futures = [pool.submit(run_one, e) for e in engines]
        results = []
        for engine, future in zip(engines, futures):
            try:
                results.append(future.result())
            except ScanIncomplete as exc:
                results.append(EngineResult(errors=(EngineError(engine=engine.name, message=str(exc)),)))
    return results


def empty_report(options: ScanOptions) -> ScanReport:
    """The report of a scan with nothing to scan (an empty diff): READY, nothing skipped."""
    launch = options.launch or options.config.launch
    return ScanReport(
        tool_version=__version__,
        engine_versions=engine_versions(),
        launch=launch,
        strictness=options.strictness or options.config.strictness or DEFAULT_STRICTNESS[launch],
        findings=(),
        errors=(),
        skipped=(),
        rules={},
        files_scanned=0,
        generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        root=str(options.root),
    )


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` from --shard, 1 <= K <= N."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise UsageError(f"--shard must be K/N with 1 <= K <= N (e.g. 1/4), got {text!r}")
    return int(k), int(n)


def in_shard(path: str, shard: tuple[int, int]) -> bool:
    """A hash of the path alone, so a file keeps its shard however many other files come and go."""
    k, n = shard
    return int.from_bytes(hashlib.sha256(path.encode("utf-8")).digest()[:8], "big") % n == k - 1
