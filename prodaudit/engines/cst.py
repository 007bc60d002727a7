"""LibCST engine: every check a file needs runs in one batched traversal of one parse.

LibCST parses about ten times slower than `ast`, so the engine does as little parsing as it can:
a file is parsed only when some rule applies to it and the rule's prefilter strings occur in its
text; results are cached by content; and many files are spread over a process pool. A check that
raises is a bug in prodaudit and is reported as an engine error (the scan fails closed)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

import libcst
from libcst.metadata import MetadataWrapper

import prodaudit
from prodaudit import yamlutil
from prodaudit.checks import CHECKS, Check, CheckCrash, Report
from prodaudit.errors import UsageError
from prodaudit.model import EngineError, EngineResult, RawFinding, Rule, Skipped, Target
from prodaudit.pathmatch import rule_applies

ENGINE = "cst"
# Below this much source to parse (about a second of LibCST work), starting worker processes
# costs more than it saves.
PARALLEL_MIN_BYTES = 400_000


@dataclass(frozen=True)
class _Job:
    path: str
    source: bytes
    checks: tuple[str, ...]
    abspath: str = ""


@dataclass(frozen=True)
class _Outcome:
    """What scanning one file produced: reports, or a skip, or a crash message."""

    reports: tuple[Report, ...] = ()
    skip_reason: str = ""
    skip_detail: str = ""
    error: str = ""

    def to_json(self) -> dict:
        return {
            "reports": [[r.check, r.line, r.column, r.end_line, r.end_column, r.message] for r in self.reports],
            "skip": [self.skip_reason, self.skip_detail] if self.skip_reason else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> _Outcome:
        skip = data.get("skip") or ["", ""]
        return cls(reports=tuple(Report(*r) for r in data["reports"]), skip_reason=skip[0], skip_detail=skip[1])


@dataclass(frozen=True)
class CstStats:
    """How much work the last run did; for benchmarks and `--verbose`."""

    python_files: int = 0
    candidates: int = 0  # files some rule applies to and whose text passes a prefilter
    cache_hits: int = 0
    parsed: int = 0
    workers: int = 0  # 0: parsed in this process
    seconds: float = 0.0


class CstEngine:
    name = ENGINE

    def __init__(
        self,
        cache_dir: Path | None = None,
        checks: Mapping[str, type[Check]] | None = None,
        parallel_min_bytes: int = PARALLEL_MIN_BYTES,
    ) -> None:
        self.cache_dir = Path(cache_dir) / ENGINE if cache_dir is not None else None
        self.checks = dict(CHECKS if checks is None else checks)
        self.parallel_min_bytes = parallel_min_bytes
        self.stats = CstStats()

    def run(self, rules: Sequence[Rule], targets: Sequence[Target], root: Path, jobs: int) -> EngineResult:
        started = time.perf_counter()
        mine = [r for r in rules if r.engine == ENGINE and r.check in self.checks]
        python = [t for t in targets if t.language == "python"]
        done, pending, skipped = self._plan(python if mine else [], mine)
        hits, workers = len(done), 0
        if pending:
            try:
                outcomes, workers = self._scan_all([job for job, _, _ in pending], jobs)
            except Exception as exc:  # a broken worker pool: nothing after it can be trusted
                message = f"worker pool failed: {type(exc).__name__}: {_one_line(str(exc))}"
                if "bootstrapping" in str(exc):
                    message += " (a script that starts a scan needs an `if __name__ == '__main__':` guard)"
                return EngineResult(errors=(EngineError(ENGINE, message),), skipped=tuple(skipped))
            for (job, key, applicable), outcome in zip(pending, outcomes):
                if not outcome.error:
                    self._cache_put(key, outcome)
                done.append((job.path, outcome, applicable))

        findings: list[RawFinding] = []
        errors: list[EngineError] = []
        for path, outcome, applicable in done:
            if outcome.error:
                errors.append(EngineError(ENGINE, outcome.error, path=path))
            elif outcome.skip_reason:
                skipped.append(Skipped(path, outcome.skip_reason, engine=None, detail=outcome.skip_detail))
            findings.extend(_findings(path, outcome.reports, applicable))
        self.stats = CstStats(
            python_files=len(python),
            candidates=len(done),
            cache_hits=hits,
            parsed=len(pending),
            workers=workers,
            seconds=round(time.perf_counter() - started, 3),
        )
        findings.sort(key=lambda f: (f.path, f.line, f.column, f.rule_id))
        return EngineResult(findings=tuple(findings), errors=tuple(errors), skipped=tuple(skipped))

    def _plan(
        self, python: Sequence[Target], mine: Sequence[Rule]
    ) -> tuple[list[tuple[str, _Outcome, list[Rule]]], list[tuple[_Job, str, list[Rule]]], list[Skipped]]:
        """Which files need which checks: (cached outcomes, files to parse with their cache keys, skips)."""
        done: list[tuple[str, _Outcome, list[Rule]]] = []
        pending: list[tuple[_Job, str, list[Rule]]] = []
        skipped: list[Skipped] = []
        salt = _cache_salt(tuple(sorted({c.__module__ for c in self.checks.values()})))
        digests: dict[str, str] = {}  # the other files some checks read, each hashed once per run
        for target in python:
            applicable = [r for r in mine if rule_applies(r, target)]
            if not applicable:
                continue  # not even read
            try:
                source = Path(target.abspath).read_bytes()
            except OSError as exc:
                skipped.append(Skipped(target.path, "unreadable", engine=ENGINE, detail=_one_line(str(exc))))
                continue
            try:
                text = source.decode("utf-8")
            except UnicodeDecodeError:
                skipped.append(Skipped(target.path, "not-utf8", engine=ENGINE))
                continue
            # The cheap prefilter: a rule with prefilter strings needs one of them in the text.
            applicable = [r for r in applicable if not r.prefilter or any(s in text for s in r.prefilter)]
            if not applicable:
                continue
            check_names = tuple(sorted({r.check for r in applicable if r.check}))
            inputs = sorted({str(p) for name in check_names for p in self.checks[name].inputs(Path(target.abspath))})
            key = _cache_key(source + _inputs_digest(inputs, digests).encode(), check_names, salt)
            cached = self._cache_get(key)
            if cached is not None:
                done.append((target.path, cached, applicable))
            else:
                pending.append((_Job(target.path, source, check_names, target.abspath), key, applicable))
        return done, pending, skipped

    def _scan_all(self, jobs_list: list[_Job], jobs: int) -> tuple[list[_Outcome], int]:
        scan = partial(_scan, checks=self.checks)
        size = sum(len(job.source) for job in jobs_list)
        if jobs <= 1 or len(jobs_list) < 2 or size < self.parallel_min_bytes:
            return [scan(job) for job in jobs_list], 0
        workers = min(jobs, len(jobs_list))
        # Big files first so one large file does not finish last; results keep the input order.
        order = sorted(range(len(jobs_list)), key=lambda i: -len(jobs_list[i].source))
        chunk = max(1, len(jobs_list) // (workers * 8))
        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            results = list(pool.map(scan, [jobs_list[i] for i in order], chunksize=chunk))
        outcomes: list[_Outcome] = [_Outcome()] * len(jobs_list)
        for i, outcome in zip(order, results):
            outcomes[i] = outcome
        return outcomes, workers

    def _cache_get(self, key: str) -> _Outcome | None:
        if self.cache_dir is None:
            return None
        try:
            data = json.loads((self.cache_dir / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
            return _Outcome.from_json(data)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or damaged: scan again

    def _cache_put(self, key: str, outcome: _Outcome) -> None:
        if self.cache_dir is None:
            return
        folder = self.cache_dir / key[:2]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(outcome.to_json(), fh)
                os.replace(tmp, folder / f"{key}.json")  # atomic: readers see all or nothing
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass  # a cache that cannot be written only costs time


def _scan(job: _Job, checks: Mapping[str, type[Check]]) -> _Outcome:
    """Parse one file once and run all its checks in one batched traversal. Runs in a worker."""
    try:
        module = libcst.parse_module(job.source)
    except libcst.ParserSyntaxError as exc:
        # LibCST's native parser places errors near, not always at, the offending token.
        return _Outcome(skip_reason="unparseable", skip_detail=_one_line(f"near line {exc.raw_line}: {exc.message}"))
    except RecursionError:
        return _Outcome(skip_reason="unparseable", skip_detail="nested too deeply for the LibCST parser")
    except Exception as exc:  # the native parser raises other types on odd input
        return _Outcome(skip_reason="unparseable", skip_detail=_one_line(f"{type(exc).__name__}: {exc}"))
    try:
        visitors = [checks[name]() for name in job.checks]
        for visitor in visitors:
            visitor.path = Path(job.abspath) if job.abspath else None
        MetadataWrapper(module, unsafe_skip_copy=True).visit_batched(visitors)
    except CheckCrash as exc:
        return _Outcome(error=str(exc))
    except Exception as exc:  # metadata resolution or a check's constructor: still our bug
        return _Outcome(error=f"LibCST traversal failed ({', '.join(job.checks)}): {type(exc).__name__}: {exc}")
    reports = [r for v in visitors for r in v.reports]
    reports.sort(key=lambda r: (r.line, r.column, r.check, r.end_line, r.end_column, r.message))
    return _Outcome(reports=tuple(reports))


def _findings(path: str, reports: Sequence[Report], applicable: Sequence[Rule]) -> list[RawFinding]:
    out = []
    for report in reports:
        for rule in applicable:
            if rule.check == report.check:
                out.append(
                    RawFinding(
                        rule.id, path, report.line, report.column, report.end_line, report.end_column,
                        report.message, ENGINE,
                    )
                )
    return out


def _pool_context():
    # A forkserver starts workers from a clean single-threaded process (the scan runs engines in
    # threads, and forking a threaded process can deadlock); LibCST is preloaded there once.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["prodaudit.engines.cst"])
        return ctx
    return multiprocessing.get_context("spawn")


def _inputs_digest(paths: Sequence[str], digests: dict[str, str]) -> str:
    """One digest of the names and contents of the other files the checks read ("" for none)."""
    if not paths:
        return ""
    for path in paths:
        if path not in digests:
            try:
                with open(path, "rb") as fh:
                    digests[path] = hashlib.sha256(fh.read()).hexdigest()
            except OSError:
                digests[path] = "unreadable"
    joined = "\0".join(f"{p}\0{digests[p]}" for p in paths)
    return "\0inputs\0" + hashlib.sha256(joined.encode()).hexdigest()


def _cache_key(source: bytes, check_names: tuple[str, ...], salt: str) -> str:
    digest = hashlib.sha256(salt.encode())
    digest.update("\0".join(check_names).encode() + b"\0")
    digest.update(source)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _cache_salt(check_modules: tuple[str, ...]) -> str:
    """prodaudit and LibCST versions, plus a digest of the check sources: editing a check in a
    checkout invalidates its cached results even when the version number did not change."""
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    try:
        libcst_version = version("libcst")
    except PackageNotFoundError:  # pragma: no cover
        libcst_version = "unknown"
    digest = hashlib.sha256(f"{prodaudit.__version__}\0{libcst_version}\0".encode())
    files = [getattr(importlib.import_module(name), "__file__", None) for name in (*check_modules, __name__)]
    # Every module of prodaudit.checks: the helpers the checks use decide what they report too.
    files += sorted(str(p) for p in Path(importlib.import_module("prodaudit.checks").__file__).parent.glob("*.py"))
    for file in dict.fromkeys(f for f in files if f):
        try:
            digest.update(Path(file).read_bytes())
        except OSError:
            digest.update(file.encode())
    return digest.hexdigest()


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0][:200] if lines else ""


def validate_check_names(rules: Sequence[Rule]) -> None:
    """A rule naming a check that does not exist is a rule-pack error (exit 2), found at load time."""
    from prodaudit.checks.config import CONFIG_CHECKS

    known_by_engine: dict[str, Mapping[str, object]] = {ENGINE: CHECKS, "config": CONFIG_CHECKS}
    for rule in rules:
        known = known_by_engine.get(rule.engine)
        if known is None or rule.check in known:
            continue
        where = rule.source
        try:
            line = yamlutil.line_of(Path(rule.source).read_text(encoding="utf-8"), ("check",))
        except OSError:
            line = None
        if line:
            where = f"{rule.source}:{line}"
        raise UsageError(
            f"invalid rule file {where}: key 'check': unknown check '{rule.check}' "
            f"(known: {', '.join(sorted(known))})"
        )
