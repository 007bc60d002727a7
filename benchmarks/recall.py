"""Security recall on public, intentionally vulnerable apps: which of their documented vulnerabilities prodaudit finds.

    python benchmarks/recall.py [--app NAME[=PATH] ...] [--format text|markdown] [--verbose] [--update FILE]

Each app has a label file, benchmarks/recall/labels/<app>.yml: its known (documented) vulnerabilities, each with a
class, one or more locations `file[:line[-line]]` relative to the app root, and the doc it comes from; plus
`also_real`, problems we verified in the code that the app's docs do not list. The apps themselves are never
copied here: check them out at the commit named in the label file, under $PRODAUDIT_VULN_DIR (default
/work/corpora/vuln) at the `checkout` folder, or pass NAME=PATH.

prodaudit runs through its CLI (`scan PATH --launch public --format json`, with an empty config so an app's own
config cannot change the result). A finding matches a label when it is in the same file, its lines overlap the
label's range (no range: anywhere in the file), and its rule is of the label's class: the rule's CWE list meets
the class's CWEs below (plus a label's own `cwe:`), or the rule id is listed in the label's `rules:`.
A label counts as found when any finding matches it, and as found at Stop-Ship when a matching finding is one.
Security findings that match no label are listed by rule: on vulpy-good they are false positives.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LABELS = HERE / "recall" / "labels"
VULN_DIR = Path(os.environ.get("PRODAUDIT_VULN_DIR", "/work/corpora/vuln"))
PRODAUDIT = shutil.which("prodaudit", path=str(Path(sys.executable).parent)) or shutil.which("prodaudit") or "prodaudit"
BEGIN, END = "<!-- recall:begin -->", "<!-- recall:end -->"  # the generated block in docs/precision.md

# Vulnerability class -> the CWEs a rule must declare to count for it. CWE-based so new rules count without edits.
CLASS_CWES: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "sqli": ["CWE-89"],
    "nosqli": ["CWE-943"],
    "command-injection": ["CWE-78", "CWE-77"],
    "code-injection": ["CWE-94", "CWE-95"],
    "deserialization": ["CWE-502"],
    "xss": ["CWE-79", "CWE-80", "CWE-83"],
    "ssti": ["CWE-1336"],
    "xxe": ["CWE-611", "CWE-776", "CWE-827"],
    "ssrf": ["CWE-918"],
    "path-traversal": ["CWE-22", "CWE-23", "CWE-36", "CWE-73"],
    "open-redirect": ["CWE-601"],
    "log-injection": ["CWE-117", "CWE-93"],
    "redos": ["CWE-1333"],
    "csrf": ["CWE-352"],
    "debug-enabled": ["CWE-489", "CWE-215", "CWE-11"],
    "hardcoded-secret": ["CWE-798", "CWE-321", "CWE-259", "CWE-547"],
    "weak-password-storage": ["CWE-256", "CWE-257", "CWE-261", "CWE-327", "CWE-328", "CWE-759", "CWE-760", "CWE-916"],
    "weak-random-token": ["CWE-330", "CWE-331", "CWE-338", "CWE-340", "CWE-640"],
    "insecure-cookie": ["CWE-614", "CWE-1004", "CWE-1275", "CWE-315"],
    "session-fixation": ["CWE-384"],
    "client-controlled-auth": ["CWE-565", "CWE-807", "CWE-290", "CWE-302", "CWE-287"],
    "missing-authorization": ["CWE-862", "CWE-863", "CWE-285", "CWE-306", "CWE-284"],
    "idor": ["CWE-639", "CWE-862", "CWE-863", "CWE-284"],
    "mass-assignment": ["CWE-915"],
    "data-exposure": ["CWE-200", "CWE-213", "CWE-359"],
    "missing-security-headers": ["CWE-693", "CWE-1021", "CWE-497"],
    "cleartext-transport": ["CWE-319"],
    "host-header-trust": ["CWE-644"],
}.items()}


@dataclass(frozen=True)
class Where:
    file: str
    start: int | None  # None: the whole file
    end: int | None

    @classmethod
    def parse(cls, text: str) -> Where:
        file, _, lines = text.partition(":")
        if not lines:
            return cls(file, None, None)
        start, _, end = lines.partition("-")
        return cls(file, int(start), int(end or start))

    def covers(self, finding: dict) -> bool:
        if finding["path"] != self.file:
            return False
        if self.start is None:
            return True
        return finding["line"] <= self.end and (finding.get("end_line") or finding["line"]) >= self.start

    def __str__(self) -> str:
        if self.start is None:
            return self.file
        return f"{self.file}:{self.start}" + (f"-{self.end}" if self.end != self.start else "")


@dataclass(frozen=True)
class Label:
    id: str
    cls: str
    where: tuple[Where, ...]
    what: str
    cwes: frozenset[str]
    rules: frozenset[str]

    @classmethod
    def parse(cls, raw: dict, app: str) -> Label:
        if raw["class"] not in CLASS_CWES:
            raise SystemExit(f"{app}: label {raw['id']}: unknown class {raw['class']!r} (add it to CLASS_CWES)")
        at = raw["at"] if isinstance(raw["at"], list) else [raw["at"]]
        return cls(raw["id"], raw["class"], tuple(Where.parse(a) for a in at), raw.get("what", ""),
                   CLASS_CWES[raw["class"]] | frozenset(raw.get("cwe", ())), frozenset(raw.get("rules", ())))

    def matches(self, finding: dict) -> bool:
        kind = finding["rule_id"] in self.rules or bool(self.cwes & set(finding.get("cwe") or ()))
        return kind and any(w.covers(finding) for w in self.where)

    def scannable(self) -> bool:
        """Whether prodaudit reads any of the label's files at all (templates, for one, it does not)."""
        from prodaudit.targets import language_of

        return any(language_of(Path(w.file).name) for w in self.where)


@dataclass(frozen=True)
class App:
    name: str
    path: Path
    repo: str
    commit: str
    known: tuple[Label, ...]
    also_real: tuple[Label, ...]


def load_app(name: str, path: str | None) -> App:
    spec = yaml.safe_load((LABELS / f"{name}.yml").read_text())
    return App(name, Path(path) if path else VULN_DIR / spec["checkout"], spec["repo"], spec["commit"],
               tuple(Label.parse(x, name) for x in spec.get("known") or ()),
               tuple(Label.parse(x, name) for x in spec.get("also_real") or ()))


class ScanFailed(Exception):
    """prodaudit could not produce a report for one app (the others are still measured)."""


def scan(app: App, extra: list[str]) -> dict:
    if not app.path.is_dir():
        raise SystemExit(f"{app.name}: {app.path} is missing; check out {app.repo} at {app.commit[:12]} there")
    for lab in app.known + app.also_real:  # a label that points past the code is a typo or the wrong commit
        for w in lab.where:
            target = app.path / w.file
            if not target.is_file() or (w.end or 0) > len(target.read_bytes().splitlines()):
                raise SystemExit(f"{app.name}: label {lab.id}: {w} is not in {app.path} (wrong commit?)")
    with tempfile.TemporaryDirectory(prefix="prodaudit-recall-") as tmp:
        config, out = Path(tmp) / "empty.yml", Path(tmp) / "report.json"
        config.write_text("")
        cmd = [PRODAUDIT, "scan", str(app.path), "--launch", "public", "--format", "json",
               "--config", str(config), "--output", str(out), *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        if proc.returncode not in (0, 1, 3) or not out.exists():
            raise ScanFailed(f"{app.name}: prodaudit exited {proc.returncode}: {proc.stderr.strip()}")
        report = json.loads(out.read_text())
    # Inside a git checkout the scan root is the repository top, so paths carry the app's folder: strip it.
    prefix = _root_prefix(app.path)
    for f in report["findings"]:
        if prefix and f["path"].startswith(prefix):
            f["path"] = f["path"][len(prefix):]
    return report


def _root_prefix(path: Path) -> str:
    top = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if top.returncode != 0:
        return ""
    rel = path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    return "" if rel == "." else rel + "/"


@dataclass(frozen=True)
class Result:
    app: App
    found: dict[str, list[dict]]        # label id -> matching findings
    unlabelled: list[dict]              # security findings matching no label (false-positive candidates)
    real_extra: list[dict]              # security findings matching an also_real label
    other_phases: int                   # findings of other phases that match no known label
    errors: list[dict]

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.app.known) if self.app.known else float("nan")

    def stop_ship(self) -> int:
        return sum(any(f["category"] == "stop-ship" for f in fs) for fs in self.found.values())


def evaluate(app: App, report: dict) -> Result:
    found: dict[str, list[dict]] = {}
    unlabelled, real_extra, other = [], [], 0
    for f in report["findings"]:
        hits = [lab for lab in app.known if lab.matches(f)]
        for lab in hits:
            found.setdefault(lab.id, []).append(f)
        if hits:
            continue
        if not f["rule_id"].startswith("SEC"):
            other += 1
        elif any(lab.matches(f) for lab in app.also_real):
            real_extra.append(f)
        else:
            unlabelled.append(f)
    return Result(app, found, unlabelled, real_extra, other, report.get("errors") or [])


def by_rule(findings: list[dict]) -> str:
    counts = Counter(f["rule_id"] for f in findings)
    return ", ".join(f"{r} ×{n}" for r, n in sorted(counts.items())) or "none"


def pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.0f}%"


class Doc:
    """Headings, tables and code spans, as Markdown or as plain text."""

    def __init__(self, markdown: bool) -> None:
        self.markdown, self.lines = markdown, []

    def heading(self, text: str, level: int = 3) -> None:
        self.lines += [f"{'#' * level} {text}", ""] if self.markdown else [text, "=-"[level > 3] * len(text)]

    def code(self, text: str) -> str:
        return f"`{text}`" if self.markdown else text

    def table(self, head: list[str], rows: list[list[str]]) -> None:
        if self.markdown:
            self.lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
            self.lines += ["| " + " | ".join(r) + " |" for r in rows]
        else:
            widths = [max(len(x) for x in col) for col in zip(head, *rows)]
            self.lines += ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in [head, *rows]]
        self.lines.append("")


def render(results: list[Result], markdown: bool, verbose: bool) -> str:
    doc = Doc(markdown)
    known = sum(len(r.app.known) for r in results)
    found = sum(len(r.found) for r in results)
    doc.heading("Summary")
    doc.table(["app", "source", "known", "found", "recall", "found at Stop-Ship", "unlabelled SEC findings",
               "SEC findings on undocumented real issues"],
              [[r.app.name, f"{r.app.repo.removeprefix('https://github.com/')}@{r.app.commit[:12]}",
                str(len(r.app.known)), str(len(r.found)), pct(r.recall), str(r.stop_ship()),
                str(len(r.unlabelled)), str(len(r.real_extra))] for r in results]
              + [["all", "", str(known), str(found), pct(found / known if known else float("nan")),
                  str(sum(r.stop_ship() for r in results)), str(sum(len(r.unlabelled) for r in results)),
                  str(sum(len(r.real_extra) for r in results))]])

    per_class: dict[str, list[int]] = {}   # class -> [known, found]
    missed_in: dict[str, set[str]] = {}
    for r in results:
        for lab in r.app.known:
            tally = per_class.setdefault(lab.cls, [0, 0])
            tally[0] += 1
            if lab.id in r.found:
                tally[1] += 1
            else:
                missed_in.setdefault(lab.cls, set()).add(r.app.name)
    doc.heading("By class (most missed first)")
    doc.table(["class", "known", "found", "missed", "missed in"],
              [[c, str(k), str(f), str(k - f), ", ".join(sorted(missed_in.get(c, ())))]
               for c, (k, f) in sorted(per_class.items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0]))])

    for r in results:
        doc.heading(f"{r.app.name}: {len(r.found)}/{len(r.app.known)} found ({pct(r.recall)})", 4)
        if r.errors:
            msgs = sorted({f"{e['engine']}: {e['message'][:120]}" for e in r.errors})
            doc.lines += [f"Engine errors during the scan (recall is a lower bound): {'; '.join(msgs)}", ""]
        rows = []
        for lab in r.app.known:
            hits = r.found.get(lab.id, [])
            by = ", ".join(sorted({f"{f['rule_id']} ({f['category']})" for f in hits}))
            where = doc.code(str(lab.where[0])) + (" …" if len(lab.where) > 1 else "")
            rows.append([doc.code(lab.id), lab.cls, where,
                         by or ("missed" if lab.scannable() else "missed (file type not scanned)")])
        if rows:
            doc.table(["label", "class", "where", "found by"], rows)
        doc.lines.append(f"Security findings matching no label: {by_rule(r.unlabelled)}.")
        if r.real_extra:
            doc.lines.append(f"On real but undocumented issues: {by_rule(r.real_extra)}.")
        doc.lines += [f"Findings of other phases matching no label: {r.other_phases}.", ""]
        if verbose and r.unlabelled:
            doc.lines += [f"- {doc.code(f['path'] + ':' + str(f['line']))} {f['rule_id']} {f['category']}"
                          for f in sorted(r.unlabelled, key=lambda f: (f["path"], f["line"], f["rule_id"]))]
            doc.lines.append("")
    return "\n".join(doc.lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", default=[], metavar="NAME[=PATH]",
                        help="app to measure (default: every label file), optionally at PATH")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--verbose", action="store_true", help="list every unlabelled security finding")
    parser.add_argument("--no-cache", action="store_true", help="pass --no-cache to prodaudit")
    parser.add_argument("--update", type=Path, metavar="FILE",
                        help=f"write the markdown results into FILE between {BEGIN} and {END}")
    args = parser.parse_args(argv)
    wanted = [a.partition("=") for a in args.app] or [(p.stem, "", "") for p in sorted(LABELS.glob("*.yml"))]
    apps = [load_app(name, path or None) for name, _, path in wanted]

    def run(app: App) -> dict | ScanFailed:
        try:
            return scan(app, ["--no-cache"] if args.no_cache else [])
        except ScanFailed as exc:
            return exc

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, apps))
    failed = [r for r in reports if isinstance(r, ScanFailed)]
    for exc in failed:
        print(exc, file=sys.stderr)
    if failed and args.update:
        raise SystemExit(f"{args.update} not updated: {len(failed)} scan(s) failed")
    results = [evaluate(a, r) for a, r in zip(apps, reports) if not isinstance(r, ScanFailed)]
    if args.update:
        text = args.update.read_text()
        head, _, rest = text.partition(BEGIN)
        _, found, tail = rest.partition(END)
        if not found:
            raise SystemExit(f"{args.update}: no {BEGIN} ... {END} block to replace")
        args.update.write_text(f"{head}{BEGIN}\n{render(results, True, args.verbose)}\n{END}{tail}")
    else:
        print(render(results, args.format == "markdown", args.verbose))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
